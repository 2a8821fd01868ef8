"""`/crm/assignments`: the history and bulk assignment of chats and messages. One chat's or
message's assignment is under `/wa/chats/...` (`router/chats.py`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.crm.schemas.assignments import (
    AssignmentChangeOut,
    BulkAssignChats,
    BulkAssignMessages,
    BulkResult,
    BulkUnassignChats,
    BulkUnassignMessages,
)
from ticaret.crm.service import assignments as service
from ticaret.models import AssignmentTarget

router = APIRouter(prefix="/crm/assignments", tags=["CRM assignments"])

BULK_ERRORS = error_responses(401, 403, 404, 422)


@router.get(
    "/history",
    summary="Assignment history, newest first",
    description="CRM assignment audit geçmişini listeler. `userId`/`groupId` match either "
    "side of a change (from or to).",
    response_model=Envelope[Page[AssignmentChangeOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def history(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    target_type: Annotated[AssignmentTarget | None, Query(alias="targetType")] = None,
    provider_session_id: Annotated[
        str | None, Query(alias="providerSessionId", max_length=100)
    ] = None,
    remote_jid: Annotated[str | None, Query(alias="remoteJid", max_length=128)] = None,
    message_id: Annotated[str | None, Query(alias="messageId", max_length=200)] = None,
    user_id: Annotated[uuid.UUID | None, Query(alias="userId")] = None,
    group_id: Annotated[uuid.UUID | None, Query(alias="groupId")] = None,
    bulk_id: Annotated[uuid.UUID | None, Query(alias="bulkId")] = None,
) -> Envelope[Page[AssignmentChangeOut]]:
    return ok(
        await service.list_history(
            session,
            ctx,
            page,
            target_type=target_type,
            provider_session_id=provider_session_id,
            remote_jid=remote_jid,
            message_id=message_id,
            user_id=user_id,
            group_id=group_id,
            bulk_id=bulk_id,
        )
    )


@router.post(
    "/chats/bulk-assign",
    summary="Assign many chats to a user or group at once (one transaction)",
    description="Chatleri toplu atar. All or nothing: an unknown chat is a 404 naming it, an "
    "assignee outside the account a 422. Each changed chat gets a history row and a "
    "`crm.assignment.changed` event sharing the returned `bulkId`.",
    response_model=Envelope[BulkResult],
    responses=BULK_ERRORS,
)
async def bulk_assign_chats(
    body: BulkAssignChats, ctx: Agent, session: DbSession
) -> Envelope[BulkResult]:
    return ok(await service.bulk_assign_chats(session, ctx, body))


@router.post(
    "/chats/bulk-unassign",
    summary="Remove the assignments of many chats at once",
    description="Chat assignmentlarını toplu kaldırır.",
    response_model=Envelope[BulkResult],
    responses=BULK_ERRORS,
)
async def bulk_unassign_chats(
    body: BulkUnassignChats, ctx: Agent, session: DbSession
) -> Envelope[BulkResult]:
    return ok(await service.bulk_chats(session, ctx, body.chats, None, body.reason))


@router.post(
    "/messages/bulk-assign",
    summary="Assign many messages to a user or group at once (one transaction)",
    description="Mesajları toplu atar.",
    response_model=Envelope[BulkResult],
    responses=BULK_ERRORS,
)
async def bulk_assign_messages(
    body: BulkAssignMessages, ctx: Agent, session: DbSession
) -> Envelope[BulkResult]:
    return ok(await service.bulk_assign_messages(session, ctx, body))


@router.post(
    "/messages/bulk-unassign",
    summary="Remove the assignments of many messages at once",
    description="Mesaj assignmentlarını toplu kaldırır.",
    response_model=Envelope[BulkResult],
    responses=BULK_ERRORS,
)
async def bulk_unassign_messages(
    body: BulkUnassignMessages, ctx: Agent, session: DbSession
) -> Envelope[BulkResult]:
    return ok(await service.bulk_messages(session, ctx, body.messages, None, body.reason))
