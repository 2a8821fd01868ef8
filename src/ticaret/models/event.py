"""The transactional outbox: one row per domain event, written with the change it describes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ticaret.models.base import Base


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_account_seq", "account_id", "seq"),
        # The sweeper scans only what is still waiting for the relay.
        Index("ix_events_unrelayed", "seq", postgresql_where=text("relayed_at IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Monotonic order for replay (`Last-Event-ID`) and in-order webhook delivery.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True, nullable=False)
    account_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    actor_type: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    provider_session_id: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    relayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
