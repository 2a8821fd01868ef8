"""Requests and responses of `/meta` and `/instagram`, and the event payloads that are also
responses (a message, a comment)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.core.events import EventPayload
from ticaret.crm.schemas.identities import ChatLink
from ticaret.models import (
    AssetFeature,
    AssetStatus,
    CommentKind,
    CommentStatus,
    MetaOperationKind,
    MetaOperationStatus,
    Platform,
    PostStatus,
    SocialMessageStatus,
    SocialMessageType,
)

Url = str


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value


# Onboarding ---------------------------------------------------------------------------------


class OAuthStart(ApiModel):
    redirect_url: str = Field(
        min_length=1,
        max_length=2000,
        description="Where the browser goes after onboarding, with `status` (connected, denied, "
        "error) added to its query: a relative path, or a URL on an allowed origin.",
    )
    features: list[AssetFeature] = Field(
        default_factory=lambda: list(AssetFeature),
        max_length=3,
        description="What the assets will be used for; decides the permissions asked.",
    )


class OAuthUrl(ResponseModel):
    url: str = Field(description="Open this in the user's browser.")
    state: str = Field(description="Signed, single use; Meta hands it back to the callback.")
    expires_at: Timestamp
    scopes: list[str]
    redirect_uri: str = Field(description="The callback Meta redirects to (register it).")


# Assets -------------------------------------------------------------------------------------


class AssetOut(ResponseModel):
    id: uuid.UUID
    platform: Platform
    external_id: str = Field(description="The Page id or the Instagram professional account id.")
    name: str
    username: str | None
    category: str | None
    picture_url: str | None
    status: AssetStatus
    enabled_features: list[AssetFeature]
    default_assignee_id: uuid.UUID | None
    token_expires_at: Timestamp | None
    subscribed_fields: list[str]
    subscription_error: str | None
    last_error: str | None
    last_synced_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class AssetUpdate(ApiModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    enabled_features: list[AssetFeature] | None = Field(default=None, max_length=3)
    default_assignee_id: uuid.UUID | None = None
    entity_version: str | None = None


class AssetRemoved(ResponseModel):
    deleted: bool
    unsubscribed: bool = Field(
        description="Whether the app's webhook subscription was removed (kept while another "
        "account still has the asset connected)."
    )


# Operations ---------------------------------------------------------------------------------


class OperationOut(ResponseModel):
    id: uuid.UUID
    asset_id: uuid.UUID
    kind: MetaOperationKind
    status: MetaOperationStatus
    attempts: int
    last_error: str | None
    progress: dict[str, Any]
    result: dict[str, Any] | None
    next_attempt_at: Timestamp | None
    completed_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class SyncStarted(ResponseModel):
    operation: OperationOut


# Threads and messages -----------------------------------------------------------------------


class ThreadData(EventPayload):
    """A new DM thread, as its event shows it."""

    id: uuid.UUID
    asset_id: uuid.UUID
    platform: Platform
    participant_id: str = Field(description="The person's PSID (Messenger) or IGSID.")
    participant_name: str | None
    participant_username: str | None
    conversation_id: str | None
    created_at: Timestamp


class ThreadOut(ResponseModel):
    id: uuid.UUID
    asset_id: uuid.UUID
    platform: Platform
    participant_id: str = Field(description="The person's PSID (Messenger) or IGSID.")
    participant_name: str | None
    participant_username: str | None
    conversation_id: str | None
    last_message_at: Timestamp | None
    last_message_preview: str | None
    last_message_from_me: bool | None
    last_customer_message_at: Timestamp | None
    messaging_window_ends_at: Timestamp | None = Field(
        description="End of Meta's 24-hour window for replies without a message tag."
    )
    unread_count: int
    customer_link: ChatLink | None = Field(
        default=None,
        description="This account's CRM customer (and contact) of the thread: the person's "
        "PSID / IGSID mapping, else the Page's / Instagram account's inbox link.",
    )
    created_at: Timestamp
    updated_at: Timestamp


class AttachmentOut(ApiModel):
    type: str
    url: str | None = None
    extra: dict[str, Any] | None = None


class MessageData(EventPayload):
    """A DM as the API and the events show it."""

    id: uuid.UUID
    asset_id: uuid.UUID
    thread_id: uuid.UUID
    platform: Platform
    participant_id: str
    mid: str = Field(description="Meta's message id; `local:<id>` until Meta accepted our send.")
    from_me: bool
    sender_id: str
    recipient_id: str
    type: SocialMessageType
    text: str | None
    attachments: list[AttachmentOut]
    reply_to_mid: str | None
    reactions: dict[str, str]
    postback: dict[str, Any] | None
    status: SocialMessageStatus
    tag: str | None
    origin: dict[str, Any] | None
    delivered_at: Timestamp | None
    read_at: Timestamp | None
    deleted: bool
    source_timestamp: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class MessageOut(MessageData):
    pass


class OutgoingAttachment(ApiModel):
    type: Literal["image", "video", "audio", "file"]
    url: Url = Field(max_length=2000, description="A public http(s) URL Meta downloads.")

    _url = field_validator("url")(_http_url)


class SendMessage(ApiModel):
    text: str | None = Field(default=None, min_length=1, max_length=2000)
    attachment: OutgoingAttachment | None = None
    reply_to_mid: str | None = Field(
        default=None, max_length=300, description="Answer this message (its `mid`)."
    )
    tag: Literal["HUMAN_AGENT"] | None = Field(
        default=None,
        description="Reply outside the 24-hour window (up to 7 days) as a person, not a bot.",
    )

    @model_validator(mode="after")
    def _one_content(self) -> SendMessage:
        if (self.text is None) == (self.attachment is None):
            raise ValueError("send either text or an attachment")
        return self


class SendResult(ResponseModel):
    message: MessageOut
    operation: OperationOut


class ReadResult(ResponseModel):
    thread: ThreadOut
    operation: OperationOut | None


# Posts, media and comments ------------------------------------------------------------------


class PostData(EventPayload):
    id: uuid.UUID
    asset_id: uuid.UUID
    platform: Platform
    external_id: str | None = Field(description="The Graph post / media id once published.")
    media_type: str | None
    product_type: str | None
    text: str | None = Field(description="The post's message or the media's caption.")
    link: str | None
    media_url: str | None
    permalink: str | None
    status: PostStatus
    comment_count: int | None
    published_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class PostOut(PostData):
    pass


class PublishPost(ApiModel):
    """A Page post: text, a link (with text), or a photo by URL (with a caption)."""

    message: str | None = Field(default=None, min_length=1, max_length=63206)
    link: Url | None = Field(default=None, max_length=2000)
    photo_url: Url | None = Field(default=None, max_length=2000)

    _urls = field_validator("link", "photo_url")(_http_url)

    @model_validator(mode="after")
    def _something(self) -> PublishPost:
        if self.photo_url and self.link:
            raise ValueError("a post has a link or a photo, not both")
        if not (self.message or self.link or self.photo_url):
            raise ValueError("give a message, a link or a photoUrl")
        return self


class CarouselItem(ApiModel):
    image_url: Url | None = Field(default=None, max_length=2000)
    video_url: Url | None = Field(default=None, max_length=2000)

    _urls = field_validator("image_url", "video_url")(_http_url)

    @model_validator(mode="after")
    def _one(self) -> CarouselItem:
        if (self.image_url is None) == (self.video_url is None):
            raise ValueError("each item has an imageUrl or a videoUrl")
        return self


class PublishFeed(ApiModel):
    """A feed post: one image, or a carousel of 2 to 10 images and videos."""

    image_url: Url | None = Field(default=None, max_length=2000)
    children: list[CarouselItem] | None = Field(default=None, min_length=2, max_length=10)
    caption: str | None = Field(default=None, max_length=2200)

    _url = field_validator("image_url")(_http_url)

    @model_validator(mode="after")
    def _one(self) -> PublishFeed:
        if (self.image_url is None) == (self.children is None):
            raise ValueError("give an imageUrl or children (a carousel)")
        return self


class PublishReel(ApiModel):
    video_url: Url = Field(max_length=2000)
    caption: str | None = Field(default=None, max_length=2200)
    share_to_feed: bool | None = None
    cover_url: Url | None = Field(default=None, max_length=2000)

    _urls = field_validator("video_url", "cover_url")(_http_url)


class PublishStory(ApiModel):
    image_url: Url | None = Field(default=None, max_length=2000)
    video_url: Url | None = Field(default=None, max_length=2000)

    _urls = field_validator("image_url", "video_url")(_http_url)

    @model_validator(mode="after")
    def _one(self) -> PublishStory:
        if (self.image_url is None) == (self.video_url is None):
            raise ValueError("a story has an imageUrl or a videoUrl")
        return self


class PublishResult(ResponseModel):
    post: PostOut
    operation: OperationOut


class CommentData(EventPayload):
    id: uuid.UUID
    asset_id: uuid.UUID
    platform: Platform
    post_id: uuid.UUID | None = Field(description="Null for a mention on someone else's media.")
    post_external_id: str
    external_id: str | None = Field(description="Meta's comment id (null while ours is sent).")
    parent_external_id: str | None
    kind: CommentKind
    from_id: str | None
    from_name: str | None
    from_username: str | None
    from_me: bool
    text: str | None
    status: CommentStatus
    source_timestamp: Timestamp
    created_at: Timestamp
    updated_at: Timestamp


class CommentOut(CommentData):
    pass


class ReplyToComment(ApiModel):
    message: str = Field(min_length=1, max_length=8000)


class ReplyResult(ResponseModel):
    comment: CommentOut
    operation: OperationOut


# Webhooks -----------------------------------------------------------------------------------


class WebhookReceipt(ResponseModel):
    items: int = Field(description="Items in the body (messaging items and changes).")
    stored: int = Field(description="New items stored for processing.")
    duplicates: int = Field(description="Items stored before (redeliveries).")
