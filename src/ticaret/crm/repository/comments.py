"""Comments on customers and tasks."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import CrmComment, CrmCustomer, CrmTask


async def comment(
    session: AsyncSession, account_id: uuid.UUID, comment_id: uuid.UUID, *, for_update: bool = False
) -> CrmComment | None:
    """A live comment whose customer (and task, for a task's comment) is live."""
    stmt = (
        select(CrmComment)
        .join(CrmCustomer, CrmCustomer.id == CrmComment.customer_id)
        .outerjoin(CrmTask, CrmTask.id == CrmComment.task_id)
        .where(
            CrmComment.account_id == account_id,
            CrmComment.id == comment_id,
            CrmComment.deleted_at.is_(None),
            CrmCustomer.deleted_at.is_(None),
            CrmTask.deleted_at.is_(None),
        )
    )
    if for_update:
        stmt = stmt.with_for_update(of=CrmComment)
    return await session.scalar(stmt)


async def comments_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    customer_id: uuid.UUID | None = None,
    task_id: uuid.UUID | None = None,
    customer_only: bool = False,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[CrmComment]:
    stmt = select(CrmComment).where(
        CrmComment.account_id == account_id, CrmComment.deleted_at.is_(None)
    )
    if customer_id is not None:
        stmt = stmt.where(CrmComment.customer_id == customer_id)
    if customer_only:
        stmt = stmt.where(CrmComment.task_id.is_(None))
    if task_id is not None:
        stmt = stmt.where(CrmComment.task_id == task_id)
    if before is not None:
        stmt = stmt.where(
            tuple_(CrmComment.created_at, CrmComment.id)
            < tuple_(literal(before[0]), literal(before[1]))
        )
    stmt = stmt.order_by(CrmComment.created_at.desc(), CrmComment.id.desc()).limit(limit + 1)
    return list(await session.scalars(stmt))
