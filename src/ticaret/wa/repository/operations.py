"""Operations: the gateway calls we owe, claimed by jobs and swept when their job is lost."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import OperationStatus, WaMessageOperation


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
    session: AsyncSession,
    now: datetime,
    *,
    sending_for: timedelta,
    queued_for: timedelta,
    limit: int,
) -> list[tuple[uuid.UUID, int]]:
    """Put back in the queue what is stuck (sending too long: the worker died mid-call; queued
    too long: the job was lost); returns (id, attempts so far)."""
    stuck = (
        select(WaMessageOperation.id)
        .where(
            (
                (WaMessageOperation.status == OperationStatus.sending)
                & (WaMessageOperation.updated_at < now - sending_for)
            )
            | (
                (WaMessageOperation.status == OperationStatus.queued)
                & (
                    func.coalesce(WaMessageOperation.next_attempt_at, WaMessageOperation.updated_at)
                    < now - queued_for
                )
            )
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = await session.execute(
        update(WaMessageOperation)
        .where(WaMessageOperation.id.in_(stuck))
        .values(status=OperationStatus.queued, updated_at=now)
        .returning(WaMessageOperation.id, WaMessageOperation.attempts)
    )
    return [(operation_id, attempts) for operation_id, attempts in rows.tuples()]
