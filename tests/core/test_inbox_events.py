"""`emit_many`, the outbox path of an inbox batch's events: one INSERT for all of them, in the
order given, after any event `emit` added before (so `seq`, the delivery order, follows the
order of emission), the same relay after commit, nothing at all on rollback."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.helpers import live_channel, live_events, register, unrelayed_events
from ticaret.catalog.events import PRODUCT_DELETED, ProductRef
from ticaret.core import events
from ticaret.core.db import get_sessionmaker, no_transaction, unit_of_work
from ticaret.core.events import (
    Actor,
    Emission,
    EmittedEvent,
    account_channel,
    emit,
    emit_many,
)
from ticaret.models import Event


async def test_emit_many_keeps_the_order_of_emission_and_relays_after_commit(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    account = uuid.UUID(owner.account_id)
    pubsub = await live_channel(account)
    product = str(uuid.uuid4())

    def ref(sku: str) -> ProductRef:
        return ProductRef(product_id=uuid.UUID(product), sku=sku)

    async with unit_of_work() as session:
        emit(session, PRODUCT_DELETED, ref("first"), account_id=account, actor=Actor.system())
        emitted = await emit_many(
            session,
            [
                Emission(PRODUCT_DELETED, {"productId": product, "sku": "second"}, account),
                Emission(PRODUCT_DELETED, {"productId": product, "sku": "third"}, account),
            ],
            actor=Actor("user", "someone"),
        )
        emit(session, PRODUCT_DELETED, ref("fourth"), account_id=account, actor=Actor.system())

    async with get_sessionmaker()() as session:
        stored = list(
            await session.scalars(
                select(Event).where(Event.account_id == account).order_by(Event.seq)
            )
        )
    mine = [e for e in stored if e.type == PRODUCT_DELETED.name]
    assert [e.data["sku"] for e in mine] == ["first", "second", "third", "fourth"]
    assert [e.id for e in mine[1:3]] == [e.id for e in emitted]
    assert (mine[1].actor_type, mine[1].actor_id) == ("user", "someone")
    assert not {e.id for e in mine} & await unrelayed_events(account)
    assert {e.created_at for e in mine[1:3]} == {emitted[0].created_at}

    published = [e for e in await live_events(pubsub) if e["type"] == PRODUCT_DELETED.name]
    await pubsub.aclose()
    assert [e["data"]["sku"] for e in published] == ["first", "second", "third", "fourth"]
    assert published[1]["id"] == emitted[0].id
    assert published[1]["actor"] == {"type": "user", "id": "someone"}


async def test_emit_many_in_a_transaction_that_rolls_back_leaves_nothing(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    account = uuid.UUID(owner.account_id)
    pubsub = await live_channel(account)

    async def failing_batch() -> None:
        async with unit_of_work() as session:
            await emit_many(
                session,
                [Emission(PRODUCT_DELETED, {"productId": str(uuid.uuid4()), "sku": "x"}, account)],
                actor=Actor.system(),
            )
            raise RuntimeError("the batch failed")

    with pytest.raises(RuntimeError):
        await failing_batch()
    await asyncio.sleep(0.2)
    async with get_sessionmaker()() as session:
        assert (
            await session.scalars(
                select(Event.id).where(
                    Event.account_id == account, Event.type == PRODUCT_DELETED.name
                )
            )
        ).all() == []
    assert [e for e in await live_events(pubsub) if e["type"] == PRODUCT_DELETED.name] == []
    await pubsub.aclose()


def test_event_rows_with_an_integer_orjson_cannot_write_go_out_as_json() -> None:
    # JSONB keeps an integer past 64 bits; orjson refuses it, so those rows take `json`.
    event = EmittedEvent(
        id="evt_x",
        account_id=uuid.uuid4(),
        type=PRODUCT_DELETED.name,
        actor_type="system",
        actor_id=None,
        provider_session_id=None,
        data={"n": 2**70, "sku": "ü"},
        created_at=datetime.now(UTC),
    )
    [row] = json.loads(events._rows_json([event]))
    assert row["data"] == {"n": 2**70, "sku": "ü"}
    assert row["account_id"] == str(event.account_id)
    assert datetime.fromisoformat(row["created_at"]) == event.created_at


async def test_a_commit_wakes_each_account_once_naming_its_events_in_order(
    client: httpx.AsyncClient,
) -> None:
    first = uuid.UUID((await register(client)).account_id)
    second = uuid.UUID((await register(client)).account_id)
    pubsub = await live_channel(first, second)

    async with unit_of_work() as session:
        emitted = await emit_many(
            session,
            [
                Emission(PRODUCT_DELETED, {"productId": str(uuid.uuid4()), "sku": sku}, account)
                for sku, account in (("a", first), ("b", second), ("c", first))
            ],
            actor=Actor.system(),
        )

    wake_ups: dict[str, dict[str, Any]] = {}
    while (
        message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
    ) is not None:
        wake_up = json.loads(message["data"])
        assert message["channel"].decode() == account_channel(wake_up["accountId"])
        assert wake_up["accountId"] not in wake_ups  # one per account for the commit
        wake_ups[wake_up["accountId"]] = wake_up
    await pubsub.aclose()
    assert wake_ups == {
        str(first): {
            "accountId": str(first),
            "events": [{"id": e.id, "type": e.type} for e in (emitted[0], emitted[2])],
        },
        str(second): {
            "accountId": str(second),
            "events": [{"id": emitted[1].id, "type": PRODUCT_DELETED.name}],
        },
    }


async def test_json_columns_read_back_as_the_standard_library_reads_them(
    client: httpx.AsyncClient,
) -> None:
    # The engines read JSON with orjson where it gives what `json.loads` gives: an integer
    # past 64 bits (orjson would make it a float), a plain value and a deep one come back as
    # `json.loads` reads them.
    from sqlalchemy import text

    texts = [
        '{"sku": "büyük", "n": 1180591620717411303424, "price": 1.5}',
        '{"sku": "küçük", "nested": {"list": [1, {"none": null}]}, "ok": true}',
        "[" * 70 + "1" + "]" * 70,
    ]
    async with get_sessionmaker()() as session:
        for value in texts:
            read = await session.scalar(text("SELECT CAST(:value AS jsonb)"), {"value": value})
            assert read == json.loads(value)
            # An int stays an int (a float of it would equal it, but print apart).
            assert json.dumps(read, sort_keys=True) == json.dumps(json.loads(value), sort_keys=True)
    # The hot reads' connections (outside the engine) read and write JSON the same way.
    async with no_transaction() as conn:
        for value in texts:
            read = await conn.fetchval("SELECT CAST($1 AS text)::jsonb", value)
            assert json.dumps(read, sort_keys=True) == json.dumps(json.loads(value), sort_keys=True)
            written = await conn.fetchval("SELECT CAST($1::jsonb AS text)", json.loads(value))
            assert json.loads(written) == json.loads(value)
