"""Tasks: `/crm/tasks` (every task, filtered), under a customer, and their watchers and
checklist."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status

from ticaret.core.auth import AccountContext
from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, PageParams, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.crm.router.deps import CustomerId, ItemId, TaskId
from ticaret.crm.schemas.customers import Deleted
from ticaret.crm.schemas.tasks import (
    ChecklistItemCreate,
    ChecklistItemOut,
    ChecklistItemUpdate,
    TaskCreate,
    TaskOut,
    TaskUpdate,
    WatchersOut,
    WatchersSet,
)
from ticaret.crm.service import tasks as service
from ticaret.models import TaskPriority, TaskStatus

router = APIRouter(tags=["CRM tasks"])

LIST_DESCRIPTION = (
    "Filters combine: `status` and `priority` repeat; `assignedToMe`, `unassigned`, "
    "`watchedByMe`; `dueBefore`/`dueAfter`; `overdue` (open and past due); `q` (title). "
    "`sort=dueAt` puts the soonest due first (no due date last); default newest first."
)


StatusFilter = Annotated[list[TaskStatus] | None, Query(alias="status")]
PriorityFilter = Annotated[list[TaskPriority] | None, Query(alias="priority")]
AssigneeFilter = Annotated[uuid.UUID | None, Query(alias="assigneeUserId")]
Flag = Annotated[bool, Query()]
TitleQuery = Annotated[str | None, Query(max_length=200, description="Title contains")]
Sort = Annotated[Literal["createdAt", "dueAt"], Query()]


@dataclass(frozen=True)
class TaskFilters:
    statuses: list[TaskStatus]
    priorities: list[TaskPriority]
    assignee_user_id: uuid.UUID | None
    assigned_to_me: bool
    unassigned: bool
    watched_by_me: bool
    due_before: datetime | None
    due_after: datetime | None
    overdue: bool
    q: str | None
    sort: Literal["created", "due"]


def task_filters(
    statuses: StatusFilter = None,
    priorities: PriorityFilter = None,
    assignee_user_id: AssigneeFilter = None,
    assigned_to_me: Annotated[bool, Query(alias="assignedToMe")] = False,
    unassigned: Flag = False,
    watched_by_me: Annotated[bool, Query(alias="watchedByMe")] = False,
    due_before: Annotated[datetime | None, Query(alias="dueBefore")] = None,
    due_after: Annotated[datetime | None, Query(alias="dueAfter")] = None,
    overdue: Flag = False,
    q: TitleQuery = None,
    sort: Sort = "createdAt",
) -> TaskFilters:
    """The task list's filters, shared by `/crm/tasks` and a customer's task list."""
    return TaskFilters(
        statuses=statuses or [],
        priorities=priorities or [],
        assignee_user_id=assignee_user_id,
        assigned_to_me=assigned_to_me,
        unassigned=unassigned,
        watched_by_me=watched_by_me,
        due_before=due_before,
        due_after=due_after,
        overdue=overdue,
        q=q,
        sort="due" if sort == "dueAt" else "created",
    )


Filters = Annotated[TaskFilters, Depends(task_filters)]


async def _list(
    session: DbSession,
    ctx: AccountContext,
    page: PageParams,
    filters: TaskFilters,
    *,
    customer_id: uuid.UUID | None,
    of_customer: bool,
) -> Envelope[Page[TaskOut]]:
    return ok(
        await service.list_tasks(
            session,
            ctx,
            page,
            customer_id=customer_id,
            of_customer=of_customer,
            statuses=filters.statuses,
            priorities=filters.priorities,
            assignee_user_id=filters.assignee_user_id,
            assigned_to_me=filters.assigned_to_me,
            unassigned=filters.unassigned,
            watched_by_me=filters.watched_by_me,
            due_before=filters.due_before,
            due_after=filters.due_after,
            overdue=filters.overdue,
            q=filters.q,
            sort=filters.sort,
        )
    )


@router.get(
    "/crm/tasks",
    summary="List tasks with filters",
    description="CRM task listesini filtrelerle getirir. " + LIST_DESCRIPTION,
    response_model=Envelope[Page[TaskOut]],
    responses=error_responses(400, 401, 403, 422),
)
async def list_tasks(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    filters: Filters,
    customer_id: Annotated[uuid.UUID | None, Query(alias="customerId")] = None,
) -> Envelope[Page[TaskOut]]:
    return await _list(
        session,
        ctx,
        page,
        filters,
        customer_id=customer_id,
        of_customer=False,
    )


@router.get(
    "/crm/customers/{customerId}/tasks",
    summary="A customer's tasks",
    description="Customer task listesini getirir. " + LIST_DESCRIPTION,
    response_model=Envelope[Page[TaskOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_customer_tasks(
    customer_id: CustomerId,
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    filters: Filters,
) -> Envelope[Page[TaskOut]]:
    return await _list(
        session,
        ctx,
        page,
        filters,
        customer_id=customer_id,
        of_customer=True,
    )


@router.post(
    "/crm/customers/{customerId}/tasks",
    summary="Create a task for a customer",
    description="Customer task olusturur. A task created `done` has `completedAt` set.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[TaskOut],
    responses=error_responses(401, 403, 404, 422),
)
async def create_task(
    customer_id: CustomerId, body: TaskCreate, ctx: Agent, session: DbSession
) -> Envelope[TaskOut]:
    return ok(await service.create_task(session, ctx, customer_id, body))


@router.get(
    "/crm/tasks/{taskId}",
    summary="Get a task",
    description="Task detayini getirir.",
    response_model=Envelope[TaskOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_task(task_id: TaskId, ctx: Viewer, session: DbSession) -> Envelope[TaskOut]:
    return ok(await service.get_task(session, ctx, task_id))


@router.patch(
    "/crm/tasks/{taskId}",
    summary="Change a task (status done sets completedAt; leaving done clears it)",
    description="Task gunceller. Completing it emits `crm.task.completed`, any other change "
    "`crm.task.updated`.",
    response_model=Envelope[TaskOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_task(
    task_id: TaskId, body: TaskUpdate, ctx: Agent, session: DbSession, if_match: IfMatch = None
) -> Envelope[TaskOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_task(session, ctx, task_id, body, version))


@router.delete(
    "/crm/tasks/{taskId}",
    summary="Soft-delete a task",
    description="Task soft-delete eder.",
    response_model=Envelope[Deleted],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_task(task_id: TaskId, ctx: Agent, session: DbSession) -> Envelope[Deleted]:
    await service.delete_task(session, ctx, task_id)
    return ok(Deleted(deleted=True))


@router.get(
    "/crm/tasks/{taskId}/watchers",
    summary="A task's watchers",
    description="Task watcher listesini getirir.",
    response_model=Envelope[WatchersOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_watchers(task_id: TaskId, ctx: Viewer, session: DbSession) -> Envelope[WatchersOut]:
    return ok(await service.get_watchers(session, ctx, task_id))


@router.put(
    "/crm/tasks/{taskId}/watchers",
    summary="Set a task's watchers",
    description="Task watcher listesini set eder. `entityVersion` is the task's.",
    response_model=Envelope[WatchersOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def set_watchers(
    task_id: TaskId, body: WatchersSet, ctx: Agent, session: DbSession, if_match: IfMatch = None
) -> Envelope[WatchersOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.set_watchers(session, ctx, task_id, body, version))


@router.get(
    "/crm/tasks/{taskId}/checklist",
    summary="A task's checklist, in order",
    description="Task checklist listesini getirir.",
    response_model=Envelope[list[ChecklistItemOut]],
    responses=error_responses(401, 403, 404, 422),
)
async def list_checklist(
    task_id: TaskId, ctx: Viewer, session: DbSession
) -> Envelope[list[ChecklistItemOut]]:
    return ok(await service.list_checklist(session, ctx, task_id))


@router.post(
    "/crm/tasks/{taskId}/checklist",
    summary="Add a checklist item",
    description="Task checklist item olusturur.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[ChecklistItemOut],
    responses=error_responses(401, 403, 404, 422),
)
async def add_checklist_item(
    task_id: TaskId, body: ChecklistItemCreate, ctx: Agent, session: DbSession
) -> Envelope[ChecklistItemOut]:
    return ok(await service.add_checklist_item(session, ctx, task_id, body))


@router.patch(
    "/crm/tasks/{taskId}/checklist/{itemId}",
    summary="Change a checklist item (title, done, position)",
    description="Task checklist item gunceller.",
    response_model=Envelope[ChecklistItemOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_checklist_item(
    task_id: TaskId,
    item_id: ItemId,
    body: ChecklistItemUpdate,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[ChecklistItemOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_checklist_item(session, ctx, task_id, item_id, body, version))


@router.delete(
    "/crm/tasks/{taskId}/checklist/{itemId}",
    summary="Soft-delete a checklist item",
    description="Task checklist item soft-delete eder.",
    response_model=Envelope[Deleted],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_checklist_item(
    task_id: TaskId, item_id: ItemId, ctx: Agent, session: DbSession
) -> Envelope[Deleted]:
    await service.delete_checklist_item(session, ctx, task_id, item_id)
    return ok(Deleted(deleted=True))
