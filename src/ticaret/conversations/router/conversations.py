"""`/conversations`: the list across channels, api / widget creation, detail and update."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from ticaret.conversations.router.deps import ConversationId
from ticaret.conversations.schemas.conversations import (
    ConversationCreate,
    ConversationFilter,
    ConversationOut,
    ConversationUpdate,
    History,
)
from ticaret.conversations.service import conversations as service
from ticaret.conversations.service import messages as message_service
from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.models import ConversationStatus, ConversationType

router = APIRouter(prefix="/conversations", tags=["Conversations"])


@router.get(
    "",
    summary="List conversations across channels, newest first",
    description="Konuşmaları listeler: WhatsApp chats, Messenger and Instagram threads (from "
    "their first message on) and api / widget / test conversations. Filters combine; "
    "`dateFrom` / `dateTo` are whole UTC days of `createdAt`.",
    response_model=Envelope[Page[ConversationOut]],
    responses=error_responses(400, 401, 403, 422),
)
async def list_conversations(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    conversation_type: Annotated[ConversationType | None, Query(alias="type")] = None,
    agent_id: Annotated[uuid.UUID | None, Query(alias="agentId")] = None,
    customer_id: Annotated[uuid.UUID | None, Query(alias="customerId")] = None,
    conversation_status: Annotated[ConversationStatus | None, Query(alias="status")] = None,
    ai_enabled: Annotated[bool | None, Query(alias="aiEnabled")] = None,
    date_from: Annotated[date | None, Query(alias="dateFrom")] = None,
    date_to: Annotated[date | None, Query(alias="dateTo")] = None,
) -> Envelope[Page[ConversationOut]]:
    filters = ConversationFilter(
        type=conversation_type,
        agent_id=agent_id,
        customer_id=customer_id,
        status=conversation_status,
        ai_enabled=ai_enabled,
        date_from=date_from,
        date_to=date_to,
    )
    return ok(await service.list_conversations(session, ctx, page, filters))


@router.post(
    "",
    summary="Create an api or widget conversation",
    description="Bir sunucu entegrasyonu (web sitesi sohbeti) için konuşma açar. `customer` "
    "is found by externalId, then email, then phone, or created in the CRM.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[ConversationOut],
    responses=error_responses(401, 403, 404, 422),
)
async def create_conversation(
    body: ConversationCreate, ctx: Agent, session: DbSession
) -> Envelope[ConversationOut]:
    return ok(await service.create_conversation(session, ctx, body))


@router.get(
    "/{conversationId}",
    summary="Get a conversation: counters, AI switch, customer and channel refs",
    response_model=Envelope[ConversationOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_conversation(
    conversation_id: ConversationId, ctx: Viewer, session: DbSession
) -> Envelope[ConversationOut]:
    return ok(await service.get_conversation(session, ctx, conversation_id))


@router.patch(
    "/{conversationId}",
    summary="Update status, AI switch (human takeover), assignee, language or agent",
    description="Only the fields sent change; `assignee: null` clears the assignee. "
    "`aiEnabled: false` stops the agent answering this conversation.",
    response_model=Envelope[ConversationOut],
    responses=error_responses(401, 403, 404, 422),
)
async def update_conversation(
    conversation_id: ConversationId, body: ConversationUpdate, ctx: Agent, session: DbSession
) -> Envelope[ConversationOut]:
    return ok(await service.update_conversation(session, ctx, conversation_id, body))


@router.get(
    "/{conversationId}/history",
    summary="The whole history, oldest first, with the AI's function calls",
    description="WhatTalk's history shape: `role`, `content` (the text the channel got), "
    "`function_calls` [{name, arguments, result}] when the message made some, and `createdAt`.",
    response_model=Envelope[History],
    responses=error_responses(401, 403, 404, 422),
)
async def history(
    conversation_id: ConversationId, ctx: Viewer, session: DbSession
) -> Envelope[History]:
    rows = await message_service.history(session, ctx.account_id, conversation_id)
    return ok(History(history=message_service.history_entries(rows)))
