"""AI: account settings, message analyses, operator feedback and monthly token usage

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 01:40:08.167669
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_settings",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=30), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("vision_model", sa.String(length=200), nullable=True),
        sa.Column("api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("api_key_last4", sa.String(length=4), nullable=True),
        sa.Column("temperature", sa.Float(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("auto_analyze_inbound", sa.Boolean(), nullable=False),
        sa.Column("auto_reply", sa.Boolean(), nullable=False),
        sa.Column("max_concurrent_analyses", sa.Integer(), nullable=False),
        sa.Column("monthly_token_budget", sa.BigInteger(), nullable=True),
        sa.Column("context_messages", sa.Integer(), nullable=False),
        sa.Column("structured_output", sa.String(length=20), nullable=True),
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
        sa.CheckConstraint(
            "provider IN ('openai', 'openai_compatible')", name=op.f("ck_ai_settings_provider")
        ),
        sa.CheckConstraint(
            "structured_output IN ('json_schema', 'json_object')",
            name=op.f("ck_ai_settings_structured_output"),
        ),
        sa.CheckConstraint(
            "max_concurrent_analyses >= 1", name=op.f("ck_ai_settings_max_concurrent_positive")
        ),
        sa.CheckConstraint(
            "monthly_token_budget >= 0", name=op.f("ck_ai_settings_budget_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_ai_settings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_ai_settings")),
    )
    op.create_table(
        "ai_token_usage",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_estimate", sa.Numeric(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_ai_token_usage_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "month", name=op.f("pk_ai_token_usage")),
    )
    op.create_table(
        "ai_analyses",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("message_pk", sa.Uuid(), nullable=False),
        sa.Column("remote_jid", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=30), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("skip_reason", sa.String(length=40), nullable=True),
        sa.Column("source_type", sa.String(length=10), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("intent", sa.String(length=30), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=True),
        sa.Column("priority", sa.String(length=10), nullable=True),
        sa.Column("sentiment", sa.String(length=10), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("suggested_reply", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("entities", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("visual_description", sa.Text(), nullable=True),
        sa.Column("warnings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("input", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("usage", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("openai_response_id", sa.String(length=200), nullable=True),
        sa.Column("match_status", sa.String(length=20), nullable=True),
        sa.Column("product_matches", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("visual_search", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("commerce", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("applied_actions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("dispatches", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("skipped_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "intent IN ('stock_question', 'price_question', 'product_inquiry', 'order', 'complaint', 'greeting', 'other')",
            name=op.f("ck_ai_analyses_intent"),
        ),
        sa.CheckConstraint(
            "match_status IN ('high_confidence', 'ambiguous', 'low_confidence', 'no_match')",
            name=op.f("ck_ai_analyses_match_status"),
        ),
        sa.CheckConstraint(
            "provider IN ('openai', 'openai_compatible', 'deterministic')",
            name=op.f("ck_ai_analyses_provider"),
        ),
        sa.CheckConstraint(
            "skip_reason IN ('automation_off', 'nothing_to_analyse', 'token_budget_exhausted', 'message_deleted')",
            name=op.f("ck_ai_analyses_skip_reason"),
        ),
        sa.CheckConstraint(
            "source_type IN ('text', 'image')", name=op.f("ck_ai_analyses_source_type")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed', 'skipped')",
            name=op.f("ck_ai_analyses_status"),
        ),
        sa.CheckConstraint(
            "trigger IN ('auto', 'manual', 'retry')", name=op.f("ck_ai_analyses_trigger")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_ai_analyses_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_pk"],
            ["wa_messages.id"],
            name=op.f("fk_ai_analyses_message_pk_wa_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_ai_analyses_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_analyses")),
        sa.UniqueConstraint("account_id", "message_pk", name="uq_ai_analyses_account_message"),
    )
    op.create_index(
        "ix_ai_analyses_account_id_desc",
        "ai_analyses",
        ["account_id", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_ai_analyses_chat",
        "ai_analyses",
        ["account_id", "session_id", "remote_jid", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_ai_analyses_held",
        "ai_analyses",
        ["account_id", "held_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending' AND held_at IS NOT NULL"),
    )
    op.create_index(
        "ix_ai_analyses_pending",
        "ai_analyses",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_ai_analyses_processing",
        "ai_analyses",
        ["account_id", "started_at"],
        unique=False,
        postgresql_where=sa.text("status = 'processing'"),
    )
    op.create_table(
        "ai_analysis_feedback",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("analysis_id", sa.Uuid(), nullable=False),
        sa.Column("intent_correct", sa.Boolean(), nullable=True),
        sa.Column("correct_intent", sa.String(length=30), nullable=True),
        sa.Column("product_correct", sa.Boolean(), nullable=True),
        sa.Column("correct_product_id", sa.Uuid(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("judged_intent", sa.String(length=30), nullable=True),
        sa.Column("judged_product_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "actor_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_ai_analysis_feedback_actor_type"),
        ),
        sa.CheckConstraint(
            "correct_intent IN ('stock_question', 'price_question', 'product_inquiry', 'order', 'complaint', 'greeting', 'other')",
            name=op.f("ck_ai_analysis_feedback_correct_intent"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_ai_analysis_feedback_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["ai_analyses.id"],
            name=op.f("fk_ai_analysis_feedback_analysis_id_ai_analyses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_analysis_feedback")),
    )
    op.create_index(
        op.f("ix_ai_analysis_feedback_account_id"),
        "ai_analysis_feedback",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        "ix_ai_analysis_feedback_analysis",
        "ai_analysis_feedback",
        ["analysis_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_ai_analysis_feedback_analysis", table_name="ai_analysis_feedback")
    op.drop_index(op.f("ix_ai_analysis_feedback_account_id"), table_name="ai_analysis_feedback")
    op.drop_table("ai_analysis_feedback")
    op.drop_index(
        "ix_ai_analyses_processing",
        table_name="ai_analyses",
        postgresql_where=sa.text("status = 'processing'"),
    )
    op.drop_index(
        "ix_ai_analyses_pending",
        table_name="ai_analyses",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index(
        "ix_ai_analyses_held",
        table_name="ai_analyses",
        postgresql_where=sa.text("status = 'pending' AND held_at IS NOT NULL"),
    )
    op.drop_index("ix_ai_analyses_chat", table_name="ai_analyses")
    op.drop_index("ix_ai_analyses_account_id_desc", table_name="ai_analyses")
    op.drop_table("ai_analyses")
    op.drop_table("ai_token_usage")
    op.drop_table("ai_settings")
