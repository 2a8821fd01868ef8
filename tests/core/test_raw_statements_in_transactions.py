"""Statements a unit of work runs straight on its asyncpg connection (`RawQuery` with a session,
as the batch paths run them) belong to its transaction: they commit and roll back with the
session's own work, even when one runs first, and their errors come as SQLAlchemy's."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.helpers import register
from ticaret.catalog.events import PRODUCT_DELETED, ProductRef
from ticaret.core.db import RawQuery, get_sessionmaker, unit_of_work
from ticaret.core.events import Actor, Emission, emit, emit_many
from ticaret.models import Event


async def _skus(account: uuid.UUID) -> list[str]:
    async with get_sessionmaker()() as session:
        stored = await session.scalars(
            select(Event).where(Event.account_id == account).order_by(Event.seq)
        )
        return [e.data["sku"] for e in stored if e.type == PRODUCT_DELETED.name]


def _deleted(account: uuid.UUID, sku: str) -> Emission:
    return Emission(PRODUCT_DELETED, {"productId": str(uuid.uuid4()), "sku": sku}, account)


async def test_a_raw_statement_first_in_a_unit_of_work_rolls_back_with_it(
    client: httpx.AsyncClient,
) -> None:
    account = uuid.UUID((await register(client)).account_id)

    async def job_failing_after_its_write() -> None:
        async with unit_of_work() as session:
            # The raw INSERT is the transaction's first statement: it must not run on its own.
            await emit_many(session, [_deleted(account, "raw-first")], actor=Actor.system())
            raise RuntimeError("the job failed after writing")

    with pytest.raises(RuntimeError):
        await job_failing_after_its_write()
    assert await _skus(account) == []


async def test_raw_and_orm_writes_of_one_unit_of_work_commit_together(
    client: httpx.AsyncClient,
) -> None:
    account = uuid.UUID((await register(client)).account_id)
    async with unit_of_work() as session:
        ref = ProductRef(product_id=uuid.uuid4(), sku="orm")
        emit(session, PRODUCT_DELETED, ref, account_id=account, actor=Actor.system())
        await emit_many(session, [_deleted(account, "raw")], actor=Actor.system())
    assert await _skus(account) == ["orm", "raw"]
    # A later transaction of the same session does not reuse the earlier one's connection
    # state: it writes and rolls back on its own.
    async with get_sessionmaker()() as session:
        await emit_many(session, [_deleted(account, "committed")], actor=Actor.system())
        await session.commit()
        await emit_many(session, [_deleted(account, "rolled back")], actor=Actor.system())
        await session.rollback()
    assert await _skus(account) == ["orm", "raw", "committed"]


async def test_a_failing_raw_statement_raises_sqlalchemys_error_and_keeps_nothing(
    client: httpx.AsyncClient,
) -> None:
    account = uuid.UUID((await register(client)).account_id)

    async def job_writing_an_event_twice() -> None:
        async with unit_of_work() as session:
            first = await emit_many(session, [_deleted(account, "one")], actor=Actor.system())
            # The same event id again, straight on the connection: the primary key refuses it.
            again = RawQuery(
                text(
                    "INSERT INTO events (id, account_id, type, actor_type, data)"
                    " VALUES (:id, :account_id, :type, 'system', '{}'::jsonb)"
                )
            )
            await again.execute(
                session, id=first[0].id, account_id=account, type=PRODUCT_DELETED.name
            )

    with pytest.raises(IntegrityError) as raised:
        await job_writing_an_event_twice()
    assert getattr(raised.value.orig, "sqlstate", None) == "23505"
    assert await _skus(account) == []

    # Bad text in a raw statement: a DBAPIError with the driver's sqlstate, as the API's
    # error handler expects (a NUL is not valid in JSONB).
    async def job_writing_bad_text() -> None:
        async with unit_of_work() as session:
            await emit_many(session, [_deleted(account, "nul \u0000 here")], actor=Actor.system())

    with pytest.raises(DBAPIError) as bad:
        await job_writing_bad_text()
    assert getattr(bad.value.orig, "sqlstate", None) is not None
    assert await _skus(account) == []
