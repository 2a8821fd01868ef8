"""Facebook Pages and Instagram: assets, onboarding states, threads, messages, posts,
comments and Graph operations

Revision ID: 0010
Revises: 0005
Create Date: 2026-12-01 00:35:32.549951
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meta_assets",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("app_scoped_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("picture_url", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("features", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("default_assignee_id", sa.Uuid(), nullable=True),
        sa.Column("token_encrypted", sa.Text(), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scopes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("subscribed_fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("subscription_error", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connected_by_type", sa.String(length=20), nullable=False),
        sa.Column("connected_by_id", sa.String(length=64), nullable=True),
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
        sa.CheckConstraint(
            "connected_by_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_meta_assets_connected_by_type"),
        ),
        sa.CheckConstraint(
            "platform IN ('facebook', 'instagram')", name=op.f("ck_meta_assets_platform")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'needs_reauth')", name=op.f("ck_meta_assets_status")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_meta_assets_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["default_assignee_id"],
            ["users.id"],
            name=op.f("fk_meta_assets_default_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meta_assets")),
    )
    op.create_index(op.f("ix_meta_assets_account_id"), "meta_assets", ["account_id"], unique=False)
    op.create_index(
        "ix_meta_assets_platform_external", "meta_assets", ["platform", "external_id"], unique=False
    )
    op.create_index(
        "uq_meta_assets_account_platform_external",
        "meta_assets",
        ["account_id", "platform", "external_id"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "meta_oauth_states",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("redirect_url", sa.Text(), nullable=False),
        sa.Column("features", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "actor_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_meta_oauth_states_actor_type"),
        ),
        sa.CheckConstraint(
            "platform IN ('facebook', 'instagram')", name=op.f("ck_meta_oauth_states_platform")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_meta_oauth_states_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_meta_oauth_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meta_oauth_states")),
        sa.UniqueConstraint("nonce_hash", name=op.f("uq_meta_oauth_states_nonce_hash")),
    )
    op.create_index(
        "ix_meta_oauth_states_expires_at", "meta_oauth_states", ["expires_at"], unique=False
    )
    op.create_table(
        "meta_posts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("media_type", sa.String(length=40), nullable=True),
        sa.Column("product_type", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("comment_count", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "platform IN ('facebook', 'instagram')", name=op.f("ck_meta_posts_platform")
        ),
        sa.CheckConstraint(
            "status IN ('publishing', 'published', 'failed')", name=op.f("ck_meta_posts_status")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_meta_posts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["meta_assets.id"],
            name=op.f("fk_meta_posts_asset_id_meta_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meta_posts")),
    )
    op.create_index(op.f("ix_meta_posts_account_id"), "meta_posts", ["account_id"], unique=False)
    op.create_index(
        "ix_meta_posts_asset_timeline",
        "meta_posts",
        [
            "asset_id",
            sa.literal_column("coalesce(published_at, created_at) DESC"),
            sa.literal_column("id DESC"),
        ],
        unique=False,
    )
    op.create_index(
        "uq_meta_posts_asset_external",
        "meta_posts",
        ["asset_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "meta_threads",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("participant_id", sa.String(length=64), nullable=False),
        sa.Column("participant_name", sa.String(length=200), nullable=True),
        sa.Column("participant_username", sa.String(length=200), nullable=True),
        sa.Column("conversation_id", sa.String(length=200), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_message_preview", sa.String(length=300), nullable=True),
        sa.Column("last_message_from_me", sa.Boolean(), nullable=True),
        sa.Column("last_customer_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unread_count", sa.Integer(), nullable=False),
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
        sa.CheckConstraint(
            "platform IN ('facebook', 'instagram')", name=op.f("ck_meta_threads_platform")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_meta_threads_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["meta_assets.id"],
            name=op.f("fk_meta_threads_asset_id_meta_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meta_threads")),
        sa.UniqueConstraint("asset_id", "participant_id", name="uq_meta_threads_asset_participant"),
    )
    op.create_index(
        op.f("ix_meta_threads_account_id"), "meta_threads", ["account_id"], unique=False
    )
    op.create_index(
        "ix_meta_threads_asset_activity",
        "meta_threads",
        [
            "asset_id",
            sa.literal_column("coalesce(last_message_at, 'epoch'::timestamptz) DESC"),
            sa.literal_column("id DESC"),
        ],
        unique=False,
    )
    op.create_table(
        "meta_comments",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=True),
        sa.Column("post_external_id", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("parent_external_id", sa.String(length=200), nullable=True),
        sa.Column("from_id", sa.String(length=64), nullable=True),
        sa.Column("from_name", sa.String(length=200), nullable=True),
        sa.Column("from_username", sa.String(length=200), nullable=True),
        sa.Column("from_me", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source_timestamp", sa.DateTime(timezone=True), nullable=False),
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
        sa.CheckConstraint("kind IN ('comment', 'mention')", name=op.f("ck_meta_comments_kind")),
        sa.CheckConstraint(
            "platform IN ('facebook', 'instagram')", name=op.f("ck_meta_comments_platform")
        ),
        sa.CheckConstraint(
            "status IN ('received', 'pending', 'sent', 'failed', 'deleted')",
            name=op.f("ck_meta_comments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_meta_comments_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["meta_assets.id"],
            name=op.f("fk_meta_comments_asset_id_meta_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["meta_posts.id"],
            name=op.f("fk_meta_comments_post_id_meta_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meta_comments")),
    )
    op.create_index(
        op.f("ix_meta_comments_account_id"), "meta_comments", ["account_id"], unique=False
    )
    op.create_index(
        "ix_meta_comments_post_timeline",
        "meta_comments",
        ["post_id", sa.literal_column("source_timestamp DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "uq_meta_comments_asset_external",
        "meta_comments",
        ["asset_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "meta_messages",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("mid", sa.String(length=300), nullable=False),
        sa.Column("from_me", sa.Boolean(), nullable=False),
        sa.Column("sender_id", sa.String(length=64), nullable=False),
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("attachments", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reply_to_mid", sa.String(length=300), nullable=True),
        sa.Column("reactions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("postback", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=True),
        sa.Column("origin", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("source_timestamp", sa.DateTime(timezone=True), nullable=False),
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
            "platform IN ('facebook', 'instagram')", name=op.f("ck_meta_messages_platform")
        ),
        sa.CheckConstraint(
            "status IN ('received', 'pending', 'sent', 'delivered', 'read', 'failed')",
            name=op.f("ck_meta_messages_status"),
        ),
        sa.CheckConstraint(
            "type IN ('text', 'image', 'video', 'audio', 'file', 'sticker', 'share', 'story', 'postback', 'unsupported')",
            name=op.f("ck_meta_messages_type"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_meta_messages_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["meta_assets.id"],
            name=op.f("fk_meta_messages_asset_id_meta_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["meta_threads.id"],
            name=op.f("fk_meta_messages_thread_id_meta_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meta_messages")),
        sa.UniqueConstraint("thread_id", "mid", name="uq_meta_messages_thread_mid"),
    )
    op.create_index(
        op.f("ix_meta_messages_account_id"), "meta_messages", ["account_id"], unique=False
    )
    op.create_index(
        "ix_meta_messages_asset_mid", "meta_messages", ["asset_id", "mid"], unique=False
    )
    op.create_index(
        "ix_meta_messages_thread_timeline",
        "meta_messages",
        ["thread_id", sa.literal_column("source_timestamp DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_table(
        "meta_operations",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("request", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("progress", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("post_id", sa.Uuid(), nullable=True),
        sa.Column("comment_id", sa.Uuid(), nullable=True),
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
        sa.CheckConstraint(
            "actor_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_meta_operations_actor_type"),
        ),
        sa.CheckConstraint(
            "kind IN ('send_message', 'mark_seen', 'reply_comment', 'publish_post', 'publish_media', 'sync')",
            name=op.f("ck_meta_operations_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')",
            name=op.f("ck_meta_operations_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_meta_operations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["meta_assets.id"],
            name=op.f("fk_meta_operations_asset_id_meta_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["meta_comments.id"],
            name=op.f("fk_meta_operations_comment_id_meta_comments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["meta_messages.id"],
            name=op.f("fk_meta_operations_message_id_meta_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["meta_posts.id"],
            name=op.f("fk_meta_operations_post_id_meta_posts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meta_operations")),
    )
    op.create_index(
        op.f("ix_meta_operations_account_id"), "meta_operations", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_meta_operations_asset_id"), "meta_operations", ["asset_id"], unique=False
    )
    op.create_index(
        "ix_meta_operations_pending",
        "meta_operations",
        ["updated_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_meta_operations_pending",
        table_name="meta_operations",
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.drop_index(op.f("ix_meta_operations_asset_id"), table_name="meta_operations")
    op.drop_index(op.f("ix_meta_operations_account_id"), table_name="meta_operations")
    op.drop_table("meta_operations")
    op.drop_index("ix_meta_messages_thread_timeline", table_name="meta_messages")
    op.drop_index("ix_meta_messages_asset_mid", table_name="meta_messages")
    op.drop_index(op.f("ix_meta_messages_account_id"), table_name="meta_messages")
    op.drop_table("meta_messages")
    op.drop_index(
        "uq_meta_comments_asset_external",
        table_name="meta_comments",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index("ix_meta_comments_post_timeline", table_name="meta_comments")
    op.drop_index(op.f("ix_meta_comments_account_id"), table_name="meta_comments")
    op.drop_table("meta_comments")
    op.drop_index("ix_meta_threads_asset_activity", table_name="meta_threads")
    op.drop_index(op.f("ix_meta_threads_account_id"), table_name="meta_threads")
    op.drop_table("meta_threads")
    op.drop_index(
        "uq_meta_posts_asset_external",
        table_name="meta_posts",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index("ix_meta_posts_asset_timeline", table_name="meta_posts")
    op.drop_index(op.f("ix_meta_posts_account_id"), table_name="meta_posts")
    op.drop_table("meta_posts")
    op.drop_index("ix_meta_oauth_states_expires_at", table_name="meta_oauth_states")
    op.drop_table("meta_oauth_states")
    op.drop_index(
        "uq_meta_assets_account_platform_external",
        table_name="meta_assets",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index("ix_meta_assets_platform_external", table_name="meta_assets")
    op.drop_index(op.f("ix_meta_assets_account_id"), table_name="meta_assets")
    op.drop_table("meta_assets")
