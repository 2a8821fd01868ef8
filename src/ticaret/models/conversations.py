"""Conversations: one resource over every channel (WhatsApp chats, Page and Instagram threads,
and the api / widget / test conversations that have no channel of their own), their messages
in every language they were written in, and the files attached to them.

A WhatsApp chat or a Meta thread gets its conversation when its first message arrives, per
account (a shared WhatsApp session's chat is a conversation of each account that sees it);
later messages are mirrored into `conversation_messages`, once each (`source_message_id`).
`message_count`, `total_cost` and `last_message_at` are kept current by whoever adds a message
(`conversations.service.messages`), so lists never count on read.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ticaret.models.base import Base, IdMixin, TimestampMixin, one_of
from ticaret.models.core import ActorType

# Costs are sums of fractions of a cent (the AI's price per token).
COST = Numeric(18, 8)


class ConversationType(enum.StrEnum):
    test = "test"  # an agent's test chat (`POST /ai/agents/{id}/test`)
    widget = "widget"  # a website's chat widget, through its backend
    whatsapp = "whatsapp"
    api = "api"  # a server integration's own conversation
    meta = "meta"  # a Facebook Page's Messenger thread
    instagram = "instagram"


CHANNEL_TYPES = (ConversationType.whatsapp, ConversationType.meta, ConversationType.instagram)


class ConversationStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


class MessageRole(enum.StrEnum):
    user = "user"  # the customer
    assistant = "assistant"  # an AI agent
    operator = "operator"  # a person (or integration) of the workspace


class MessageSender(enum.StrEnum):
    workspace = "workspace"
    customer = "customer"


class MessageSource(enum.StrEnum):
    """Where a mirrored message came from; NULL for one posted through the API or an agent."""

    wa = "wa"
    meta = "meta"


class Conversation(IdMixin, TimestampMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # Lists: newest first, per account.
        Index("ix_conversations_account_created", "account_id", text("created_at DESC"), "id"),
        Index(
            "ix_conversations_account_agent",
            "account_id",
            "agent_id",
            postgresql_where=text("agent_id IS NOT NULL"),
        ),
        Index(
            "ix_conversations_account_customer",
            "account_id",
            "customer_id",
            postgresql_where=text("customer_id IS NOT NULL"),
        ),
        # One conversation per chat and per thread in each account.
        Index(
            "uq_conversations_account_wa_chat",
            "account_id",
            "wa_session_id",
            "remote_jid",
            unique=True,
            postgresql_where=text("wa_session_id IS NOT NULL"),
        ),
        Index(
            "uq_conversations_account_meta_thread",
            "account_id",
            "meta_thread_id",
            unique=True,
            postgresql_where=text("meta_thread_id IS NOT NULL"),
        ),
        one_of("type", ConversationType),
        one_of("status", ConversationStatus),
        CheckConstraint("message_count >= 0", name="message_count_not_negative"),
        CheckConstraint("(wa_session_id IS NULL) = (remote_jid IS NULL)", name="wa_chat_complete"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=ConversationStatus.open)
    ai_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # The AI agent that answers it.
    agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ai_agents.id", ondelete="SET NULL")
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crm_customers.id", ondelete="SET NULL")
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crm_contacts.id", ondelete="SET NULL")
    )
    assignee_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    assignee_group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crm_groups.id", ondelete="SET NULL")
    )
    language: Mapped[str | None] = mapped_column(String(10))
    # Channel refs: the WhatsApp chat (session + remote JID) or the Page / Instagram thread.
    wa_session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE")
    )
    remote_jid: Mapped[str | None] = mapped_column(String(128))
    meta_thread_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meta_threads.id", ondelete="CASCADE")
    )
    # Where an api / widget conversation lives on the integrator's side (a site's domain, ...).
    channel_identifier: Mapped[str | None] = mapped_column(String(300))
    message_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_cost: Mapped[Decimal] = mapped_column(COST, nullable=False, default=Decimal(0))
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_type: Mapped[str] = mapped_column(String(20), nullable=False)
    created_by_id: Mapped[str | None] = mapped_column(String(64))


class ConversationMessage(IdMixin, Base):
    __tablename__ = "conversation_messages"
    __table_args__ = (
        # History and message pages: oldest first within a conversation.
        Index("ix_conversation_messages_timeline", "conversation_id", "created_at", "id"),
        # A mirrored channel message is stored once per account, however often it is delivered.
        Index(
            "uq_conversation_messages_account_source",
            "account_id",
            "source",
            "source_message_id",
            unique=True,
            postgresql_where=text("source_message_id IS NOT NULL"),
        ),
        Index(
            "ix_conversation_messages_agent_run",
            "agent_run_id",
            postgresql_where=text("agent_run_id IS NOT NULL"),
        ),
        one_of("role", MessageRole),
        one_of("sender", MessageSender),
        one_of("source", MessageSource),
        one_of("actor_type", ActorType),
        CheckConstraint("cost IS NULL OR cost >= 0", name="cost_not_negative"),
        CheckConstraint("(source IS NULL) = (source_message_id IS NULL)", name="source_complete"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    role: Mapped[str] = mapped_column(String(12), nullable=False)
    sender: Mapped[str] = mapped_column(String(12), nullable=False)
    # Every language it was written in: {"tr": "...", "en": "..."}.
    content: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, default=dict)
    # The language the channel got (the conversation's, or the first one) and its text.
    language: Mapped[str | None] = mapped_column(String(10))
    text: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="SET NULL")
    )
    attachment_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(Uuid), nullable=False, default=list
    )
    flags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    # [{name, arguments, result}] of the agent run step that produced it.
    function_calls: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    agent_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    tokens: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[Decimal | None] = mapped_column(COST)
    # The customer (CRM) who wrote it, when sent as the customer through the API.
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crm_customers.id", ondelete="SET NULL")
    )
    channel_identifier: Mapped[str | None] = mapped_column(String(300))
    # The channel's send: a `wa_message_operations` or `meta_operations` row, by conversation type.
    operation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The channel message it is (mirrored in, or sent out): wa_messages.id / meta_messages.id.
    source: Mapped[str | None] = mapped_column(String(10))
    source_message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_type: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class ConversationAttachment(IdMixin, Base):
    """An uploaded file; its bytes live in the attachments directory under their SHA-256, so
    two uploads of one file share the bytes but not the row."""

    __tablename__ = "conversation_attachments"
    __table_args__ = (
        Index("ix_conversation_attachments_account", "account_id", text("created_at DESC")),
        CheckConstraint("size >= 0", name="size_not_negative"),
        one_of("created_by_type", ActorType),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(200), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by_type: Mapped[str] = mapped_column(String(20), nullable=False)
    created_by_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
