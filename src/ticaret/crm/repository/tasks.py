"""Tasks, their watchers and checklist items."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.crm.repository import contains_folded
from ticaret.models import (
    CrmChecklistItem,
    CrmCustomer,
    CrmTask,
    CrmTaskWatcher,
)

# Soonest first, tasks without a due date last.
DUE_KEY = "coalesce(crm_tasks.due_at, 'infinity'::timestamptz)"


@dataclass(frozen=True)
class TaskFilter:
    customer_id: uuid.UUID | None = None
    statuses: list[str] = field(default_factory=list)
    priorities: list[str] = field(default_factory=list)
    assignee_user_id: uuid.UUID | None = None
    watcher_user_id: uuid.UUID | None = None
    unassigned: bool = False
    due_before: datetime | None = None
    due_after: datetime | None = None
    q: str | None = None


def _live_customer() -> Any:
    return (
        select(CrmCustomer.id)
        .where(CrmCustomer.id == CrmTask.customer_id, CrmCustomer.deleted_at.is_(None))
        .exists()
    )


async def task(
    session: AsyncSession, account_id: uuid.UUID, task_id: uuid.UUID, *, for_update: bool = False
) -> CrmTask | None:
    """A live task of a live customer."""
    stmt = select(CrmTask).where(
        CrmTask.account_id == account_id,
        CrmTask.id == task_id,
        CrmTask.deleted_at.is_(None),
        _live_customer(),
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def tasks_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    filters: TaskFilter,
    *,
    sort: str,
    after: Any,
    limit: int,
) -> list[CrmTask]:
    """`sort` "created": newest first, `after` an id; "due": soonest due first, `after`
    (due key, id)."""
    stmt = select(CrmTask).where(
        CrmTask.account_id == account_id, CrmTask.deleted_at.is_(None), _live_customer()
    )
    if filters.customer_id is not None:
        stmt = stmt.where(CrmTask.customer_id == filters.customer_id)
    if filters.statuses:
        stmt = stmt.where(CrmTask.status.in_(filters.statuses))
    if filters.priorities:
        stmt = stmt.where(CrmTask.priority.in_(filters.priorities))
    if filters.assignee_user_id is not None:
        stmt = stmt.where(CrmTask.assignee_user_id == filters.assignee_user_id)
    if filters.unassigned:
        stmt = stmt.where(CrmTask.assignee_user_id.is_(None))
    if filters.watcher_user_id is not None:
        stmt = stmt.where(
            CrmTask.id.in_(
                select(CrmTaskWatcher.task_id).where(
                    CrmTaskWatcher.account_id == account_id,
                    CrmTaskWatcher.user_id == filters.watcher_user_id,
                )
            )
        )
    if filters.due_before is not None:
        stmt = stmt.where(CrmTask.due_at < filters.due_before)
    if filters.due_after is not None:
        stmt = stmt.where(CrmTask.due_at >= filters.due_after)
    if filters.q:
        stmt = stmt.where(contains_folded(CrmTask.title, filters.q))
    if sort == "due":
        due: ColumnElement[datetime] = literal_column(DUE_KEY)
        if after is not None:
            key = cast(literal(after[0]), DateTime(timezone=True))
            stmt = stmt.where(tuple_(due, CrmTask.id) > tuple_(key, literal(after[1])))
        stmt = stmt.order_by(due, CrmTask.id)
    else:
        if after is not None:
            stmt = stmt.where(CrmTask.id < after)
        stmt = stmt.order_by(CrmTask.id.desc())
    return list(await session.scalars(stmt.limit(limit + 1)))


async def watcher_ids(
    session: AsyncSession, account_id: uuid.UUID, task_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if not task_ids:
        return found
    rows = await session.execute(
        select(CrmTaskWatcher.task_id, CrmTaskWatcher.user_id)
        .where(CrmTaskWatcher.account_id == account_id, CrmTaskWatcher.task_id.in_(list(task_ids)))
        .order_by(CrmTaskWatcher.created_at, CrmTaskWatcher.id)
    )
    for task_id, user_id in rows.tuples():
        found[task_id].append(user_id)
    return found


async def watchers(
    session: AsyncSession, account_id: uuid.UUID, task_id: uuid.UUID
) -> list[CrmTaskWatcher]:
    return list(
        await session.scalars(
            select(CrmTaskWatcher)
            .where(CrmTaskWatcher.account_id == account_id, CrmTaskWatcher.task_id == task_id)
            .order_by(CrmTaskWatcher.created_at, CrmTaskWatcher.id)
        )
    )


async def set_watchers(
    session: AsyncSession, account_id: uuid.UUID, task_id: uuid.UUID, user_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(
        delete(CrmTaskWatcher).where(
            CrmTaskWatcher.account_id == account_id,
            CrmTaskWatcher.task_id == task_id,
            CrmTaskWatcher.user_id.not_in(list(user_ids)),
        )
    )
    existing = set(
        await session.scalars(
            select(CrmTaskWatcher.user_id).where(CrmTaskWatcher.task_id == task_id)
        )
    )
    for user_id in user_ids:
        if user_id not in existing:
            session.add(CrmTaskWatcher(account_id=account_id, task_id=task_id, user_id=user_id))
    await session.flush()


async def checklist_counts(
    session: AsyncSession, account_id: uuid.UUID, task_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """(items, done items) by task."""
    if not task_ids:
        return {}
    rows = await session.execute(
        select(
            CrmChecklistItem.task_id,
            func.count(),
            func.sum(case((CrmChecklistItem.done.is_(True), 1), else_=0)),
        )
        .where(
            CrmChecklistItem.account_id == account_id,
            CrmChecklistItem.task_id.in_(list(task_ids)),
            CrmChecklistItem.deleted_at.is_(None),
        )
        .group_by(CrmChecklistItem.task_id)
    )
    return {task_id: (int(total), int(done or 0)) for task_id, total, done in rows.tuples()}


async def checklist(
    session: AsyncSession, account_id: uuid.UUID, task_id: uuid.UUID
) -> list[CrmChecklistItem]:
    return list(
        await session.scalars(
            select(CrmChecklistItem)
            .where(
                CrmChecklistItem.account_id == account_id,
                CrmChecklistItem.task_id == task_id,
                CrmChecklistItem.deleted_at.is_(None),
            )
            .order_by(CrmChecklistItem.position, CrmChecklistItem.id)
        )
    )


async def checklist_item(
    session: AsyncSession,
    account_id: uuid.UUID,
    task_id: uuid.UUID,
    item_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> CrmChecklistItem | None:
    stmt = select(CrmChecklistItem).where(
        CrmChecklistItem.account_id == account_id,
        CrmChecklistItem.task_id == task_id,
        CrmChecklistItem.id == item_id,
        CrmChecklistItem.deleted_at.is_(None),
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def next_position(session: AsyncSession, account_id: uuid.UUID, task_id: uuid.UUID) -> int:
    last = await session.scalar(
        select(func.max(CrmChecklistItem.position)).where(
            CrmChecklistItem.account_id == account_id,
            CrmChecklistItem.task_id == task_id,
            CrmChecklistItem.deleted_at.is_(None),
        )
    )
    return 0 if last is None else int(last) + 1
