"""`/conversations/{id}/messages`: the Connect360 send and the message list."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from ticaret.conversations.router.deps import ConversationId
from ticaret.conversations.schemas.messages import (
    ConversationMessageOut,
    MessageSent,
    SendMessage,
    SendResult,
)
from ticaret.conversations.service import messages as service
from ticaret.conversations.service.delivery import Origin
from ticaret.core.auth import client_ip
from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.idempotency import Idempotent
from ticaret.core.openapi import error_responses

router = APIRouter(prefix="/conversations", tags=["Conversations"])


@router.get(
    "/{conversationId}/messages",
    summary="List a conversation's messages, oldest to newest (cursor)",
    description="Mesajları eskiden yeniye listeler; `nextCursor` gives the next page.",
    response_model=Envelope[Page[ConversationMessageOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_messages(
    conversation_id: ConversationId, ctx: Viewer, session: DbSession, page: Paging
) -> Envelope[Page[ConversationMessageOut]]:
    return ok(await service.list_messages(session, ctx, conversation_id, page))


@router.post(
    "/{conversationId}/messages",
    summary="Send a message (Connect360 input): as the workspace or as the customer",
    description="Mesaj gönderir. `content` keeps every language; the channel gets the "
    "conversation's language or the first one. A workspace message on a WhatsApp, Messenger "
    "or Instagram conversation goes out through that channel (`operation` follows it). "
    "Attachments (`attachmentIds`): WhatsApp sends the file itself (one file per message, the "
    "text as its caption, one `send_media` operation); Messenger and Instagram only take files "
    "by public URL, so a message with attachments there is a 422 `attachment_not_deliverable` "
    "(as are several files, or a caption over 4096 characters, on WhatsApp), nothing stored; "
    "`sender: customer` records the customer's message (found or created from `customer`). "
    "`ai.agentId` asks that agent to answer, asynchronously. `Idempotency-Key` makes a retry "
    "return the first answer.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[SendResult | MessageSent],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def send_message(
    conversation_id: ConversationId,
    body: SendMessage,
    ctx: Agent,
    session: DbSession,
    request: Request,
    idempotency: Idempotent,
) -> Envelope[SendResult | MessageSent] | JSONResponse:
    origin = Origin(client_ip(request), request.headers.get("user-agent"))

    async def perform() -> Envelope[SendResult | MessageSent]:
        return ok(await service.send(session, ctx, conversation_id, body, origin))

    return await idempotency.run(
        session,
        ctx.account_id,
        perform,
        status_code=status.HTTP_201_CREATED,
        scope=f"conversations.messages:{conversation_id}",
        fingerprint=body.model_dump(mode="json"),
    )
