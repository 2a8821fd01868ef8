"""Facebook Pages and Instagram professional accounts: connected assets, onboarding states,
DM threads and their messages, posts and media, comments, and the Graph calls we owe.

An asset belongs to one account. When two accounts connect the same Page, each gets its own
asset row (with its own token) and its own copy of the conversations: a webhook item is applied
once per asset that owns its Page or Instagram account.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
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
from ticaret.models.core import ActorType


class Platform(enum.StrEnum):
    facebook = "facebook"
    instagram = "instagram"


class AssetStatus(enum.StrEnum):
    active = "active"
    # Meta refused the token (expired, revoked, password changed): onboarding again fixes it.
    needs_reauth = "needs_reauth"


class AssetFeature(enum.StrEnum):
    messaging = "messaging"
    comments = "comments"
    publishing = "publishing"


class SocialMessageType(enum.StrEnum):
    text = "text"
    image = "image"
    video = "video"
    audio = "audio"
    file = "file"
    sticker = "sticker"
    share = "share"
    story = "story"
    postback = "postback"
    unsupported = "unsupported"


class SocialMessageStatus(enum.StrEnum):
    received = "received"  # a customer's message
    pending = "pending"  # ours, waiting for its send job
    sent = "sent"  # Meta accepted it (or echoed it)
    delivered = "delivered"
    read = "read"
    failed = "failed"


class MetaOperationKind(enum.StrEnum):
    send_message = "send_message"
    mark_seen = "mark_seen"
    reply_comment = "reply_comment"
    publish_post = "publish_post"
    publish_media = "publish_media"
    sync = "sync"


class MetaOperationStatus(enum.StrEnum):
    queued = "queued"  # waiting for its job (again between retries and polls)
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class PostStatus(enum.StrEnum):
    publishing = "publishing"
    published = "published"
    failed = "failed"


class CommentKind(enum.StrEnum):
    comment = "comment"
    # Someone @mentioned the Instagram account in a comment on media that is not ours.
    mention = "mention"


class CommentStatus(enum.StrEnum):
    received = "received"
    pending = "pending"  # our reply, waiting for its job
    sent = "sent"
    failed = "failed"
    deleted = "deleted"


class MetaOAuthState(IdMixin, Base):
    """One onboarding attempt: consumed by the first callback that presents it, never again."""

    __tablename__ = "meta_oauth_states"
    __table_args__ = (
        one_of("platform", Platform),
        one_of("actor_type", ActorType),
        Index("ix_meta_oauth_states_expires_at", "expires_at"),
    )

    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actor_type: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    redirect_url: Mapped[str] = mapped_column(Text, nullable=False)
    features: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    # sha256 of the nonce in the signed state; the state itself is never stored.
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class MetaAsset(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A Facebook Page or an Instagram professional account connected to an account."""

    __tablename__ = "meta_assets"
    __table_args__ = (
        Index(
            "uq_meta_assets_account_platform_external",
            "account_id",
            "platform",
            "external_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # Webhooks name the Page / Instagram account; every account that connected it gets it.
        Index("ix_meta_assets_platform_external", "platform", "external_id"),
        one_of("platform", Platform),
        one_of("status", AssetStatus),
        one_of("connected_by_type", ActorType),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    # The Page id, or the Instagram professional account id (webhooks' entry.id).
    external_id: Mapped[str] = mapped_column(String(64), nullable=False)
    # Instagram's app-scoped user id (`/me` id), next to the professional account id.
    app_scoped_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    username: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(200))
    picture_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=AssetStatus.active)
    features: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    default_assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The Page access token or the Instagram user token, Fernet-encrypted; null once forgotten.
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scopes: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    subscribed_fields: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    subscription_error: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    connected_by_type: Mapped[str] = mapped_column(String(20), nullable=False)
    connected_by_id: Mapped[str | None] = mapped_column(String(64))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MetaThread(IdMixin, TimestampMixin, Base):
    """A DM conversation between an asset and one person (PSID or IGSID)."""

    __tablename__ = "meta_threads"
    __table_args__ = (
        UniqueConstraint("asset_id", "participant_id", name="uq_meta_threads_asset_participant"),
        Index(
            "ix_meta_threads_asset_activity",
            "asset_id",
            text("coalesce(last_message_at, 'epoch'::timestamptz) DESC"),
            text("id DESC"),
        ),
        one_of("platform", Platform),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meta_assets.id", ondelete="CASCADE"), nullable=False
    )
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    # The person's Page-scoped (PSID) or Instagram-scoped (IGSID) id.
    participant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    participant_name: Mapped[str | None] = mapped_column(String(200))
    participant_username: Mapped[str | None] = mapped_column(String(200))
    # The Graph conversation id (`t_...`), once a sync saw it.
    conversation_id: Mapped[str | None] = mapped_column(String(200))
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_message_preview: Mapped[str | None] = mapped_column(String(300))
    last_message_from_me: Mapped[bool | None] = mapped_column(Boolean)
    # Opens Meta's 24-hour standard messaging window.
    last_customer_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unread_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class MetaMessage(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "meta_messages"
    __table_args__ = (
        UniqueConstraint("thread_id", "mid", name="uq_meta_messages_thread_mid"),
        Index(
            "ix_meta_messages_thread_timeline",
            "thread_id",
            text("source_timestamp DESC"),
            text("id DESC"),
        ),
        # Reads, reactions and echoes name a message by its mid alone.
        Index("ix_meta_messages_asset_mid", "asset_id", "mid"),
        # A customer's timeline reads a whole Page / Instagram account bound to it.
        Index(
            "ix_meta_messages_asset_timeline",
            "asset_id",
            text("source_timestamp DESC"),
            text("id DESC"),
        ),
        one_of("platform", Platform),
        one_of("type", SocialMessageType),
        one_of("status", SocialMessageStatus),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meta_assets.id", ondelete="CASCADE"), nullable=False
    )
    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meta_threads.id", ondelete="CASCADE"), nullable=False
    )
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    # Meta's message id; `local:<uuid>` until Meta accepted our send.
    mid: Mapped[str] = mapped_column(String(300), nullable=False)
    from_me: Mapped[bool] = mapped_column(Boolean, nullable=False)
    sender_id: Mapped[str] = mapped_column(String(64), nullable=False)
    recipient_id: Mapped[str] = mapped_column(String(64), nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    text: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    reply_to_mid: Mapped[str | None] = mapped_column(String(300))
    # Reactions on this message: {personId: emoji}.
    reactions: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, default=dict)
    postback: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    tag: Mapped[str | None] = mapped_column(String(40))
    origin: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    source_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class MetaPost(IdMixin, TimestampMixin, Base):
    """A Page post or an Instagram media object: synced, seen through a comment, or ours."""

    __tablename__ = "meta_posts"
    __table_args__ = (
        Index(
            "uq_meta_posts_asset_external",
            "asset_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index(
            "ix_meta_posts_asset_timeline",
            "asset_id",
            text("coalesce(published_at, created_at) DESC"),
            text("id DESC"),
        ),
        one_of("platform", Platform),
        one_of("status", PostStatus),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meta_assets.id", ondelete="CASCADE"), nullable=False
    )
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    # The Page post id (`{page-id}_{post-id}`) or the Instagram media id; null while publishing.
    external_id: Mapped[str | None] = mapped_column(String(200))
    # Graph's own words: Page posts `status|link|photo`; Instagram `IMAGE|VIDEO|CAROUSEL_ALBUM`.
    media_type: Mapped[str | None] = mapped_column(String(40))
    # Instagram's surface: FEED, REELS, STORY, AD.
    product_type: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text)
    permalink: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=PostStatus.published)
    comment_count: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MetaComment(IdMixin, TimestampMixin, Base):
    __tablename__ = "meta_comments"
    __table_args__ = (
        Index(
            "uq_meta_comments_asset_external",
            "asset_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index(
            "ix_meta_comments_post_timeline",
            "post_id",
            text("source_timestamp DESC"),
            text("id DESC"),
        ),
        one_of("platform", Platform),
        one_of("kind", CommentKind),
        one_of("status", CommentStatus),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meta_assets.id", ondelete="CASCADE"), nullable=False
    )
    # Null for a mention: the media is someone else's, not one of the asset's posts.
    post_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meta_posts.id", ondelete="CASCADE")
    )
    # The Graph post / media id the comment is on.
    post_external_id: Mapped[str] = mapped_column(String(200), nullable=False)
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default=CommentKind.comment)
    # Meta's comment id; null while our reply waits for its job.
    external_id: Mapped[str | None] = mapped_column(String(200))
    # The comment this one answers (null for a comment on the post itself).
    parent_external_id: Mapped[str | None] = mapped_column(String(200))
    from_id: Mapped[str | None] = mapped_column(String(64))
    from_name: Mapped[str | None] = mapped_column(String(200))
    from_username: Mapped[str | None] = mapped_column(String(200))
    from_me: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=CommentStatus.received)
    source_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class MetaOperation(IdMixin, TimestampMixin, Base):
    """One Graph call (or chain of calls) we owe, performed by a job: a send, a reply, a
    publication, a sync. `progress` is what a client polls."""

    __tablename__ = "meta_operations"
    __table_args__ = (
        Index(
            "ix_meta_operations_pending",
            "updated_at",
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        one_of("kind", MetaOperationKind),
        one_of("status", MetaOperationStatus),
        one_of("actor_type", ActorType),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meta_assets.id", ondelete="CASCADE"), index=True, nullable=False
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, default=MetaOperationStatus.queued
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    request: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    progress: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meta_messages.id", ondelete="SET NULL")
    )
    post_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meta_posts.id", ondelete="SET NULL")
    )
    comment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meta_comments.id", ondelete="SET NULL")
    )
    actor_type: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
