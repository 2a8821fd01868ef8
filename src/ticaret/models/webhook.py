"""Outgoing webhooks: endpoints, one delivery per (endpoint, event), one row per attempt."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
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

from ticaret.models.base import Base, IdMixin, TimestampMixin, VersionedMixin, one_of


class WebhookStatus(enum.StrEnum):
    active = "active"
    paused = "paused"
    disabled = "disabled"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # due now (or being attempted)
    held = "held"  # the webhook is paused; sent in event order on activate
    retrying = "retrying"  # an attempt failed; the next one is at next_attempt_at
    succeeded = "succeeded"
    failed = "failed"  # out of attempts, 410 Gone, or the webhook went away


class AttemptTrigger(enum.StrEnum):
    scheduled = "scheduled"  # the first send and its retries
    redelivery = "redelivery"  # the first attempt of a series started by redeliver
    release = "release"  # a held delivery sent when its paused webhook was activated


class Webhook(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "webhooks"
    __table_args__ = (one_of("status", WebhookStatus),)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    # Subscription patterns: exact types, "domain.*" prefixes or "*".
    events: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=WebhookStatus.active)
    # Fernet-encrypted `whsec_...`: we must sign with it, so it cannot be a one-way hash.
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    # After a rotation both secrets sign until this expires, so receivers can switch over.
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Health: the first failed attempt of the current run of failures, and the last success.
    first_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(IdMixin, TimestampMixin, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # Fan-out runs at least once; this makes a second run a no-op.
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_event"),
        Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
        # What the sweeper scans: deliveries still waiting for an attempt.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'retrying')"),
        ),
        Index(
            "ix_webhook_deliveries_held",
            "webhook_id",
            "event_seq",
            postgresql_where=text("status = 'held'"),
        ),
        one_of("status", DeliveryStatus),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    webhook_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True, nullable=False
    )
    event_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=DeliveryStatus.pending)
    attempt_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Attempts made before the current retry series: a redelivery restarts the schedule.
    schedule_offset: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # When the next attempt is due; while an attempt is in flight it is the attempt's lease.
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(IdMixin, Base):
    __tablename__ = "webhook_attempts"
    __table_args__ = (
        UniqueConstraint(
            "delivery_id", "attempt_number", name="uq_webhook_attempts_delivery_number"
        ),
        one_of("trigger", AttemptTrigger),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False
    )
    attempt_number: Mapped[int] = mapped_column(Integer, nullable=False)
    # What we sent, signatures included but never the secret itself.
    request_headers: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    response_body_excerpt: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    trigger: Mapped[str] = mapped_column(
        String(20), nullable=False, default=AttemptTrigger.scheduled
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class WebhookFanout(Base):
    """Marks an event as fanned out, so the sweeper can find events whose fan-out job was lost."""

    __tablename__ = "webhook_fanouts"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
