"""SQL for Graph operations (sends, replies, publications, syncs)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import written_in
from ticaret.models import MetaOperation, MetaOperationKind, MetaOperationStatus

OPEN = (MetaOperationStatus.queued, MetaOperationStatus.running)
# Written into the SQL (not bound) for the sweep: `ix_meta_operations_pending` is partial (see
# `written_in`).
_OPEN = written_in(MetaOperation.status, *OPEN)


def add_operation(session: AsyncSession, **values: Any) -> MetaOperation:
    operation = MetaOperation(**values)
    session.add(operation)
    return operation


async def operation(
    session: AsyncSession, account_id: uuid.UUID, asset_id: uuid.UUID, operation_id: uuid.UUID
) -> MetaOperation | None:
    return await session.scalar(
        select(MetaOperation).where(
            MetaOperation.account_id == account_id,
            MetaOperation.asset_id == asset_id,
            MetaOperation.id == operation_id,
        )
    )


async def operation_by_id(
    session: AsyncSession, operation_id: uuid.UUID, *, for_update: bool = False
) -> MetaOperation | None:
    """By primary key alone: for the job that performs an operation we wrote."""
    return await session.get(MetaOperation, operation_id, with_for_update=for_update)


async def claim(session: AsyncSession, operation_id: uuid.UUID) -> MetaOperation | None:
    """The queued operation, locked; None when done, running elsewhere or gone."""
    return await session.scalar(
        select(MetaOperation)
        .where(
            MetaOperation.id == operation_id,
            MetaOperation.status == MetaOperationStatus.queued,
        )
        .with_for_update(skip_locked=True)
    )


async def open_sync(session: AsyncSession, asset_id: uuid.UUID) -> MetaOperation | None:
    return await session.scalar(
        select(MetaOperation)
        .where(
            MetaOperation.asset_id == asset_id,
            MetaOperation.kind == MetaOperationKind.sync,
            MetaOperation.status.in_(OPEN),
        )
        .limit(1)
    )


async def lost(
    session: AsyncSession, now: datetime, stuck_running: timedelta, stuck_queued: timedelta
) -> list[tuple[uuid.UUID, int]]:
    """Operations whose job was lost, or that died mid-call, put back in the queue:
    (id, attempts so far). Across accounts: a sweeper's query."""
    rows = await session.execute(
        update(MetaOperation)
        .where(
            MetaOperation.id.in_(
                select(MetaOperation.id)
                .where(
                    # Implied by the arms below; said once so the plan reads the partial index
                    # (one arm each would need a BitmapOr of two scans of it).
                    _OPEN,
                    (
                        (MetaOperation.status == MetaOperationStatus.running)
                        & (MetaOperation.updated_at < now - stuck_running)
                    )
                    | (
                        (MetaOperation.status == MetaOperationStatus.queued)
                        & (
                            func.coalesce(MetaOperation.next_attempt_at, MetaOperation.updated_at)
                            < now - stuck_queued
                        )
                    ),
                )
                .limit(200)
                .with_for_update(skip_locked=True)
            )
        )
        .values(status=MetaOperationStatus.queued, updated_at=now)
        .returning(MetaOperation.id, MetaOperation.attempts)
    )
    return [(operation_id, attempts) for operation_id, attempts in rows.tuples()]
