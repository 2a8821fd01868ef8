"""Channel messages into conversations: the first message of a WhatsApp chat, a Messenger or
an Instagram thread starts the chat's conversation in the event's account, and every later
one is copied into it, so lists, counts and histories work across channels.

Outbox consumers call these for a commit's events (and again on a redelivery): a message is stored
once per account (`source`, `source_message_id` unique), and a message we sent through
`post_message` is already there under its channel message's id.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from ticaret.conversations import events as conversation_events
from ticaret.conversations.repository import channels as wa_repository
from ticaret.conversations.repository import conversations as conversation_repository
from ticaret.conversations.repository import messages as repository
from ticaret.conversations.repository.conversations import ChatConversation, NewChat, WaChatKey
from ticaret.conversations.schemas.conversations import ConversationData
from ticaret.conversations.service.conversations import emit_created
from ticaret.conversations.service.messages import announce
from ticaret.core import phones
from ticaret.core.envelope import format_timestamp
from ticaret.core.events import Actor, Emission, emit_many
from ticaret.core.ids import new_id
from ticaret.crm.service.identities import (
    IdentityMatch,
    accounts_with_customers,
    find_customer_by_identity,
    find_customers_by_phone,
    thread_person,
)
from ticaret.models import (
    Conversation,
    ConversationMessage,
    ConversationStatus,
    ConversationType,
    Event,
    IdentityChannel,
    MessageRole,
    MessageSender,
    MessageSource,
    MetaAsset,
    MetaMessage,
    MetaThread,
    Platform,
)

# The language of a channel message is not known: BCP 47's "undetermined".
UNDETERMINED = "und"


def _placeholder(kind: str) -> str:
    return f"[{kind}]"


def _new_conversation(
    conversation_type: ConversationType, match: IdentityMatch | None
) -> dict[str, Any]:
    """A channel conversation's columns but its key, as its first message makes it."""
    return {
        "id": new_id(),
        "type": conversation_type,
        "status": ConversationStatus.open,
        "ai_enabled": True,
        "customer_id": match.customer_id if match else None,
        "contact_id": match.contact_id if match else None,
        "message_count": 0,
        "total_cost": 0,
        "created_by_type": "system",
        "created_by_id": None,
    }


