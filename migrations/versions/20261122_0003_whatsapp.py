"""whatsapp

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 04:25:01.210747
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
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
            name=op.f("fk_idempotency_keys_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("account_id", "scope", "key", name="uq_idempotency_keys_account_key"),
    )
    op.create_index(
        "ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False
    )
    op.create_table(
        "wa_label_history",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("label_id", sa.Uuid(), nullable=False),
        sa.Column("label_name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("provider_session_id", sa.String(length=100), nullable=True),
        sa.Column("remote_jid", sa.String(length=128), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
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
            name=op.f("fk_wa_label_history_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_label_history")),
    )
    op.create_index(
        "ix_wa_label_history_account_id_desc",
        "wa_label_history",
        ["account_id", "id"],
        unique=False,
    )
    op.create_table(
        "wa_labels",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("color", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_wa_labels_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_labels")),
    )
    op.create_index(op.f("ix_wa_labels_account_id"), "wa_labels", ["account_id"], unique=False)
    op.create_index(
        "uq_wa_labels_account_name",
        "wa_labels",
        ["account_id", sa.literal_column("lower(name)")],
        unique=True,
    )
    op.create_table(
        "wa_sessions",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("provider_session_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("webhook_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("raw_status", sa.String(length=50), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("me_jid", sa.String(length=128), nullable=True),
        sa.Column("me_phone", sa.String(length=32), nullable=True),
        sa.Column("me_name", sa.String(length=200), nullable=True),
        sa.Column("pairing", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_wa_sessions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_sessions")),
        sa.UniqueConstraint("provider_session_id", name=op.f("uq_wa_sessions_provider_session_id")),
    )
    op.create_index(op.f("ix_wa_sessions_account_id"), "wa_sessions", ["account_id"], unique=False)
    op.create_table(
        "wa_chats",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("remote_jid", sa.String(length=128), nullable=False),
        sa.Column("alt_jid", sa.String(length=128), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_message_preview", sa.String(length=300), nullable=True),
        sa.Column("last_message_from_me", sa.Boolean(), nullable=True),
        sa.Column("unread_count", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_wa_chats_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_chats")),
        sa.UniqueConstraint("session_id", "remote_jid", name="uq_wa_chats_session_remote_jid"),
    )
    op.create_index(
        "ix_wa_chats_session_activity",
        "wa_chats",
        [
            "session_id",
            sa.literal_column("coalesce(last_message_at, 'epoch'::timestamptz) DESC"),
            sa.literal_column("id DESC"),
        ],
        unique=False,
    )
    op.create_table(
        "wa_contacts",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("jid", sa.String(length=128), nullable=False),
        sa.Column("lid", sa.String(length=128), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("push_name", sa.String(length=200), nullable=True),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("profile_pic_url", sa.Text(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_wa_contacts_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_contacts")),
        sa.UniqueConstraint("session_id", "jid", name="uq_wa_contacts_session_jid"),
    )
    op.create_index(
        "ix_wa_contacts_session_id_desc",
        "wa_contacts",
        ["session_id", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_table(
        "wa_inbox_events",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("external_key", sa.String(length=300), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("raw_body", sa.Text(), nullable=True),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_wa_inbox_events_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_inbox_events")),
        sa.UniqueConstraint("session_id", "external_key", name="uq_wa_inbox_events_session_key"),
    )
    op.create_index(
        "ix_wa_inbox_events_received",
        "wa_inbox_events",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("status = 'received'"),
    )
    op.create_table(
        "wa_messages",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("remote_jid", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("provider_message_id", sa.String(length=300), nullable=True),
        sa.Column("from_me", sa.Boolean(), nullable=False),
        sa.Column("participant", sa.String(length=128), nullable=True),
        sa.Column("sender_jid", sa.String(length=128), nullable=True),
        sa.Column("sender_jid_resolved", sa.String(length=128), nullable=True),
        sa.Column("sender_phone", sa.String(length=32), nullable=True),
        sa.Column("sender_name", sa.String(length=200), nullable=True),
        sa.Column("push_name", sa.String(length=200), nullable=True),
        sa.Column("chat_type", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("emoji", sa.String(length=32), nullable=True),
        sa.Column("reaction_target", sa.String(length=200), nullable=True),
        sa.Column("mentions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("quoted_message", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("has_media", sa.Boolean(), nullable=False),
        sa.Column("mimetype", sa.String(length=200), nullable=True),
        sa.Column("media", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("location", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("contacts", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("reactions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("receipt", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("is_forwarded", sa.Boolean(), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_for_me", sa.Boolean(), nullable=False),
        sa.Column("deleted_for_everyone", sa.Boolean(), nullable=False),
        sa.Column("origin", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("source_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple', coalesce(text, ''))", persisted=True),
            nullable=False,
        ),
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
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_wa_messages_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_messages")),
        sa.UniqueConstraint(
            "session_id", "remote_jid", "message_id", name="uq_wa_messages_session_chat_message"
        ),
    )
    op.create_index(
        "ix_wa_messages_chat_timeline",
        "wa_messages",
        [
            "session_id",
            "remote_jid",
            sa.literal_column("source_timestamp DESC"),
            sa.literal_column("id DESC"),
        ],
        unique=False,
    )
    op.create_index(
        "ix_wa_messages_search", "wa_messages", ["search"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_wa_messages_session_message_id",
        "wa_messages",
        ["session_id", "message_id"],
        unique=False,
    )
    op.create_table(
        "wa_session_shares",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_wa_session_shares_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_wa_session_shares_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_session_shares")),
        sa.UniqueConstraint(
            "session_id", "account_id", name="uq_wa_session_shares_session_account"
        ),
    )
    op.create_index(
        op.f("ix_wa_session_shares_account_id"), "wa_session_shares", ["account_id"], unique=False
    )
    op.create_table(
        "wa_chat_labels",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("label_id", sa.Uuid(), nullable=False),
        sa.Column("chat_id", sa.Uuid(), nullable=False),
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
            name=op.f("fk_wa_chat_labels_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["wa_chats.id"],
            name=op.f("fk_wa_chat_labels_chat_id_wa_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["wa_labels.id"],
            name=op.f("fk_wa_chat_labels_label_id_wa_labels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_chat_labels")),
        sa.UniqueConstraint("label_id", "chat_id", name="uq_wa_chat_labels_label_chat"),
    )
    op.create_index(
        op.f("ix_wa_chat_labels_account_id"), "wa_chat_labels", ["account_id"], unique=False
    )
    op.create_index(op.f("ix_wa_chat_labels_chat_id"), "wa_chat_labels", ["chat_id"], unique=False)
    op.create_table(
        "wa_message_labels",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("label_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
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
            name=op.f("fk_wa_message_labels_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["wa_labels.id"],
            name=op.f("fk_wa_message_labels_label_id_wa_labels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["wa_messages.id"],
            name=op.f("fk_wa_message_labels_message_id_wa_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_message_labels")),
        sa.UniqueConstraint("label_id", "message_id", name="uq_wa_message_labels_label_message"),
    )
    op.create_index(
        op.f("ix_wa_message_labels_account_id"), "wa_message_labels", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_wa_message_labels_message_id"), "wa_message_labels", ["message_id"], unique=False
    )
    op.create_table(
        "wa_message_operations",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("message_pk", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("request", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("upload", sa.LargeBinary(), nullable=True),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_wa_message_operations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_pk"],
            ["wa_messages.id"],
            name=op.f("fk_wa_message_operations_message_pk_wa_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_wa_message_operations_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_message_operations")),
    )
    op.create_index(
        op.f("ix_wa_message_operations_account_id"),
        "wa_message_operations",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        "ix_wa_message_operations_pending",
        "wa_message_operations",
        ["updated_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('queued', 'sending')"),
    )
    op.create_index(
        op.f("ix_wa_message_operations_session_id"),
        "wa_message_operations",
        ["session_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_wa_message_operations_session_id"), table_name="wa_message_operations")
    op.drop_index(
        "ix_wa_message_operations_pending",
        table_name="wa_message_operations",
        postgresql_where=sa.text("status IN ('queued', 'sending')"),
    )
    op.drop_index(op.f("ix_wa_message_operations_account_id"), table_name="wa_message_operations")
    op.drop_table("wa_message_operations")
    op.drop_index(op.f("ix_wa_message_labels_message_id"), table_name="wa_message_labels")
    op.drop_index(op.f("ix_wa_message_labels_account_id"), table_name="wa_message_labels")
    op.drop_table("wa_message_labels")
    op.drop_index(op.f("ix_wa_chat_labels_chat_id"), table_name="wa_chat_labels")
    op.drop_index(op.f("ix_wa_chat_labels_account_id"), table_name="wa_chat_labels")
    op.drop_table("wa_chat_labels")
    op.drop_index(op.f("ix_wa_session_shares_account_id"), table_name="wa_session_shares")
    op.drop_table("wa_session_shares")
    op.drop_index("ix_wa_messages_session_message_id", table_name="wa_messages")
    op.drop_index("ix_wa_messages_search", table_name="wa_messages", postgresql_using="gin")
    op.drop_index("ix_wa_messages_chat_timeline", table_name="wa_messages")
    op.drop_table("wa_messages")
    op.drop_index(
        "ix_wa_inbox_events_received",
        table_name="wa_inbox_events",
        postgresql_where=sa.text("status = 'received'"),
    )
    op.drop_table("wa_inbox_events")
    op.drop_index("ix_wa_contacts_session_id_desc", table_name="wa_contacts")
    op.drop_table("wa_contacts")
    op.drop_index("ix_wa_chats_session_activity", table_name="wa_chats")
    op.drop_table("wa_chats")
    op.drop_index(op.f("ix_wa_sessions_account_id"), table_name="wa_sessions")
    op.drop_table("wa_sessions")
    op.drop_index("uq_wa_labels_account_name", table_name="wa_labels")
    op.drop_index(op.f("ix_wa_labels_account_id"), table_name="wa_labels")
    op.drop_table("wa_labels")
    op.drop_index("ix_wa_label_history_account_id_desc", table_name="wa_label_history")
    op.drop_table("wa_label_history")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
