"""The `Idempotent` dependency on a POST that uses its defaults, as orders and imports will."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tests.helpers import assert_error, register
from ticaret.core.db import DbSession
from ticaret.core.deps import Agent
from ticaret.core.envelope import Envelope, ok
from ticaret.core.errors import install_error_handlers
from ticaret.core.idempotency import Idempotent

made: list[dict[str, Any]] = []


class Draft(BaseModel):
    total: str
    lines: list[str]


def _orders_app() -> FastAPI:
    orders = FastAPI()
    install_error_handlers(orders)

    @orders.post(
        "/orders", status_code=status.HTTP_201_CREATED, response_model=Envelope[dict[str, Any]]
    )
    async def create_order(
        body: Draft, ctx: Agent, session: DbSession, idempotency: Idempotent
    ) -> Envelope[dict[str, Any]] | JSONResponse:
        async def create() -> Envelope[dict[str, Any]]:
            made.append(body.model_dump())
            return ok({"number": len(made), **body.model_dump()})

        return await idempotency.run(session, ctx.account_id, create, status_code=201)

    return orders


@pytest.fixture
async def orders(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    made.clear()
    transport = httpx.ASGITransport(app=_orders_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_a_repeated_key_and_body_get_the_first_answer(
    client: httpx.AsyncClient, orders: httpx.AsyncClient
) -> None:
    owner = await register(client)
    h = {**owner.headers, "Idempotency-Key": "order-1"}
    first = await orders.post("/orders", json={"total": "19.90", "lines": ["a"]}, headers=h)
    assert first.status_code == 201, first.text
    # The same JSON spelled differently is the same request.
    again = await orders.post(
        "/orders",
        content=b'{ "lines": ["a"],  "total": "19.90" }',
        headers={**h, "content-type": "application/json"},
    )
    assert again.status_code == 201
    assert (
        again.json()
        == first.json()
        == {
            "status": True,
            "data": {"number": 1, "total": "19.90", "lines": ["a"]},
        }
    )
    assert len(made) == 1


async def test_a_key_reused_with_another_body_is_a_conflict(
    client: httpx.AsyncClient, orders: httpx.AsyncClient
) -> None:
    owner = await register(client)
    h = {**owner.headers, "Idempotency-Key": "order-2"}
    assert (await orders.post("/orders", json={"total": "1", "lines": []}, headers=h)).is_success
    reused = await orders.post("/orders", json={"total": "2", "lines": []}, headers=h)
    assert_error(reused, 409, "idempotency_key_reused")
    assert len(made) == 1


async def test_without_a_key_every_post_runs_and_keys_are_per_account(
    client: httpx.AsyncClient, orders: httpx.AsyncClient
) -> None:
    owner, other = await register(client), await register(client)
    for _ in range(2):
        response = await orders.post(
            "/orders", json={"total": "1", "lines": []}, headers=owner.headers
        )
        assert response.status_code == 201
    body = {"total": "1", "lines": []}
    await orders.post("/orders", json=body, headers={**owner.headers, "Idempotency-Key": "k"})
    theirs = await orders.post(
        "/orders", json=body, headers={**other.headers, "Idempotency-Key": "k"}
    )
    assert theirs.json()["data"]["number"] == 4  # another account's key is another key
    assert len(made) == 4