async def _channel_conversation(
    session: AsyncSession,
    account_id: uuid.UUID,
    key: dict[str, Any],
    conversation_type: ConversationType,
    match: IdentityMatch | None,
) -> tuple[Conversation, bool]:
    return await conversation_repository.ensure_channel_conversation(
        session,
        key={"account_id": account_id, **key},
        fields=_new_conversation(conversation_type, match),
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


def _copy(
    *,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    language: str | None,
    customer_id: uuid.UUID | None,
    from_me: bool,
    text: str,
    source: MessageSource,
    source_message_id: uuid.UUID,
    at: datetime,
) -> dict[str, Any]:
    """The columns of a channel message's copy in a conversation (of `account_id`, in
    `language`, with `customer_id`)."""
    language = language or UNDETERMINED
    return {
        "id": mirrored_id(source_message_id, account_id),
        "account_id": account_id,
        "conversation_id": conversation_id,
        # Ours from a linked phone or the Page inbox is a person of the workspace.
        "role": MessageRole.operator if from_me else MessageRole.user,
        "sender": MessageSender.workspace if from_me else MessageSender.customer,
        "content": {language: text},
        "language": language,
        "text": text,
        "attachment_ids": [],
        "flags": [],
        "customer_id": None if from_me else customer_id,
        "source": source,
        "source_message_id": source_message_id,
        "actor_type": "system",
        "created_at": at,
    }


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
    stored = await repository.add_mirrored(
        session,
        **_copy(
            account_id=conversation.account_id,
            conversation_id=conversation.id,
            language=conversation.language,
            customer_id=conversation.customer_id,
            from_me=from_me,
            text=text,
            source=source,
            source_message_id=source_message_id,
            at=at,
        ),
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


@dataclass(frozen=True)
class _WaItem:
    account_id: uuid.UUID
    message: Any  # a row of `channels.mirrorable_messages`

    @property
    def chat(self) -> WaChatKey:
        return (self.account_id, self.message.session_id, self.message.remote_jid)


def _message_pk(data_id: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(data_id))
    except ValueError:
        return None


def _conversation_created(conversation: ChatConversation) -> ConversationData:
    """`conversation.created` of a chat's new conversation, from the row as read (the values
    are the columns' own: nothing to validate)."""
    return ConversationData.model_construct(
        id=conversation.id,
        type=ConversationType(conversation.type),
        status=ConversationStatus(conversation.status),
        ai_enabled=conversation.ai_enabled,
        agent_id=conversation.agent_id,
        customer_id=conversation.customer_id,
        assignee_user_id=conversation.assignee_user_id,
        assignee_group_id=conversation.assignee_group_id,
        message_count=conversation.message_count,
        total_cost=conversation.total_cost,
    )


def _message_created(conversation: ChatConversation, copy: dict[str, Any]) -> dict[str, Any]:
    """`conversation.message.created` of a stored copy, exactly as `messages.announce` words
    it (a customer's message names the conversation's agent while its AI is on and it is
    open), from the columns the copy was stored with: `MessageCreated`'s JSON dump, built as
    JSON values at once (the test of the batch path holds it to the validated model's)."""
    ai_agent_id: str | None = None
    trigger: Literal["auto"] | None = None
    if (
        copy["role"] == MessageRole.user
        and conversation.ai_enabled
        and conversation.agent_id is not None
        and conversation.status == ConversationStatus.open
    ):
        ai_agent_id, trigger = str(conversation.agent_id), "auto"
    return {
        "id": str(copy["id"]),
        "conversationId": str(conversation.id),
        "conversationType": str(ConversationType(conversation.type)),
        "role": str(MessageRole(copy["role"])),
        "sender": str(MessageSender(copy["sender"])),
        "language": copy["language"],
        "text": copy["text"],
        "agentRunId": None,
        "aiAgentId": ai_agent_id,
        "aiTrigger": trigger,
        "cost": None,
        "createdAt": format_timestamp(copy["created_at"]),
    }


async def mirror_wa_events(session: AsyncSession, event_ids: list[str]) -> list[bool]:
    """One commit's WhatsApp message events into their chats' conversations, with plain
    statements (no ORM objects): the events' message ids and the mirrorable messages are read
    with one query each, the chats' conversations ensured and read with one statement each,
    the copies stored with one, the counters moved by one statement run per conversation, and
    the events emitted in the order of the messages (a new conversation's
    `conversation.created` before its first message's `conversation.message.created`).
    One flag per event: whether it stored a message."""
    stored_events = await wa_repository.event_messages(session, dict.fromkeys(event_ids))
    found = {
        event_id: (account_id, pk)
        for event_id, account_id, data_id in stored_events
        if (pk := _message_pk(data_id)) is not None
    }
    messages = await wa_repository.mirrorable_messages(session, {pk for _, pk in found.values()})
    items: list[_WaItem] = []
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for event_id in dict.fromkeys(event_ids):  # in the order they were emitted
        account_id, pk = found.get(event_id, (_NO_MESSAGE, _NO_MESSAGE))
        message = messages.get(pk)
        if message is None or (account_id, pk) in seen:  # the same message twice in a batch
            continue
        seen.add((account_id, pk))
        items.append(_WaItem(account_id, message))
    if not items:
        return [False] * len(event_ids)
    # The chats' customers: only accounts that have a customer can match one (most
    # accounts' chats need no lookup at all).
    with_customers = await accounts_with_customers(session, {item.account_id for item in items})
    matches: dict[WaChatKey, IdentityMatch | None] = {}
    for item in items:
        if item.account_id in with_customers and item.chat not in matches:
            matches[item.chat] = await _whatsapp_customer(
                session, item.account_id, item.message.remote_jid
            )
    new = _new_conversation(ConversationType.whatsapp, None)
    conversations, created = await conversation_repository.ensure_wa_conversations(
        session,
        [
            NewChat(
                chat,
                new_id(),
                match.customer_id if match else None,
                match.contact_id if match else None,
            )
            for chat in dict.fromkeys(item.chat for item in items)
            for match in [matches.get(chat)]
        ],
        conversation_type=new["type"],
        status=new["status"],
        ai_enabled=new["ai_enabled"],
        created_by_type=new["created_by_type"],
    )
    for chat, conversation in conversations.items():
        match = matches.get(chat)
        if conversation.id not in created and conversation.customer_id is None and match:
            # The CRM linked the person after their first message (its own job): follow it.
            await conversation_repository.set_customer(
                session,
                conversation.account_id,
                conversation.id,
                match.customer_id,
                match.contact_id,
            )
            conversation.customer_id = match.customer_id
    rows: list[dict[str, Any]] = []
    for item in items:
        conversation = conversations[item.chat]
        message = item.message
        rows.append(
            _copy(
                account_id=conversation.account_id,
                conversation_id=conversation.id,
                language=conversation.language,
                customer_id=conversation.customer_id,
                from_me=message.from_me,
                text=message.text or _placeholder(message.type),
                source=MessageSource.wa,
                source_message_id=message.id,
                at=message_time(message.source_timestamp, message.created_at),
            )
        )
    stored = await repository.add_mirrored_many(session, rows)
    counts: dict[uuid.UUID, tuple[ChatConversation, int, datetime]] = {}
    for item, row in zip(items, rows, strict=True):
        if row["id"] in stored:
            conversation = conversations[item.chat]
            _, n, at = counts.get(conversation.id, (conversation, 0, row["created_at"]))
            counts[conversation.id] = (conversation, n + 1, max(at, row["created_at"]))
    await conversation_repository.bump_many(
        session, [(c.account_id, c.id, n, at) for c, n, at in counts.values()]
    )
    announced: set[uuid.UUID] = set()
    mirrored: set[uuid.UUID] = set()
    # One `emit_many` for the batch's events, in this order (no ORM event objects).
    emissions: list[Emission] = []
    for item, row in zip(items, rows, strict=True):
        if row["id"] not in stored:
            continue
        conversation = conversations[item.chat]
        if conversation.id in created and conversation.id not in announced:
            announced.add(conversation.id)
            emissions.append(
                Emission(
                    conversation_events.CONVERSATION_CREATED,
                    _conversation_created(conversation).model_dump(mode="json", by_alias=True),
                    conversation.account_id,
                )
            )
        emissions.append(
            Emission(
                conversation_events.MESSAGE_CREATED,
                _message_created(conversation, row),
                conversation.account_id,
            )
        )
        mirrored.add(item.message.id)
    await emit_many(session, emissions, actor=Actor.system())
    return [found.get(event_id, (None, None))[1] in mirrored for event_id in event_ids]


_NO_MESSAGE = uuid.UUID(int=0)


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
        match,
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


# The sweeper --------------------------------------------------------------------------------

SWEEP_GRACE = timedelta(seconds=30)
SWEEP_WINDOW = timedelta(hours=6)
SWEEP_BATCH = 200


async def unmirrored_wa_events(session: AsyncSession, types: Sequence[str]) -> list[str]:
    """WhatsApp message events whose mirror job was lost (Redis lost it, or the worker died
    and arq gave up): the sweeper queues them again, as one batch."""
    now = datetime.now(UTC)
    return await wa_repository.wa_events_not_mirrored(
        session,
        types,
        since=now - SWEEP_WINDOW,
        relayed_before=now - SWEEP_GRACE,
        limit=SWEEP_BATCH,
    )
