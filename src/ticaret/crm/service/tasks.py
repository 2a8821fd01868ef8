"""Tasks of customers: status (completing sets completedAt), priority, due date, assignee,
watchers and a checklist. The assignee and the watchers are named in every task event
(`notifyUserIds`), so a notifier knows whom to tell."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, decode_cursor, encode_cursor, from_row
from ticaret.core.errors import InvalidCursor
from ticaret.core.events import emit
from ticaret.core.versioning import check_version
from ticaret.crm.errors import (
    ChecklistItemNotFound,
    ContactOfAnotherCustomer,
    TaskNotFound,
    field_error,
)
from ticaret.crm.events import (
    TASK_COMPLETED,
    TASK_CREATED,
    TASK_DELETED,
    TASK_UPDATED,
    TaskChanged,
    TaskDeleted,
)
from ticaret.crm.repository import members as members_repo
from ticaret.crm.repository import tasks as repository
from ticaret.crm.repository.tasks import TaskFilter
from ticaret.crm.schemas.tasks import (
    ChecklistItemCreate,
    ChecklistItemOut,
    ChecklistItemUpdate,
    TaskCreate,
    TaskOut,
    TaskUpdate,
    WatcherOut,
    WatchersOut,
    WatchersSet,
)
from ticaret.crm.service.common import actor_out
from ticaret.crm.service.contacts import contact_or_404
from ticaret.crm.service.customers import customer_or_404
from ticaret.crm.service.people import require_members
from ticaret.crm.service.views import user_brief
from ticaret.models import CrmChecklistItem, CrmTask, TaskPriority, TaskStatus

INFINITY = "infinity"


async def task_or_404(
    session: AsyncSession, account_id: uuid.UUID, task_id: uuid.UUID, *, for_update: bool = False
) -> CrmTask:
    task = await repository.task(session, account_id, task_id, for_update=for_update)
    if task is None:
        raise TaskNotFound()
    return task


async def task_outs(
    session: AsyncSession, account_id: uuid.UUID, tasks: Sequence[CrmTask]
) -> list[TaskOut]:
    ids = [t.id for t in tasks]
    watchers = await repository.watcher_ids(session, account_id, ids)
    counts = await repository.checklist_counts(session, account_id, ids)
    return [
        from_row(
            TaskOut,
            t,
            watcher_user_ids=watchers.get(t.id, []),
            checklist_total=counts.get(t.id, (0, 0))[0],
            checklist_done=counts.get(t.id, (0, 0))[1],
            created_by=actor_out(t.created_by_type, t.created_by_id),
        )
        for t in tasks
    ]


async def _task_out(session: AsyncSession, task: CrmTask) -> TaskOut:
    return (await task_outs(session, task.account_id, [task]))[0]


def _notify(ctx: AccountContext, out: TaskOut) -> list[uuid.UUID]:
    me = ctx.principal.user_id
    people = [out.assignee_user_id, *out.watcher_user_ids]
    return list(dict.fromkeys(p for p in people if p is not None and p != me))


def _emit(
    session: AsyncSession,
    ctx: AccountContext,
    out: TaskOut,
    changed: list[str],
    *,
    completed: bool = False,
) -> None:
    emit(
        session,
        TASK_COMPLETED if completed else TASK_UPDATED,
        TaskChanged(task=out, changed_fields=changed, notify_user_ids=_notify(ctx, out)),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )


async def _check_contact(
    session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID, contact_id: uuid.UUID
) -> None:
    contact = await contact_or_404(session, ctx.account_id, contact_id)
    if contact.customer_id != customer_id:
        raise ContactOfAnotherCustomer(
            details=field_error("contactId", "a contact of another customer")
        )


# Lists ---------------------------------------------------------------------------------------


def _due_after(cursor: str | None) -> tuple[str, uuid.UUID] | None:
    """(due key as PostgreSQL reads it: an ISO time or `infinity`, id)."""
    if cursor is None:
        return None
    raw_due, raw_id = decode_cursor(cursor, 2)
    try:
        if raw_due != INFINITY:
            datetime.fromisoformat(raw_due)
        return raw_due, uuid.UUID(raw_id)
    except ValueError as exc:
        raise InvalidCursor() from exc


async def list_tasks(
    session: AsyncSession,
    ctx: AccountContext,
    page: PageParams,
    *,
    customer_id: uuid.UUID | None,
    of_customer: bool,
    statuses: list[TaskStatus],
    priorities: list[TaskPriority],
    assignee_user_id: uuid.UUID | None,
    assigned_to_me: bool,
    unassigned: bool,
    watched_by_me: bool,
    due_before: datetime | None,
    due_after: datetime | None,
    overdue: bool,
    q: str | None,
    sort: str,
) -> Page[TaskOut]:
    if of_customer and customer_id is not None:
        await customer_or_404(session, ctx.account_id, customer_id)
    me = ctx.principal.user_id
    if (assigned_to_me or watched_by_me) and me is None:
        return Page[TaskOut](rows=[], next_cursor=None, has_more=False)
    if overdue:
        due_before = min(due_before, datetime.now(UTC)) if due_before else datetime.now(UTC)
        statuses = [s for s in statuses if s in (TaskStatus.todo, TaskStatus.in_progress)] or [
            TaskStatus.todo,
            TaskStatus.in_progress,
        ]
    filters = TaskFilter(
        customer_id=customer_id,
        statuses=list(statuses),
        priorities=list(priorities),
        assignee_user_id=me if assigned_to_me else assignee_user_id,
        watcher_user_id=me if watched_by_me else None,
        unassigned=unassigned,
        due_before=due_before,
        due_after=due_after,
        q=q,
    )
    after: Any = _due_after(page.cursor) if sort == "due" else page.after_id()
    rows = await repository.tasks_page(
        session, ctx.account_id, filters, sort=sort, after=after, limit=page.limit
    )
    more = len(rows) > page.limit
    kept = rows[: page.limit]
    cursor = None
    if more and kept:
        last = kept[-1]
        if sort == "due":
            cursor = encode_cursor([last.due_at.isoformat() if last.due_at else INFINITY, last.id])
        else:
            cursor = encode_cursor([last.id])
    return Page[TaskOut](
        rows=await task_outs(session, ctx.account_id, kept), next_cursor=cursor, has_more=more
    )


async def get_task(session: AsyncSession, ctx: AccountContext, task_id: uuid.UUID) -> TaskOut:
    return await _task_out(session, await task_or_404(session, ctx.account_id, task_id))


# Writes --------------------------------------------------------------------------------------


async def create_task(
    session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID, body: TaskCreate
) -> TaskOut:
    customer = await customer_or_404(session, ctx.account_id, customer_id)
    if body.contact_id is not None:
        await _check_contact(session, ctx, customer.id, body.contact_id)
    if body.assignee_user_id is not None:
        await require_members(session, ctx.account_id, [body.assignee_user_id], "assigneeUserId")
    await require_members(session, ctx.account_id, body.watcher_user_ids, "watcherUserIds")
    now = datetime.now(UTC)
    task = CrmTask(
        account_id=ctx.account_id,
        customer_id=customer.id,
        contact_id=body.contact_id,
        title=body.title.strip(),
        description=body.description,
        status=body.status,
        priority=body.priority,
        due_at=body.due_at,
        assignee_user_id=body.assignee_user_id,
        completed_at=now if body.status == TaskStatus.done else None,
        created_by_type=ctx.actor.type,
        created_by_id=ctx.actor.id,
    )
    session.add(task)
    await session.flush()
    if body.watcher_user_ids:
        await repository.set_watchers(session, ctx.account_id, task.id, body.watcher_user_ids)
    for position, title in enumerate(body.checklist):
        session.add(
            CrmChecklistItem(
                account_id=ctx.account_id, task_id=task.id, title=title.strip(), position=position
            )
        )
    await session.flush()
    out = await _task_out(session, task)
    emit(
        session,
        TASK_CREATED,
        TaskChanged(task=out, changed_fields=[], notify_user_ids=_notify(ctx, out)),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    return out


_FIELDS = {
    "title": "title",
    "description": "description",
    "status": "status",
    "priority": "priority",
    "due_at": "dueAt",
    "assignee_user_id": "assigneeUserId",
    "contact_id": "contactId",
}
_NOT_NULL = {"title", "status", "priority"}


async def update_task(
    session: AsyncSession,
    ctx: AccountContext,
    task_id: uuid.UUID,
    body: TaskUpdate,
    expected_version: str | None,
) -> TaskOut:
    task = await task_or_404(session, ctx.account_id, task_id, for_update=True)
    check_version(task, expected_version)
    given = body.model_fields_set
    if "assignee_user_id" in given and body.assignee_user_id is not None:
        await require_members(session, ctx.account_id, [body.assignee_user_id], "assigneeUserId")
    if "contact_id" in given and body.contact_id is not None:
        await _check_contact(session, ctx, task.customer_id, body.contact_id)
    changed: list[str] = []
    was_done = task.status == TaskStatus.done
    for name, wire in _FIELDS.items():
        if name not in given:
            continue
        value = getattr(body, name)
        if value is None and name in _NOT_NULL:
            continue
        if name == "title":
            value = value.strip()
        if getattr(task, name) != value:
            setattr(task, name, value)
            changed.append(wire)
    if not changed:
        return await _task_out(session, task)
    completed = task.status == TaskStatus.done and not was_done
    if completed:
        task.completed_at = datetime.now(UTC)
        changed.append("completedAt")
    elif was_done and task.status != TaskStatus.done:
        task.completed_at = None
        changed.append("completedAt")
    await session.flush()
    out = await _task_out(session, task)
    _emit(session, ctx, out, sorted(changed), completed=completed)
    return out


async def delete_task(session: AsyncSession, ctx: AccountContext, task_id: uuid.UUID) -> None:
    task = await task_or_404(session, ctx.account_id, task_id, for_update=True)
    out = await _task_out(session, task)
    task.deleted_at = datetime.now(UTC)
    await session.flush()
    emit(
        session,
        TASK_DELETED,
        TaskDeleted(
            task_id=task.id,
            customer_id=task.customer_id,
            title=task.title,
            notify_user_ids=_notify(ctx, out),
        ),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )


# Watchers ------------------------------------------------------------------------------------


async def _watchers_out(session: AsyncSession, task: CrmTask) -> WatchersOut:
    rows = await repository.watchers(session, task.account_id, task.id)
    users = await members_repo.users_by_id(session, [w.user_id for w in rows])
    return WatchersOut(
        task_id=task.id,
        rows=[
            WatcherOut(user=user_brief(users[w.user_id]), added_at=w.created_at)
            for w in rows
            if w.user_id in users
        ],
        entity_version=task.entity_version,
    )


async def get_watchers(
    session: AsyncSession, ctx: AccountContext, task_id: uuid.UUID
) -> WatchersOut:
    return await _watchers_out(session, await task_or_404(session, ctx.account_id, task_id))


async def set_watchers(
    session: AsyncSession,
    ctx: AccountContext,
    task_id: uuid.UUID,
    body: WatchersSet,
    expected_version: str | None,
) -> WatchersOut:
    task = await task_or_404(session, ctx.account_id, task_id, for_update=True)
    check_version(task, expected_version)
    await require_members(session, ctx.account_id, body.user_ids, "userIds")
    before = set(
        (await repository.watcher_ids(session, ctx.account_id, [task.id])).get(task.id, [])
    )
    await repository.set_watchers(session, ctx.account_id, task.id, body.user_ids)
    if before != set(body.user_ids):
        task.updated_at = datetime.now(UTC)
        await session.flush()
        _emit(session, ctx, await _task_out(session, task), ["watcherUserIds"])
    return await _watchers_out(session, task)


# Checklist -----------------------------------------------------------------------------------


def item_out(item: CrmChecklistItem) -> ChecklistItemOut:
    return ChecklistItemOut.model_validate(item)


async def list_checklist(
    session: AsyncSession, ctx: AccountContext, task_id: uuid.UUID
) -> list[ChecklistItemOut]:
    task = await task_or_404(session, ctx.account_id, task_id)
    return [item_out(i) for i in await repository.checklist(session, ctx.account_id, task.id)]


async def add_checklist_item(
    session: AsyncSession, ctx: AccountContext, task_id: uuid.UUID, body: ChecklistItemCreate
) -> ChecklistItemOut:
    task = await task_or_404(session, ctx.account_id, task_id, for_update=True)
    position = body.position
    if position is None:
        position = await repository.next_position(session, ctx.account_id, task.id)
    item = CrmChecklistItem(
        account_id=ctx.account_id,
        task_id=task.id,
        title=body.title.strip(),
        done=body.done,
        done_at=datetime.now(UTC) if body.done else None,
        position=position,
    )
    session.add(item)
    await session.flush()
    _emit(session, ctx, await _task_out(session, task), ["checklist"])
    return item_out(item)


async def _item_or_404(
    session: AsyncSession, ctx: AccountContext, task_id: uuid.UUID, item_id: uuid.UUID
) -> tuple[CrmTask, CrmChecklistItem]:
    task = await task_or_404(session, ctx.account_id, task_id, for_update=True)
    item = await repository.checklist_item(
        session, ctx.account_id, task.id, item_id, for_update=True
    )
    if item is None:
        raise ChecklistItemNotFound()
    return task, item


async def update_checklist_item(
    session: AsyncSession,
    ctx: AccountContext,
    task_id: uuid.UUID,
    item_id: uuid.UUID,
    body: ChecklistItemUpdate,
    expected_version: str | None,
) -> ChecklistItemOut:
    task, item = await _item_or_404(session, ctx, task_id, item_id)
    check_version(item, expected_version)
    changed = False
    if body.title is not None and body.title.strip() != item.title:
        item.title, changed = body.title.strip(), True
    if body.position is not None and body.position != item.position:
        item.position, changed = body.position, True
    if body.done is not None and body.done != item.done:
        item.done, changed = body.done, True
        item.done_at = datetime.now(UTC) if body.done else None
    if changed:
        await session.flush()
        _emit(session, ctx, await _task_out(session, task), ["checklist"])
    return item_out(item)


async def delete_checklist_item(
    session: AsyncSession, ctx: AccountContext, task_id: uuid.UUID, item_id: uuid.UUID
) -> None:
    task, item = await _item_or_404(session, ctx, task_id, item_id)
    item.deleted_at = datetime.now(UTC)
    await session.flush()
    _emit(session, ctx, await _task_out(session, task), ["checklist"])
