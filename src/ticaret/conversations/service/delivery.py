"""A workspace message on a channel conversation goes out through that channel's own send
path (WhatsApp actions, Messenger / Instagram sends): its operation record, retries and acks
are the channel's, and the channel message it creates is remembered on ours so the mirror of
`wa.message.sent` / `*.message.sent` does not store it twice.

Attachments: WhatsApp takes the file itself (base64 through the gateway's media send, read
from our attachment store, so no public URL of it is ever needed), one file per message with
the text as its caption, keeping one operation and one channel message per message. Messenger
and Instagram only fetch files from a public URL, which our attachments do not have: a
workspace message with files on those channels is refused, never sent without them."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.conversations.errors import (
    AttachmentNotDeliverable,
    AttachmentNotFound,
    ChannelUnavailable,
)
from ticaret.conversations.schemas.messages import ChannelOperationOut
from ticaret.conversations.service.attachments import path_of
from ticaret.core.auth import AccountContext
from ticaret.models import (
    Conversation,
    ConversationAttachment,
    ConversationType,
    MessageAction,
    MessageSource,
    MetaThread,
    WaSession,
)
from ticaret.social.schemas import SendMessage as MetaSendMessage
from ticaret.social.service import messages as social_messages
from ticaret.wa.repository import sessions as wa_sessions
from ticaret.wa.schemas import MediaSource, SendMedia, SendText
from ticaret.wa.service import actions as wa_actions
from ticaret.wa.service import messages as wa_messages
from ticaret.wa.service.access import WaContext

# Messenger and Instagram refuse longer texts.
META_TEXT_LIMIT = 2000
# WhatsApp's caption limit (the media send's `caption`).
WA_CAPTION_LIMIT = 4096


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
    text: str | None,
    origin: Origin,
    files: Sequence[ConversationAttachment] = (),
) -> Delivered:
    check_deliverable(conversation.type, text, files)
    if conversation.type == ConversationType.whatsapp:
        return await _whatsapp(session, ctx, conversation, text, origin, files)
    assert text is not None
    return await _meta(session, ctx, conversation, text, origin)


def check_deliverable(
    conversation_type: str, text: str | None, files: Sequence[ConversationAttachment]
) -> None:
    """The refusals of `deliver`, before anything is stored or sent."""
    if not files:
        return
    if conversation_type != ConversationType.whatsapp:
        raise AttachmentNotDeliverable(
            "Messenger and Instagram fetch files from a public URL, which attachments do "
            "not have: send the text alone, or a link to the file."
        )
    if len(files) > 1:
        raise AttachmentNotDeliverable(
            "WhatsApp sends one file per message: send each file in its own message."
        )
    if text is not None and len(text) > WA_CAPTION_LIMIT:
        raise AttachmentNotDeliverable(
            f"A WhatsApp file's caption is at most {WA_CAPTION_LIMIT} characters: "
            "send the text in its own message."
        )


async def _read(file: ConversationAttachment) -> bytes:
    try:
        return await asyncio.to_thread(path_of(file.sha256).read_bytes)
    except FileNotFoundError as exc:
        raise AttachmentNotFound("The attachment's file is missing from storage.") from exc


async def _whatsapp(
    session: AsyncSession,
    ctx: AccountContext,
    conversation: Conversation,
    text: str | None,
    origin: Origin,
    files: Sequence[ConversationAttachment],
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
    body: SendText | SendMedia
    if files:
        [file] = files
        data = await _read(file)
        body = SendMedia(
            action=MessageAction.send_media,
            media=MediaSource(
                data=base64.b64encode(data).decode("ascii"),
                mimetype=file.content_type,
                filename=file.filename,
            ),
            caption=text,
        )
    else:
        assert text is not None
        body = SendText(action=MessageAction.send_text, text=text)
    result = await wa_messages.request_action(
        session,
        WaContext(ctx, wa),
        conversation.remote_jid,
        body,
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
