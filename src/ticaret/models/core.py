"""Tables every domain shares: the event outbox, the inbound-webhook inbox and idempotency keys."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ticaret.models.base import Base, IdMixin, one_of


class ActorType(enum.StrEnum):
    """Who made a change: recorded on events, operations, label history and shares."""

    user = "user"
    api_account = "api_account"
    system = "system"
    ai = "ai"


class Event(Base):
    """The transactional outbox: one row per domain event, written with the change it describes."""

    __tablename__ = "events"
    __table_args__ = (
        # The console's replay order (see `console.stream`).
        Index("ix_events_account_xid_seq", "account_id", "xid", "seq"),
        one_of("actor_type", ActorType),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Monotonic order for in-order webhook delivery. Not the replay order: numbers are taken
    # at insert, so a transaction can commit a lower `seq` after another committed a higher one.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True, nullable=False)
    # The writing transaction's id. The console replays by (xid, seq) up to the oldest
    # transaction still running, so no event can appear later below what a client has seen.
    xid: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint"), nullable=False
    )
    account_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    actor_type: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    provider_session_id: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class OutboxPending(Base):
    """The events not yet relayed: one narrow row per event, added by a trigger on `events` in
    the inserting statement (every way of writing an event goes through the outbox) and deleted
    by the relay. Marking the wide event row instead rewrote it and its four index entries."""

    __tablename__ = "outbox_pending"

    # Event ids are time-ordered ("evt_" + UUIDv7): the sweeper's order is the emitting order.
    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class InboxStatus(enum.StrEnum):
    received = "received"  # stored, its processing job queued (or lost: the sweeper re-queues)
    processed = "processed"
    ignored = "ignored"  # understood, nothing to do (an event type we do not use)
    failed = "failed"  # unreadable or the handler failed; `error` says why, the payload stays


class InboxItem(IdMixin, Base):
    """One inbound webhook item (a gateway call, one entry of a Meta batch), stored before use.

    `scope` is what the source's ids are unique within: the WhatsApp session for gateway
    events (their ids are per session), empty for sources whose ids are global (Meta `mid`s).
    """

    __tablename__ = "inbox_items"
    __table_args__ = (
        UniqueConstraint("source", "scope", "external_id", name="uq_inbox_items_source_key"),
        # The sweeper looks only at rows whose processing has not happened yet.
        Index(
            "ix_inbox_items_received",
            "received_at",
            postgresql_where=text("status = 'received'"),
        ),
        # A drain claims the waiting items of one source and scope, oldest first.
        Index(
            "ix_inbox_items_waiting",
            "source",
            "scope",
            "received_at",
            "id",
            postgresql_where=text("status = 'received'"),
        ),
        one_of("status", InboxStatus),
    )

    source: Mapped[str] = mapped_column(String(40), nullable=False)
    scope: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    external_id: Mapped[str] = mapped_column(String(300), nullable=False)
    event_type: Mapped[str | None] = mapped_column(String(100))
    # The verified JSON with credentials removed, or `raw_body` when it could not be used as JSON.
    payload: Mapped[Any | None] = mapped_column(JSONB)
    raw_body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=InboxStatus.received)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(IdMixin, Base):
    """The first answer to a POST sent with an `Idempotency-Key`, replayed for 24 hours."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("account_id", "scope", "key", name="uq_idempotency_keys_account_key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    scope: Mapped[str] = mapped_column(String(100), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
