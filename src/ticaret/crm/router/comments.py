"""Comments: on customers (`/crm/customers/{customerId}/comments`), on tasks
(`/crm/tasks/{taskId}/comments`) and one by one (`/crm/comments/{commentId}`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.crm.router.deps import CommentId, CustomerId, TaskId
from ticaret.crm.schemas.comments import CommentCreate, CommentOut, CommentUpdate
from ticaret.crm.schemas.customers import Deleted
from ticaret.crm.service import comments as service

router = APIRouter(tags=["CRM comments"])


@router.get(
    "/crm/customers/{customerId}/comments",
    summary="A customer's comments, newest first",
    description="Customer yorumlarini listeler. `includeTasks` adds the comments on its tasks.",
    response_model=Envelope[Page[CommentOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_customer_comments(
    customer_id: CustomerId,
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    include_tasks: Annotated[bool, Query(alias="includeTasks")] = False,
) -> Envelope[Page[CommentOut]]:
    return ok(await service.list_customer_comments(session, ctx, customer_id, page, include_tasks))


@router.post(
    "/crm/customers/{customerId}/comments",
    summary="Comment on a customer (with @mentions)",
    description="Customer yorumu olusturur. Each mentioned user gets a "
    "`crm.comment.mentioned` event.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[CommentOut],
    responses=error_responses(401, 403, 404, 422),
)
async def create_customer_comment(
    customer_id: CustomerId, body: CommentCreate, ctx: Agent, session: DbSession
) -> Envelope[CommentOut]:
    return ok(await service.create_customer_comment(session, ctx, customer_id, body))


@router.get(
    "/crm/comments/{commentId}",
    summary="Get a comment (of a customer or a task)",
    description="Customer/task yorum detayini getirir.",
    response_model=Envelope[CommentOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_comment(
    comment_id: CommentId, ctx: Viewer, session: DbSession
) -> Envelope[CommentOut]:
    return ok(await service.get_comment(session, ctx, comment_id))


@router.patch(
    "/crm/comments/{commentId}",
    summary="Edit a comment (its author, or an admin)",
    description="Customer/task yorumunu gunceller. Users newly mentioned get an event.",
    response_model=Envelope[CommentOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_comment(
    comment_id: CommentId,
    body: CommentUpdate,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[CommentOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_comment(session, ctx, comment_id, body, version))


@router.delete(
    "/crm/comments/{commentId}",
    summary="Soft-delete a comment (its author, or an admin)",
    description="Customer/task yorumunu soft-delete eder.",
    response_model=Envelope[Deleted],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_comment(
    comment_id: CommentId, ctx: Agent, session: DbSession
) -> Envelope[Deleted]:
    await service.delete_comment(session, ctx, comment_id)
    return ok(Deleted(deleted=True))


@router.get(
    "/crm/tasks/{taskId}/comments",
    summary="A task's comments, newest first",
    description="Task yorumlarini listeler.",
    response_model=Envelope[Page[CommentOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_task_comments(
    task_id: TaskId, ctx: Viewer, session: DbSession, page: Paging
) -> Envelope[Page[CommentOut]]:
    return ok(await service.list_task_comments(session, ctx, task_id, page))


@router.post(
    "/crm/tasks/{taskId}/comments",
    summary="Comment on a task (with @mentions)",
    description="Task yorumu olusturur.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[CommentOut],
    responses=error_responses(401, 403, 404, 422),
)
async def create_task_comment(
    task_id: TaskId, body: CommentCreate, ctx: Agent, session: DbSession
) -> Envelope[CommentOut]:
    return ok(await service.create_task_comment(session, ctx, task_id, body))
