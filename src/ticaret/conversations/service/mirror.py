"""Channel messages into conversations: the first message of a WhatsApp chat, a Messenger or
an Instagram thread starts the chat's conversation in the event's account, and every later
one is copied into it, so lists, counts and histories work across channels.

Outbox consumers call these once per event, and again on a redelivery: a message is stored
once per account (`source`, `source_message_id` unique), and a message we sent through
`post_message` is already there under its channel message's id.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from ticaret.conversations.repository import conversations as conversation_repository
from ticaret.conversations.repository import messages as repository
from ticaret.conversations.service.conversations import emit_created
from ticaret.conversations.service.messages import announce
from ticaret.core import phones
from ticaret.core.events import Actor
from ticaret.core.ids import new_id
from ticaret.crm.service.identities import (
    IdentityMatch,
    find_customer_by_identity,
    find_customers_by_phone,
    thread_person,
)
from ticaret.models import (
    ChatType,
    Conversation,
    ConversationMessage,
    ConversationStatus,
    ConversationType,
    Event,
    IdentityChannel,
    MessageRole,
    MessageSender,
    MessageSource,
    MessageType,
    MetaAsset,
    MetaMessage,
    MetaThread,
    Platform,
    WaMessage,
    WaSession,
)

# The language of a channel message is not known: BCP 47's "undetermined".
UNDETERMINED = "und"
_WA_SKIPPED = (MessageType.reaction,)


def _placeholder(kind: str) -> str:
    return f"[{kind}]"


async def _channel_conversation(
    session: AsyncSession,
    account_id: uuid.UUID,
    key: dict[str, Any],
    conversation_type: ConversationType,
    customer: tuple[uuid.UUID | None, uuid.UUID | None],
) -> tuple[Conversation, bool]:
    return await conversation_repository.ensure_channel_conversation(
        session,
        key={"account_id": account_id, **key},
        fields={
            "id": new_id(),
            "type": conversation_type,
            "status": ConversationStatus.open,
            "ai_enabled": True,
            "customer_id": customer[0],
            "contact_id": customer[1],
            "message_count": 0,
            "total_cost": 0,
            "created_by_type": "system",
            "created_by_id": None,
        },
    )


def mirrored_id(source_message_id: uuid.UUID, account_id: uuid.UUID) -> uuid.UUID:
    """The copy's id: the channel message's time-ordered prefix (messages of one moment keep
    the order they arrived in) and a tail of its own per account (a shared session's message
    is copied into each account that sees it)."""
    tail = bytearray(hashlib.sha256(account_id.bytes + source_message_id.bytes).digest()[:8])
    tail[0] = (tail[0] & 0x3F) | 0x80  # RFC 9562 variant
    return uuid.UUID(bytes=source_message_id.bytes[:8] + bytes(tail))


def message_time(sent: datetime, stored: datetime | None) -> datetime:
    """When the message was written, for the conversation's order: the channel's time, which
    has whole seconds only; within its second, the moment we got it (a live message), so two
    messages of one second keep their order against each other and against our replies."""
    if stored is None:
        return sent
    return min(max(stored, sent), sent + timedelta(milliseconds=999))


async def _store(
    session: AsyncSession,
    conversation: Conversation,
    created: bool,
    *,
    from_me: bool,
    text: str,
    source: MessageSource,
    source_message_id: uuid.UUID,
    at: datetime,
    customer: tuple[uuid.UUID | None, uuid.UUID | None],
) -> bool:
    if created:
        emit_created(session, conversation, Actor.system())
    elif conversation.customer_id is None and customer[0] is not None:
        # The CRM linked the person after their first message (its own job): follow it.
        await conversation_repository.set_customer(
            session, conversation.account_id, conversation.id, customer[0], customer[1]
        )
        # Seen by this message's copy and event, without a second UPDATE of the row.
        set_committed_value(conversation, "customer_id", customer[0])
    language = conversation.language or UNDETERMINED
    stored = await repository.add_mirrored(
        session,
        id=mirrored_id(source_message_id, conversation.account_id),
        account_id=conversation.account_id,
        conversation_id=conversation.id,
        # Ours from a linked phone or the Page inbox is a person of the workspace.
        role=MessageRole.operator if from_me else MessageRole.user,
        sender=MessageSender.workspace if from_me else MessageSender.customer,
        content={language: text},
        language=language,
        text=text,
        attachment_ids=[],
        flags=[],
        customer_id=None if from_me else conversation.customer_id,
        source=source,
        source_message_id=source_message_id,
        actor_type="system",
        created_at=at,
    )
    if stored is None:
        return False
    await conversation_repository.bump(
        session, conversation.account_id, conversation.id, cost=None, at=at
    )
    message = await session.get(ConversationMessage, stored)
    assert message is not None
    announce(session, conversation, message, ai_agent_id=None, actor=Actor.system())
    return True


async def _whatsapp_customer(
    session: AsyncSession, account_id: uuid.UUID, remote_jid: str
) -> IdentityMatch | None:
    """The chat's customer: its identity, or (the CRM's own link job may not have run yet)
    the one customer with the chat's phone number, as the CRM's rule would link it."""
    match = await find_customer_by_identity(
        session, account_id, IdentityChannel.whatsapp, remote_jid
    )
    if match is not None:
        return match
    phone = phones.phone_of_jid(remote_jid)
    candidates = await find_customers_by_phone(session, account_id, phone) if phone else []
    return candidates[0] if len(candidates) == 1 else None


async def mirror_wa_event(session: AsyncSession, event_id: str) -> bool:
    event = await session.get(Event, event_id)
    if event is None:
        return False
    try:
        message_pk = uuid.UUID(str(event.data.get("id")))
    except ValueError:
        return False
    message = await session.get(WaMessage, message_pk)
    if (
        message is None
        or message.chat_type != ChatType.individual
        or message.type in _WA_SKIPPED
        or message.deleted_for_everyone
    ):
        return False
    wa = await session.get(WaSession, message.session_id)
    if wa is None or wa.deleted_at is not None:
        return False
    match = await _whatsapp_customer(session, event.account_id, message.remote_jid)
    conversation, created = await _channel_conversation(
        session,
        event.account_id,
        {"wa_session_id": wa.id, "remote_jid": message.remote_jid},
        ConversationType.whatsapp,
        (match.customer_id, match.contact_id) if match else (None, None),
    )
    return await _store(
        session,
        conversation,
        created,
        from_me=message.from_me,
        text=message.text or _placeholder(message.type),
        source=MessageSource.wa,
        source_message_id=message.id,
        at=message_time(message.source_timestamp, message.created_at),
        customer=(match.customer_id, match.contact_id) if match else (None, None),
    )


async def mirror_social_event(session: AsyncSession, event_id: str) -> bool:
    event = await session.get(Event, event_id)
    if event is None:
        return False
    try:
        message_pk = uuid.UUID(str(event.data.get("id")))
    except ValueError:
        return False
    message = await session.get(MetaMessage, message_pk)
    if message is None or message.account_id != event.account_id or message.deleted:
        return False
    thread = await session.get(MetaThread, message.thread_id)
    asset = await session.get(MetaAsset, message.asset_id)
    if thread is None or asset is None:
        return False
    channel, scope, value = thread_person(asset, thread)
    match = await find_customer_by_identity(session, event.account_id, channel, value, scope=scope)
    conversation, created = await _channel_conversation(
        session,
        event.account_id,
        {"meta_thread_id": thread.id},
        ConversationType.instagram
        if thread.platform == Platform.instagram
        else ConversationType.meta,
        (match.customer_id, match.contact_id) if match else (None, None),
    )
    return await _store(
        session,
        conversation,
        created,
        from_me=message.from_me,
        text=message.text or _placeholder(message.type),
        source=MessageSource.meta,
        source_message_id=message.id,
        at=message_time(message.source_timestamp, message.created_at),
        customer=(match.customer_id, match.contact_id) if match else (None, None),
    )
