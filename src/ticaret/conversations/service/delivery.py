"""A workspace message on a channel conversation goes out through that channel's own send
path (WhatsApp actions, Messenger / Instagram sends): its operation record, retries and acks
are the channel's, and the channel message it creates is remembered on ours so the mirror of
`wa.message.sent` / `*.message.sent` does not store it twice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.conversations.errors import ChannelUnavailable
from ticaret.conversations.schemas.messages import ChannelOperationOut
from ticaret.core.auth import AccountContext
from ticaret.models import (
    Conversation,
    ConversationType,
    MessageAction,
    MessageSource,
    MetaThread,
    WaSession,
)
from ticaret.social.schemas import SendMessage as MetaSendMessage
from ticaret.social.service import messages as social_messages
from ticaret.wa.repository import sessions as wa_sessions
from ticaret.wa.schemas import SendText
from ticaret.wa.service import actions as wa_actions
from ticaret.wa.service import messages as wa_messages
from ticaret.wa.service.access import WaContext

# Messenger and Instagram refuse longer texts.
META_TEXT_LIMIT = 2000


@dataclass(frozen=True)
class Delivered:
    operation: ChannelOperationOut
    source: MessageSource
    source_message_id: uuid.UUID | None


@dataclass(frozen=True)
class Origin:
    ip: str | None
    user_agent: str | None


async def deliver(
    session: AsyncSession,
    ctx: AccountContext,
    conversation: Conversation,
    text: str,
    origin: Origin,
) -> Delivered:
    if conversation.type == ConversationType.whatsapp:
        return await _whatsapp(session, ctx, conversation, text, origin)
    return await _meta(session, ctx, conversation, text, origin)


async def _whatsapp(
    session: AsyncSession,
    ctx: AccountContext,
    conversation: Conversation,
    text: str,
    origin: Origin,
) -> Delivered:
    assert conversation.wa_session_id is not None and conversation.remote_jid is not None
    owned = await session.get(WaSession, conversation.wa_session_id)
    wa = (
        await wa_sessions.accessible_session(session, ctx.account_id, owned.provider_session_id)
        if owned is not None
        else None
    )
    if wa is None:
        raise ChannelUnavailable()
    result = await wa_messages.request_action(
        session,
        WaContext(ctx, wa),
        conversation.remote_jid,
        SendText(action=MessageAction.send_text, text=text),
        wa_actions.RequestMeta(ip=origin.ip, user_agent=origin.user_agent),
    )
    operation = result.operation
    return Delivered(
        operation=ChannelOperationOut(
            id=operation.id,
            channel=ConversationType.whatsapp,
            kind=operation.action,
            status=operation.status,
            attempts=operation.attempts,
            last_error=operation.last_error,
            created_at=operation.created_at,
        ),
        source=MessageSource.wa,
        source_message_id=result.message.id if result.message is not None else None,
    )


async def _meta(
    session: AsyncSession,
    ctx: AccountContext,
    conversation: Conversation,
    text: str,
    origin: Origin,
) -> Delivered:
    thread = (
        await session.get(MetaThread, conversation.meta_thread_id)
        if conversation.meta_thread_id is not None
        else None
    )
    if thread is None or thread.account_id != ctx.account_id:
        raise ChannelUnavailable()
    result = await social_messages.send_message(
        session,
        ctx,
        thread.platform,
        thread.asset_id,
        thread.id,
        MetaSendMessage(text=text[:META_TEXT_LIMIT]),
        social_messages.RequestMeta(ip=origin.ip, user_agent=origin.user_agent),
    )
    operation = result.operation
    return Delivered(
        operation=ChannelOperationOut(
            id=operation.id,
            channel=ConversationType(conversation.type),
            kind=operation.kind,
            status=operation.status,
            attempts=operation.attempts,
            last_error=operation.last_error,
            created_at=operation.created_at,
        ),
        source=MessageSource.meta,
        source_message_id=result.message.id,
    )
