"""AI agents, their runs over conversations and each run's steps

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10 03:25:36.975997
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_agents",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("temperature", sa.Float(), nullable=True),
        sa.Column("tools", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("channels", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("handoff_rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("handoff_group_id", sa.Uuid(), nullable=True),
        sa.Column("max_steps", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("context_messages", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("max_steps BETWEEN 1 AND 20", name=op.f("ck_ai_agents_max_steps_range")),
        sa.CheckConstraint(
            "temperature IS NULL OR (temperature >= 0 AND temperature <= 2)",
            name=op.f("ck_ai_agents_temperature_range"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_ai_agents_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["handoff_group_id"],
            ["crm_groups.id"],
            name=op.f("fk_ai_agents_handoff_group_id_crm_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_agents")),
    )
    op.create_index(
        "ix_ai_agents_account_live",
        "ai_agents",
        ["account_id", sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "ai_agent_runs",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("trigger_message_id", sa.Uuid(), nullable=True),
        sa.Column("trigger_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("error", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("total_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("cost_note", sa.Text(), nullable=True),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
        sa.Column("reply_message_id", sa.Uuid(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'handed_off', 'max_steps_reached', 'failed', 'superseded', 'cancelled')",
            name=op.f("ck_ai_agent_runs_status"),
        ),
        sa.CheckConstraint(
            "trigger IN ('message', 'channel', 'test')", name=op.f("ck_ai_agent_runs_trigger")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_ai_agent_runs_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["ai_agents.id"],
            name=op.f("fk_ai_agent_runs_agent_id_ai_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_ai_agent_runs_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reply_message_id"],
            ["conversation_messages.id"],
            name=op.f("fk_ai_agent_runs_reply_message_id_conversation_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["trigger_message_id"],
            ["conversation_messages.id"],
            name=op.f("fk_ai_agent_runs_trigger_message_id_conversation_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_agent_runs")),
        sa.UniqueConstraint("trigger_message_id", name="uq_ai_agent_runs_trigger_message_id"),
    )
    op.create_index(
        "ix_ai_agent_runs_agent",
        "ai_agent_runs",
        ["account_id", "agent_id", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_ai_agent_runs_conversation",
        "ai_agent_runs",
        ["conversation_id", "trigger_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_ai_agent_runs_unfinished",
        "ai_agent_runs",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'running')"),
    )
    op.create_index(
        "uq_ai_agent_runs_one_running",
        "ai_agent_runs",
        ["conversation_id"],
        unique=True,
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "ai_agent_run_steps",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("function_calls", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("finish_reason", sa.String(length=30), nullable=True),
        sa.Column("response_id", sa.String(length=200), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("total_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_ai_agent_run_steps_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["ai_agent_runs.id"],
            name=op.f("fk_ai_agent_run_steps_run_id_ai_agent_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_agent_run_steps")),
        sa.UniqueConstraint("run_id", "position", name="uq_ai_agent_run_steps_run_id"),
    )
    # The agent that answers a conversation (the column came with conversations, 0014).
    op.create_foreign_key(
        op.f("fk_conversations_agent_id_ai_agents"),
        "conversations",
        "ai_agents",
        ["agent_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_conversations_agent_id_ai_agents"), "conversations", type_="foreignkey"
    )
    op.drop_table("ai_agent_run_steps")
    op.drop_index(
        "uq_ai_agent_runs_one_running",
        table_name="ai_agent_runs",
        postgresql_where=sa.text("status = 'running'"),
    )
    op.drop_index(
        "ix_ai_agent_runs_unfinished",
        table_name="ai_agent_runs",
        postgresql_where=sa.text("status IN ('pending', 'running')"),
    )
    op.drop_index("ix_ai_agent_runs_conversation", table_name="ai_agent_runs")
    op.drop_index("ix_ai_agent_runs_agent", table_name="ai_agent_runs")
    op.drop_table("ai_agent_runs")
    op.drop_index(
        "ix_ai_agents_account_live",
        table_name="ai_agents",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("ai_agents")
