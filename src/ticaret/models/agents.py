"""AI agents: an account's assistants (instructions, model, tools, where they answer on their
own, when they hand a conversation to people), their runs over a conversation, and each run's
steps (what the model said, the functions it called with their results, tokens and cost)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ticaret.models.base import Base, IdMixin, TimestampMixin, VersionedMixin, one_of

# Costs are fractions of a cent (a price per million tokens).
RUN_COST = Numeric(18, 8)


class AgentTool(enum.StrEnum):
    """What an agent may do besides talking, each an OpenAI function."""

    search_products = "search_products"
    get_product = "get_product"
    check_stock = "check_stock"
    create_order_draft = "create_order_draft"
    get_order_status = "get_order_status"
    lookup_customer = "lookup_customer"
    handoff_to_human = "handoff_to_human"


class RunTrigger(enum.StrEnum):
    message = "message"  # a send that asked for the agent (`ai.agentId`)
    channel = "channel"  # a customer message on a channel the agent answers on its own
    test = "test"  # `POST /ai/agents/{id}/test`


class RunStatus(enum.StrEnum):
    pending = "pending"  # queued, or waiting for another run on its conversation
    running = "running"
    completed = "completed"  # the reply was posted
    handed_off = "handed_off"  # a handoff rule matched before the model was asked
    max_steps_reached = "max_steps_reached"  # no final answer within the agent's steps
    failed = "failed"  # the provider failed for good, or the run could not go on
    superseded = "superseded"  # a person answered after the message the run was for
    cancelled = "cancelled"  # AI was turned off on the conversation (or the agent deleted)


FINISHED = frozenset(RunStatus) - {RunStatus.pending, RunStatus.running}


class AiAgent(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "ai_agents"
    __table_args__ = (
        Index(
            "ix_ai_agents_account_live",
            "account_id",
            text("id DESC"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        CheckConstraint("max_steps BETWEEN 1 AND 20", name="max_steps_range"),
        CheckConstraint(
            "temperature IS NULL OR (temperature >= 0 AND temperature <= 2)",
            name="temperature_range",
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    instructions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # NULL: the account's AI settings decide (model, temperature) at each run.
    model: Mapped[str | None] = mapped_column(String(200))
    temperature: Mapped[float | None] = mapped_column(Float)
    tools: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    # Where it answers customers on its own: [{"type": "whatsapp", "channelId": psid | None}].
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    # {"keywords": [...], "onHumanRequest": bool, "lowConfidence": bool}
    handoff_rules: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    handoff_group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crm_groups.id", ondelete="SET NULL")
    )
    max_steps: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    language: Mapped[str | None] = mapped_column(String(10))
    # History messages the model sees before the one it answers.
    context_messages: Mapped[int] = mapped_column(Integer, nullable=False, default=20)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AiAgentRun(IdMixin, Base):
    __tablename__ = "ai_agent_runs"
    __table_args__ = (
        Index("ix_ai_agent_runs_agent", "account_id", "agent_id", text("id DESC")),
        Index("ix_ai_agent_runs_conversation", "conversation_id", "trigger_at", "id"),
        # The lock that keeps runs of one conversation from overlapping: one running at a time.
        Index(
            "uq_ai_agent_runs_one_running",
            "conversation_id",
            unique=True,
            postgresql_where=text("status = 'running'"),
        ),
        # One run per triggering message, however often its event is consumed.
        UniqueConstraint("trigger_message_id", name="uq_ai_agent_runs_trigger_message_id"),
        Index(
            "ix_ai_agent_runs_unfinished",
            "created_at",
            postgresql_where=text("status IN ('pending', 'running')"),
        ),
        one_of("trigger", RunTrigger),
        one_of("status", RunStatus),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ai_agents.id", ondelete="CASCADE"), nullable=False
    )
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    trigger: Mapped[str] = mapped_column(String(10), nullable=False)
    trigger_message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="SET NULL")
    )
    # When the triggering message was written: runs of a conversation answer in this order.
    trigger_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=RunStatus.pending)
    reason: Mapped[str | None] = mapped_column(Text)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    model: Mapped[str | None] = mapped_column(String(200))
    step_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cost: Mapped[Decimal] = mapped_column(RUN_COST, nullable=False, default=Decimal(0))
    cost_note: Mapped[str | None] = mapped_column(Text)
    handed_off: Mapped[bool] = mapped_column(nullable=False, default=False)
    reply_message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="SET NULL")
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    job_id: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # While running: when its worker is presumed dead and another run may take the lock.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AiAgentRunStep(IdMixin, Base):
    """One model call of a run and the functions it asked for."""

    __tablename__ = "ai_agent_run_steps"
    __table_args__ = (UniqueConstraint("run_id", "position", name="uq_ai_agent_run_steps_run_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ai_agent_runs.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[str | None] = mapped_column(Text)
    # [{id, name, arguments, result, error}] in the order the model asked for them.
    function_calls: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, default=list
    )
    finish_reason: Mapped[str | None] = mapped_column(String(30))
    response_id: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cost: Mapped[Decimal] = mapped_column(RUN_COST, nullable=False, default=Decimal(0))
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
