"""WhatsApp: sessions (and their shares), contacts, chats, messages, labels and outgoing
message operations, with the catalogues of their status and kind columns.

Chats, contacts and messages belong to a session: every account the session is shared with
sees the same conversation. Labels belong to accounts: two accounts sharing a session label
the same chat independently.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from ticaret.models.base import Base, IdMixin, TimestampMixin, VersionedMixin, one_of
from ticaret.models.core import ActorType


class SessionStatus(enum.StrEnum):
    """A session's state as every gateway's own states map onto it."""

    STOPPED = "stopped"
    STARTING = "starting"
    SCAN_QR = "scan_qr"
    WORKING = "working"
    FAILED = "failed"


class ChatType(enum.StrEnum):
    individual = "individual"
    group = "group"
    broadcast = "broadcast"
    newsletter = "newsletter"


class MessageType(enum.StrEnum):
    text = "text"
    image = "image"
    video = "video"
    audio = "audio"
    voice = "voice"
    document = "document"
    sticker = "sticker"
    location = "location"
    contacts = "contacts"
    reaction = "reaction"
    poll = "poll"
    unknown = "unknown"


class Ack(enum.IntEnum):
    """A message's delivery state, on WAHA's scale (used for both gateways)."""

    ERROR = -1
    PENDING = 0
    SERVER = 1
    DEVICE = 2
    READ = 3
    PLAYED = 4


class MessageAction(enum.StrEnum):
    """What an operation asks the gateway to do; each has one unit in `wa/service/actions`."""

    send_text = "send_text"
    send_media = "send_media"
    reply = "reply"
    react = "react"
    edit = "edit"
    delete = "delete"
    forward = "forward"
    read = "read"


class OperationStatus(enum.StrEnum):
    queued = "queued"  # waiting for its job (again between retries)
    sending = "sending"  # the gateway call is in flight
    sent = "sent"
    failed = "failed"
    # The call was in flight when its worker died and the gateway cannot tell whether it went
    # out: never re-sent blind, the operator decides (`POST /wa/operations/{id}/retry`).
    unknown = "unknown"


class ShareStatus(enum.StrEnum):
    """A session share is an offer the target account's admin accepts or declines."""

    pending = "pending"
    accepted = "accepted"
    declined = "declined"


class LabelStatus(enum.StrEnum):
    active = "active"
    archived = "archived"


class LabelChange(enum.StrEnum):
    created = "created"
    updated = "updated"
    deleted = "deleted"
    added = "added"
    removed = "removed"


class LabelTarget(enum.StrEnum):
    label = "label"
    chat = "chat"
    message = "message"


class WaSession(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "wa_sessions"
    __table_args__ = (one_of("status", SessionStatus),)

    # The owner; shares give other accounts access without moving the session.
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    # Public id on every /wa path, and the instance/session name on the gateway.
    provider_session_id: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    base_url: Mapped[str | None] = mapped_column(String(500))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    # Encrypted, not hashed: WAHA signs bodies with it (HMAC), so we need it in clear to verify.
    webhook_secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=SessionStatus.STOPPED)
    raw_status: Mapped[str | None] = mapped_column(String(50))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    me_jid: Mapped[str | None] = mapped_column(String(128))
    me_phone: Mapped[str | None] = mapped_column(String(32))
    me_name: Mapped[str | None] = mapped_column(String(200))
    # Latest QR/pairing code pushed by the gateway (Evolution `qrcode.updated`).
    pairing: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    last_error: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WaSessionShare(IdMixin, TimestampMixin, Base):
    """An offer of a session to another account; only an accepted one gives access."""

    __tablename__ = "wa_session_shares"
    __table_args__ = (
        UniqueConstraint("session_id", "account_id", name="uq_wa_session_shares_session_account"),
        one_of("created_by_type", ActorType),
        one_of("status", ShareStatus),
        one_of("responded_by_type", ActorType),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), nullable=False
    )
    # No foreign key: an offer to an id that is no account is stored like any other, so the
    # owner's answer never tells whether an account id exists. It simply is never accepted.
    account_id: Mapped[uuid.UUID] = mapped_column(index=True, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=ShareStatus.pending)
    created_by_type: Mapped[str] = mapped_column(String(20), nullable=False)
    created_by_id: Mapped[str | None] = mapped_column(String(64))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    responded_by_type: Mapped[str | None] = mapped_column(String(20))
    responded_by_id: Mapped[str | None] = mapped_column(String(64))


