"""Normalized events a gateway webhook body turns into.

Ids follow one convention across gateways: `chat_id` is the chat JID as the gateway names it
(`...@s.whatsapp.net`/`...@c.us`, `...@g.us`, `...@lid`), and `message_id` is the bare WhatsApp
message key id (`3EB0...`), the one id both gateways and every event (edits, revokes, acks)
agree on. WAHA's serialized id (`false_<chat>_<id>[_<participant>]`) is kept in
`NormalizedMessage.provider_message_id` because WAHA's own endpoints want it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The catalogues live with the columns that store them; the adapters import them from here.
from ticaret.models.wa import Ack as Ack
from ticaret.models.wa import ChatType as ChatType
from ticaret.models.wa import MessageType as MessageType
from ticaret.models.wa import SessionStatus as SessionStatus


@dataclass(frozen=True, slots=True)
class SessionState:
    status: SessionStatus
    raw: str
    me_jid: str | None = None
    me_name: str | None = None


@dataclass(frozen=True, slots=True)
class QuotedMessage:
    message_id: str
    participant: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class NormalizedMessage:
    chat_id: str
    message_id: str
    from_me: bool
    chat_type: ChatType
    type: MessageType
    raw_type: str | None
    timestamp: datetime | None
    participant: str | None = None
    sender_jid: str | None = None
    # The phone-number JID behind a `@lid` sender (Evolution `participantAlt`/`remoteJidAlt`,
    # WAHA NOWEB `_data.key.*Alt`, GOWS `_data.Info.SenderAlt`), when the gateway knows it.
    sender_alt_jid: str | None = None
    sender_phone: str | None = None
    # Same idea for the chat itself: a 1:1 chat addressed by LID may come with its phone JID.
    chat_alt_jid: str | None = None
    push_name: str | None = None
    text: str | None = None
    mentions: tuple[str, ...] = ()
    quoted: QuotedMessage | None = None
    has_media: bool = False
    mimetype: str | None = None
    # Whatever the gateway gave about the file; `WhatsAppGateway.open_media` takes it back.
    media: Mapping[str, Any] = field(default_factory=dict)
    location: Location | None = None
    contacts: tuple[str, ...] = ()
    ack: int | None = None
    # "api" when our gateway call sent it, "device" when typed on a linked phone, None if unknown.
    origin: str | None = None
    provider_message_id: str | None = None
    is_forwarded: bool = False


@dataclass(frozen=True, slots=True)
class MessageUpserted:
    message: NormalizedMessage


@dataclass(frozen=True, slots=True)
class MessageAck:
    chat_id: str
    message_ids: tuple[str, ...]
    ack: int
    from_me: bool | None = None
    participant: str | None = None


@dataclass(frozen=True, slots=True)
class MessageEdited:
    chat_id: str
    message_id: str
    new_text: str | None
    from_me: bool | None = None
    participant: str | None = None
    edited_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessageRevoked:
    chat_id: str
    message_id: str
    for_everyone: bool = True
    from_me: bool | None = None
    participant: str | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessageDeletedForMe:
    chat_id: str
    message_id: str


@dataclass(frozen=True, slots=True)
class ReactionReceived:
    chat_id: str
    target_message_id: str
    # Empty string means the reaction was removed.
    emoji: str
    sender_jid: str | None
    from_me: bool
    reaction_message_id: str | None = None
    timestamp: datetime | None = None
    sender_alt_jid: str | None = None


@dataclass(frozen=True, slots=True)
class SessionStatusChanged:
    state: SessionState


@dataclass(frozen=True, slots=True)
class QrUpdated:
    qr: str | None
    pairing_code: str | None = None
    qr_image: str | None = None


@dataclass(frozen=True, slots=True)
class ContactUpserted:
    jid: str
    name: str | None = None
    push_name: str | None = None
    phone: str | None = None
    lid: str | None = None
    is_group: bool = False
    profile_pic_url: str | None = None


@dataclass(frozen=True, slots=True)
class ChatUpserted:
    chat_id: str
    chat_type: ChatType
    name: str | None = None
    unread_count: int | None = None


@dataclass(frozen=True, slots=True)
class ChatLabelChanged:
    chat_id: str
    label_id: str
    added: bool
    label_name: str | None = None


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """A part of a webhook body we do not turn into anything; store it and mark it skipped."""

    event_type: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class MalformedEvent(UnknownEvent):
    """A known event type whose body is missing what we need (a subtype of `UnknownEvent`)."""


GatewayEvent = (
    MessageUpserted
    | MessageAck
    | MessageEdited
    | MessageRevoked
    | MessageDeletedForMe
    | ReactionReceived
    | SessionStatusChanged
    | QrUpdated
    | ContactUpserted
    | ChatUpserted
    | ChatLabelChanged
    | UnknownEvent
)
