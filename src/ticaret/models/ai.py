"""AI: each account's settings (provider, model, encrypted key, automation), the analysis of
each customer message with its state machine, operator feedback on analyses, and the tokens
an account spent per month (its budget)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ticaret.models.base import Base, IdMixin, TimestampMixin, VersionedMixin, one_of
from ticaret.models.core import ActorType


class AiProvider(enum.StrEnum):
    """Where an account's LLM calls go: OpenAI, or any endpoint that speaks its API."""

    openai = "openai"
    openai_compatible = "openai_compatible"


class AnalysisProvider(enum.StrEnum):
    """What produced an analysis: an LLM provider, or the built-in rules (no key needed)."""

    openai = "openai"
    openai_compatible = "openai_compatible"
    deterministic = "deterministic"


class StructuredOutput(enum.StrEnum):
    """How an endpoint gives JSON: a JSON schema it enforces, or JSON mode we validate."""

    json_schema = "json_schema"
    json_object = "json_object"


class AnalysisStatus(enum.StrEnum):
    pending = "pending"  # waiting for its job: new, between retries, or held by the limit
    processing = "processing"
    completed = "completed"
    failed = "failed"
    skipped = "skipped"  # nothing was analysed; `skip_reason` says why


class SkipReason(enum.StrEnum):
    automation_off = "automation_off"
    nothing_to_analyse = "nothing_to_analyse"
    token_budget_exhausted = "token_budget_exhausted"  # noqa: S105 - a reason, not a secret
    message_deleted = "message_deleted"


class AnalysisSource(enum.StrEnum):
    text = "text"
    image = "image"


class AnalysisTrigger(enum.StrEnum):
    auto = "auto"  # the message arrived
    manual = "manual"  # an operator asked for a message that had no analysis
    retry = "retry"  # an operator asked again


class Intent(enum.StrEnum):
    stock_question = "stock_question"
    price_question = "price_question"
    product_inquiry = "product_inquiry"
    order = "order"
    complaint = "complaint"
    greeting = "greeting"
    other = "other"


class MatchStatus(enum.StrEnum):
    high_confidence = "high_confidence"
    ambiguous = "ambiguous"
    low_confidence = "low_confidence"
    no_match = "no_match"


class AccountAiSettings(TimestampMixin, VersionedMixin, Base):
    """One row per account that saved its AI settings; an account without one uses the
    defaults (automatic analysis on, the deterministic analyser until a key is set)."""

    __tablename__ = "ai_settings"
    __table_args__ = (
        one_of("provider", AiProvider),
        one_of("structured_output", StructuredOutput),
        CheckConstraint("max_concurrent_analyses >= 1", name="max_concurrent_positive"),
        CheckConstraint("monthly_token_budget >= 0", name="budget_not_negative"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(30), nullable=False, default=AiProvider.openai)
    base_url: Mapped[str | None] = mapped_column(String(500))
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    vision_model: Mapped[str | None] = mapped_column(String(200))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    api_key_last4: Mapped[str | None] = mapped_column(String(4))
    temperature: Mapped[float] = mapped_column(Float, nullable=False, default=0.2)
    language: Mapped[str] = mapped_column(String(10), nullable=False, default="tr")
    auto_analyze_inbound: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    auto_reply: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    max_concurrent_analyses: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    monthly_token_budget: Mapped[int | None] = mapped_column(BigInteger)
    context_messages: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    # What the endpoint was last seen to support; unknown until a test or a first call.
    structured_output: Mapped[str | None] = mapped_column(String(20))


class AiAnalysis(IdMixin, TimestampMixin, VersionedMixin, Base):
    """The analysis of one customer message for one account (a shared session's message is
    analysed once per account that sees it: each has its own settings and catalog)."""

    __tablename__ = "ai_analyses"
    __table_args__ = (
        UniqueConstraint("account_id", "message_pk", name="uq_ai_analyses_account_message"),
        Index("ix_ai_analyses_account_id_desc", "account_id", text("id DESC")),
        Index("ix_ai_analyses_chat", "account_id", "session_id", "remote_jid", text("id DESC")),
        # The per-account concurrency limit counts these; the sweeper finds expired runs.
        Index(
            "ix_ai_analyses_processing",
            "account_id",
            "started_at",
            postgresql_where=text("status = 'processing'"),
        ),
        # Held back by the limit, oldest first: where a freed slot goes.
        Index(
            "ix_ai_analyses_held",
            "account_id",
            "held_at",
            postgresql_where=text("status = 'pending' AND held_at IS NOT NULL"),
        ),
        # Pending in due order: the sweeper's look for lost jobs.
        Index(
            "ix_ai_analyses_pending",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        one_of("provider", AnalysisProvider),
        one_of("status", AnalysisStatus),
        one_of("skip_reason", SkipReason),
        one_of("source_type", AnalysisSource),
        one_of("trigger", AnalysisTrigger),
        one_of("intent", Intent),
        one_of("match_status", MatchStatus),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_sessions.id", ondelete="CASCADE"), nullable=False
    )
    message_pk: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wa_messages.id", ondelete="CASCADE"), nullable=False
    )
    remote_jid: Mapped[str] = mapped_column(String(128), nullable=False)
    message_id: Mapped[str] = mapped_column(String(200), nullable=False)
    provider: Mapped[str] = mapped_column(String(30), nullable=False)
    model: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=AnalysisStatus.pending)
    skip_reason: Mapped[str | None] = mapped_column(String(40))
    source_type: Mapped[str] = mapped_column(String(10), nullable=False)
    trigger: Mapped[str] = mapped_column(String(10), nullable=False)
    intent: Mapped[str | None] = mapped_column(String(30))
    action: Mapped[str | None] = mapped_column(String(40))
    priority: Mapped[str | None] = mapped_column(String(10))
    sentiment: Mapped[str | None] = mapped_column(String(10))
    summary: Mapped[str | None] = mapped_column(Text)
    suggested_reply: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    entities: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    visual_description: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    input: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    usage: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    openai_response_id: Mapped[str | None] = mapped_column(String(200))
    match_status: Mapped[str | None] = mapped_column(String(20))
    product_matches: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, default=list
    )
    visual_search: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    commerce: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    applied_actions: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, default=list
    )
    attempt_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    # Jobs queued for it so far: each gets its own arq job id (a finished job's id is kept).
    dispatches: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Since when the account's concurrency limit holds it back (null: not held).
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    skipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AiAnalysisFeedback(IdMixin, Base):
    """What an operator said about an analysis, kept for evaluating the analyser."""

    __tablename__ = "ai_analysis_feedback"
    __table_args__ = (
        Index("ix_ai_analysis_feedback_analysis", "analysis_id", "id"),
        one_of("correct_intent", Intent),
        one_of("actor_type", ActorType),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    analysis_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ai_analyses.id", ondelete="CASCADE"), nullable=False
    )
    intent_correct: Mapped[bool | None] = mapped_column(Boolean)
    correct_intent: Mapped[str | None] = mapped_column(String(30))
    product_correct: Mapped[bool | None] = mapped_column(Boolean)
    correct_product_id: Mapped[uuid.UUID | None] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    # The analysis as it was judged (its intent and matches may change on a retry).
    judged_intent: Mapped[str | None] = mapped_column(String(30))
    judged_product_ids: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    actor_type: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class AiTokenUsage(Base):
    """Tokens an account's AI calls used in one calendar month (UTC): the budget's meter."""

    __tablename__ = "ai_token_usage"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    completion_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    total_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    cost_estimate: Mapped[Decimal] = mapped_column(Numeric, nullable=False, default=Decimal(0))