class WaContact(IdMixin, TimestampMixin, Base):
    __tablename__ = "wa_contacts"
    __table_args__ = (
        UniqueConstraint("session_id", "jid", name="uq_wa_contacts_session_jid"),
        Index("ix_wa_contacts_session_id_desc", "session_id", text("id DESC")),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), nullable=False
    )
    jid: Mapped[str] = mapped_column(String(128), nullable=False)
    lid: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    push_name: Mapped[str | None] = mapped_column(String(200))
    is_group: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    profile_pic_url: Mapped[str | None] = mapped_column(Text)


class WaChat(IdMixin, TimestampMixin, Base):
    __tablename__ = "wa_chats"
    __table_args__ = (
        UniqueConstraint("session_id", "remote_jid", name="uq_wa_chats_session_remote_jid"),
        # The chat list's order (latest activity first, chats without messages last).
        Index(
            "ix_wa_chats_session_activity",
            "session_id",
            text("coalesce(last_message_at, 'epoch'::timestamptz) DESC"),
            text("id DESC"),
        ),
        # The CRM finds a person's chats by either JID (`@lid` or phone).
        Index("ix_wa_chats_alt_jid", "alt_jid", postgresql_where=text("alt_jid IS NOT NULL")),
        one_of("type", ChatType),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), nullable=False
    )
    remote_jid: Mapped[str] = mapped_column(String(128), nullable=False)
    # The phone JID behind a `@lid` chat, once the gateway tells us.
    alt_jid: Mapped[str | None] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_message_preview: Mapped[str | None] = mapped_column(String(300))
    last_message_from_me: Mapped[bool | None] = mapped_column(Boolean)
    unread_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class WaMessage(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "wa_messages"
    __table_args__ = (
        UniqueConstraint(
            "session_id", "remote_jid", "message_id", name="uq_wa_messages_session_chat_message"
        ),
        # Keyset pagination of one chat, newest first.
        Index(
            "ix_wa_messages_chat_timeline",
            "session_id",
            "remote_jid",
            text("source_timestamp DESC"),
            text("id DESC"),
        ),
        # A whole session's messages newest first (a CRM customer bound to the inbox).
        Index(
            "ix_wa_messages_session_time",
            "session_id",
            text("source_timestamp DESC"),
            text("id DESC"),
        ),
        # Acks, edits and revokes name a message by its key id alone.
        Index("ix_wa_messages_session_message_id", "session_id", "message_id"),
        Index("ix_wa_messages_search", "search", postgresql_using="gin"),
        one_of("chat_type", ChatType),
        one_of("type", MessageType),
        one_of("status", Ack),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), nullable=False
    )
    remote_jid: Mapped[str] = mapped_column(String(128), nullable=False)
    # The gateway's message key id; `local:<uuid>` until the gateway accepted our send.
    message_id: Mapped[str] = mapped_column(String(200), nullable=False)
    provider_message_id: Mapped[str | None] = mapped_column(String(300))
    from_me: Mapped[bool] = mapped_column(Boolean, nullable=False)
    participant: Mapped[str | None] = mapped_column(String(128))
    sender_jid: Mapped[str | None] = mapped_column(String(128))
    sender_jid_resolved: Mapped[str | None] = mapped_column(String(128))
    sender_phone: Mapped[str | None] = mapped_column(String(32))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    push_name: Mapped[str | None] = mapped_column(String(200))
    chat_type: Mapped[str] = mapped_column(String(16), nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str | None] = mapped_column(Text)
    emoji: Mapped[str | None] = mapped_column(String(32))
    reaction_target: Mapped[str | None] = mapped_column(String(200))
    mentions: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    quoted_message: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    has_media: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    mimetype: Mapped[str | None] = mapped_column(String(200))
    media: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    location: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    contacts: Mapped[list[str] | None] = mapped_column(JSONB)
    # Reactions others put on this message: {senderJid: emoji}.
    reactions: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, default=dict)
    # Ack on WAHA's scale: -1 error, 0 pending, 1 server, 2 device, 3 read, 4 played.
    status: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    is_forwarded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    edited: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_for_me: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    deleted_for_everyone: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    origin: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    source_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # Only ever filtered on, never read: not loaded with the row.
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed("to_tsvector('simple', coalesce(text, ''))", persisted=True),
        deferred=True,
    )


