"""Operations: the gateway calls we owe, claimed by jobs and swept when their job is lost."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import written_in
from ticaret.models import OperationStatus, WaMessageOperation

# Written into the SQL (not bound) for the sweeps: `ix_wa_message_operations_pending` is
# partial (see `written_in`).
_QUEUED = written_in(WaMessageOperation.status, OperationStatus.queued)
_SENDING = written_in(WaMessageOperation.status, OperationStatus.sending)


async def operation(
    session: AsyncSession, account_id: uuid.UUID, session_id: uuid.UUID, operation_id: uuid.UUID
) -> WaMessageOperation | None:
    return await session.scalar(
        select(WaMessageOperation).where(
            WaMessageOperation.id == operation_id,
            WaMessageOperation.account_id == account_id,
            WaMessageOperation.session_id == session_id,
        )
    )


async def claim_queued(session: AsyncSession, operation_id: uuid.UUID) -> WaMessageOperation | None:
    """For the job: the operation, locked, if it is still queued and no other run holds it."""
    return await session.scalar(
        select(WaMessageOperation)
        .where(
            WaMessageOperation.id == operation_id,
            WaMessageOperation.status == OperationStatus.queued,
        )
        .with_for_update(skip_locked=True)
    )


async def locked(session: AsyncSession, operation_id: uuid.UUID) -> WaMessageOperation | None:
    """For the job, by primary key."""
    return await session.get(WaMessageOperation, operation_id, with_for_update=True)


async def requeue_lost(
    session: AsyncSession, now: datetime, *, queued_for: timedelta, limit: int
) -> list[tuple[uuid.UUID, int]]:
    """Operations queued too long (their job was lost); returns (id, attempts so far).

    One stuck in `sending` is not here: its call may have gone out (see `stuck_sending`)."""
    rows = await session.execute(
        select(WaMessageOperation.id, WaMessageOperation.attempts)
        .where(
            _QUEUED,
            func.coalesce(WaMessageOperation.next_attempt_at, WaMessageOperation.updated_at)
            < now - queued_for,
        )
        .limit(limit)
    )
    return [(operation_id, attempts) for operation_id, attempts in rows.tuples()]


async def stuck_sending(
    session: AsyncSession, now: datetime, *, sending_for: timedelta, limit: int
) -> list[uuid.UUID]:
    """Operations whose gateway call started long ago and never ended (the worker died)."""
    rows = await session.scalars(
        select(WaMessageOperation.id)
        .where(
            _SENDING,
            WaMessageOperation.updated_at < now - sending_for,
        )
        .limit(limit)
    )
    return list(rows.all())


async def claim_stuck(
    session: AsyncSession, operation_id: uuid.UUID, now: datetime, *, sending_for: timedelta
) -> WaMessageOperation | None:
    """For the reconciling job: the operation, locked, if it is still stuck in `sending`; its
    `updated_at` moves so another sweep leaves it alone while it is being reconciled."""
    operation = await session.scalar(
        select(WaMessageOperation)
        .where(
            WaMessageOperation.id == operation_id,
            WaMessageOperation.status == OperationStatus.sending,
            WaMessageOperation.updated_at < now - sending_for,
        )
        .with_for_update(skip_locked=True)
    )
    if operation is not None:
        operation.updated_at = now
    return operation


async def operations_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    status: OperationStatus | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[WaMessageOperation]:
    stmt = select(WaMessageOperation).where(
        WaMessageOperation.account_id == account_id, WaMessageOperation.session_id == session_id
    )
    if status is not None:
        stmt = stmt.where(WaMessageOperation.status == status)
    if after is not None:
        stmt = stmt.where(WaMessageOperation.id < after)
    return list(await session.scalars(stmt.order_by(WaMessageOperation.id.desc()).limit(limit + 1)))


async def locked_for_account(
    session: AsyncSession, account_id: uuid.UUID, session_id: uuid.UUID, operation_id: uuid.UUID
) -> WaMessageOperation | None:
    return await session.scalar(
        select(WaMessageOperation)
        .where(
            WaMessageOperation.id == operation_id,
            WaMessageOperation.account_id == account_id,
            WaMessageOperation.session_id == session_id,
        )
        .with_for_update()
    )
