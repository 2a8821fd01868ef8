"""Conversations over every channel, their multilingual messages, and attachments

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-10 03:21:45.664255
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_attachments",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by_type", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "created_by_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_conversation_attachments_created_by_type"),
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_conversation_attachments_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_conversation_attachments_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_attachments")),
    )
    op.create_index(
        "ix_conversation_attachments_account",
        "conversation_attachments",
        ["account_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_table(
        "conversations",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("ai_enabled", sa.Boolean(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("assignee_user_id", sa.Uuid(), nullable=True),
        sa.Column("assignee_group_id", sa.Uuid(), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("wa_session_id", sa.Uuid(), nullable=True),
        sa.Column("remote_jid", sa.String(length=128), nullable=True),
        sa.Column("meta_thread_id", sa.Uuid(), nullable=True),
        sa.Column("channel_identifier", sa.String(length=300), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("total_cost", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_type", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.String(length=64), nullable=True),
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
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_conversations_status")),
        sa.CheckConstraint(
            "type IN ('test', 'widget', 'whatsapp', 'api', 'meta', 'instagram')",
            name=op.f("ck_conversations_type"),
        ),
        sa.CheckConstraint(
            "(wa_session_id IS NULL) = (remote_jid IS NULL)",
            name=op.f("ck_conversations_wa_chat_complete"),
        ),
        sa.CheckConstraint(
            "message_count >= 0", name=op.f("ck_conversations_message_count_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_conversations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_group_id"],
            ["crm_groups.id"],
            name=op.f("fk_conversations_assignee_group_id_crm_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_user_id"],
            ["users.id"],
            name=op.f("fk_conversations_assignee_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["crm_contacts.id"],
            name=op.f("fk_conversations_contact_id_crm_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customers.id"],
            name=op.f("fk_conversations_customer_id_crm_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meta_thread_id"],
            ["meta_threads.id"],
            name=op.f("fk_conversations_meta_thread_id_meta_threads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wa_session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_conversations_wa_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(
        "ix_conversations_account_agent",
        "conversations",
        ["account_id", "agent_id"],
        unique=False,
        postgresql_where=sa.text("agent_id IS NOT NULL"),
    )
    op.create_index(
        "ix_conversations_account_created",
        "conversations",
        ["account_id", sa.literal_column("created_at DESC"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_conversations_account_customer",
        "conversations",
        ["account_id", "customer_id"],
        unique=False,
        postgresql_where=sa.text("customer_id IS NOT NULL"),
    )
    op.create_index(
        "uq_conversations_account_meta_thread",
        "conversations",
        ["account_id", "meta_thread_id"],
        unique=True,
        postgresql_where=sa.text("meta_thread_id IS NOT NULL"),
    )
    op.create_index(
        "uq_conversations_account_wa_chat",
        "conversations",
        ["account_id", "wa_session_id", "remote_jid"],
        unique=True,
        postgresql_where=sa.text("wa_session_id IS NOT NULL"),
    )
    op.create_table(
        "conversation_messages",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("sender", sa.String(length=12), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("attachment_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("flags", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("function_calls", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("agent_run_id", sa.Uuid(), nullable=True),
        sa.Column("tokens", sa.Integer(), nullable=True),
        sa.Column("cost", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("channel_identifier", sa.String(length=300), nullable=True),
        sa.Column("operation_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=True),
        sa.Column("source_message_id", sa.Uuid(), nullable=True),
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
            name=op.f("ck_conversation_messages_actor_type"),
        ),
        sa.CheckConstraint(
            "role IN ('user', 'assistant', 'operator')", name=op.f("ck_conversation_messages_role")
        ),
        sa.CheckConstraint(
            "sender IN ('workspace', 'customer')", name=op.f("ck_conversation_messages_sender")
        ),
        sa.CheckConstraint(
            "source IN ('wa', 'meta')", name=op.f("ck_conversation_messages_source")
        ),
        sa.CheckConstraint(
            "(source IS NULL) = (source_message_id IS NULL)",
            name=op.f("ck_conversation_messages_source_complete"),
        ),
        sa.CheckConstraint(
            "cost IS NULL OR cost >= 0", name=op.f("ck_conversation_messages_cost_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_conversation_messages_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customers.id"],
            name=op.f("fk_conversation_messages_customer_id_crm_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["conversation_messages.id"],
            name=op.f("fk_conversation_messages_parent_id_conversation_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_messages")),
    )
    op.create_index(
        "ix_conversation_messages_agent_run",
        "conversation_messages",
        ["agent_run_id"],
        unique=False,
        postgresql_where=sa.text("agent_run_id IS NOT NULL"),
    )
    op.create_index(
        "ix_conversation_messages_timeline",
        "conversation_messages",
        ["conversation_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "uq_conversation_messages_account_source",
        "conversation_messages",
        ["account_id", "source", "source_message_id"],
        unique=True,
        postgresql_where=sa.text("source_message_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_conversation_messages_account_source",
        table_name="conversation_messages",
        postgresql_where=sa.text("source_message_id IS NOT NULL"),
    )
    op.drop_index("ix_conversation_messages_timeline", table_name="conversation_messages")
    op.drop_index(
        "ix_conversation_messages_agent_run",
        table_name="conversation_messages",
        postgresql_where=sa.text("agent_run_id IS NOT NULL"),
    )
    op.drop_table("conversation_messages")
    op.drop_index(
        "uq_conversations_account_wa_chat",
        table_name="conversations",
        postgresql_where=sa.text("wa_session_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_conversations_account_meta_thread",
        table_name="conversations",
        postgresql_where=sa.text("meta_thread_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_conversations_account_customer",
        table_name="conversations",
        postgresql_where=sa.text("customer_id IS NOT NULL"),
    )
    op.drop_index("ix_conversations_account_created", table_name="conversations")
    op.drop_index(
        "ix_conversations_account_agent",
        table_name="conversations",
        postgresql_where=sa.text("agent_id IS NOT NULL"),
    )
    op.drop_table("conversations")
    op.drop_index("ix_conversation_attachments_account", table_name="conversation_attachments")
    op.drop_table("conversation_attachments")