class WaLabel(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "wa_labels"
    __table_args__ = (
        Index("uq_wa_labels_account_name", "account_id", func.lower(text("name")), unique=True),
        one_of("status", LabelStatus),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    color: Mapped[str] = mapped_column(String(20), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=LabelStatus.active)


class WaChatLabel(IdMixin, Base):
    __tablename__ = "wa_chat_labels"
    __table_args__ = (UniqueConstraint("label_id", "chat_id", name="uq_wa_chat_labels_label_chat"),)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    label_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_labels.id", ondelete="CASCADE"), nullable=False
    )
    chat_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_chats.id", ondelete="CASCADE"), index=True, nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class WaMessageLabel(IdMixin, Base):
    __tablename__ = "wa_message_labels"
    __table_args__ = (
        UniqueConstraint("label_id", "message_id", name="uq_wa_message_labels_label_message"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    label_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_labels.id", ondelete="CASCADE"), nullable=False
    )
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_messages.id", ondelete="CASCADE"), index=True, nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class WaLabelHistory(IdMixin, Base):
    """Who added or removed which label where; kept after the label itself is deleted."""

    __tablename__ = "wa_label_history"
    __table_args__ = (
        Index("ix_wa_label_history_account_id_desc", "account_id", "id"),
        one_of("action", LabelChange),
        one_of("target_type", LabelTarget),
        one_of("actor_type", ActorType),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    label_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    label_name: Mapped[str] = mapped_column(String(100), nullable=False)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    target_type: Mapped[str] = mapped_column(String(20), nullable=False)
    provider_session_id: Mapped[str | None] = mapped_column(String(100))
    remote_jid: Mapped[str | None] = mapped_column(String(128))
    message_id: Mapped[str | None] = mapped_column(String(200))
    actor_type: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class WaMessageOperation(IdMixin, TimestampMixin, Base):
    """One gateway call we owe (send, react, edit, ...), performed by a job with retries."""

    __tablename__ = "wa_message_operations"
    __table_args__ = (
        Index(
            "ix_wa_message_operations_pending",
            "updated_at",
            postgresql_where=text("status IN ('queued', 'sending')"),
        ),
        one_of("action", MessageAction),
        one_of("status", OperationStatus),
        one_of("actor_type", ActorType),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), index=True, nullable=False
    )
    message_pk: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("wa_messages.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=OperationStatus.queued)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    request: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # An uploaded file waiting to be sent; cleared once the gateway has it.
    upload: Mapped[bytes | None] = mapped_column(LargeBinary)
    actor_type: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WaEarlyAck(IdMixin, Base):
    """An ack for a message we do not have yet (the gateway's webhooks raced each other, or our
    own send's answer is still on its way); applied when the message lands."""

    __tablename__ = "wa_early_acks"
    __table_args__ = (
        UniqueConstraint("session_id", "message_id", "ack", name="uq_wa_early_acks_message_ack"),
        one_of("ack", Ack),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), nullable=False
    )
    message_id: Mapped[str] = mapped_column(String(200), nullable=False)
    ack: Mapped[int] = mapped_column(Integer, nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )
