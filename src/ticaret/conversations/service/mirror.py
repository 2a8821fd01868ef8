"""Channel messages into conversations: the first message of a WhatsApp chat, a Messenger or
an Instagram thread starts the chat's conversation in the event's account, and every later
one is copied into it, so lists, counts and histories work across channels.

Outbox consumers call these once per event, and again on a redelivery: a message is stored
once per account (`source`, `source_message_id` unique), and a message we sent through
`post_message` is already there under its channel message's id.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.conversations.repository import conversations as conversation_repository
from ticaret.conversations.repository import messages as repository
from ticaret.conversations.service.conversations import emit_created
from ticaret.conversations.service.messages import announce
from ticaret.core.events import Actor
from ticaret.core.ids import new_id
from ticaret.crm.service.identities import find_customer_by_identity, thread_person
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
) -> bool:
    language = conversation.language or UNDETERMINED
    stored = await repository.add_mirrored(
        session,
        id=new_id(),
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
    if created:
        emit_created(session, conversation, Actor.system())
    if stored is None:
        return False
    await conversation_repository.bump(
        session, conversation.account_id, conversation.id, cost=None, at=at
    )
    message = await session.get(ConversationMessage, stored)
    assert message is not None
    announce(session, conversation, message, ai_agent_id=None, actor=Actor.system())
    return True


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
    match = await find_customer_by_identity(
        session, event.account_id, IdentityChannel.whatsapp, message.remote_jid
    )
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
        at=message.source_timestamp or datetime.now(UTC),
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
        at=message.source_timestamp,
    )
