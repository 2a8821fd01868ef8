"""What Graph answers and webhooks say, in one shape for both Facebook Pages and Instagram."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Attachment:
    type: str
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "url": self.url, **({"extra": self.extra} if self.extra else {})}


def as_object(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (Graph leaves fields out freely)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# Webhook items ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageEvent:
    """A message a person sent us, or the echo of one we (or a person at the Page) sent."""

    mid: str
    sender_id: str
    recipient_id: str
    timestamp: datetime
    text: str | None
    attachments: tuple[Attachment, ...]
    reply_to_mid: str | None
    is_echo: bool
    metadata: str | None = None
    quick_reply_payload: str | None = None
    deleted: bool = False
    unsupported: bool = False


@dataclass(frozen=True)
class ReadEvent:
    """The person read our messages: up to `watermark` (Messenger) or up to `mid` (Instagram)."""

    sender_id: str
    recipient_id: str
    timestamp: datetime
    watermark: datetime | None
    mid: str | None


@dataclass(frozen=True)
class DeliveryEvent:
    sender_id: str
    recipient_id: str
    watermark: datetime
    mids: tuple[str, ...]


@dataclass(frozen=True)
class ReactionEvent:
    sender_id: str
    recipient_id: str
    timestamp: datetime
    mid: str
    action: str  # react | unreact
    reaction: str | None
    emoji: str | None


@dataclass(frozen=True)
class PostbackEvent:
    sender_id: str
    recipient_id: str
    timestamp: datetime
    mid: str | None
    title: str | None
    payload: str | None


@dataclass(frozen=True)
class CommentEvent:
    """A comment added, edited or removed on a Page post or an Instagram media object."""

    verb: str  # add | edited | remove
    comment_id: str
    post_id: str
    parent_id: str | None
    from_id: str | None
    from_name: str | None
    from_username: str | None
    text: str | None
    timestamp: datetime
    product_type: str | None = None


@dataclass(frozen=True)
class MentionEvent:
    """Someone @mentioned the Instagram account in a comment or a caption."""

    media_id: str
    comment_id: str | None
    timestamp: datetime


@dataclass(frozen=True)
class UnusedEvent:
    """Understood, and nothing we keep (a like on a post, a standby item, an opt-in, ...)."""

    reason: str


WebhookEvent = (
    MessageEvent
    | ReadEvent
    | DeliveryEvent
    | ReactionEvent
    | PostbackEvent
    | CommentEvent
    | MentionEvent
    | UnusedEvent
)


# Graph answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserGrant:
    """An access token and what Meta said about it."""

    access_token: str
    expires_in: int | None = None
    user_id: str | None = None
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiscoveredAsset:
    """A Page (with its own token) or an Instagram professional account found at onboarding."""

    external_id: str
    name: str
    access_token: str
    username: str | None = None
    category: str | None = None
    picture_url: str | None = None
    app_scoped_id: str | None = None
    token_expires_in: int | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class GraphPage:
    """One page of a Graph list, and the cursor of the next one (None at the end)."""

    rows: list[dict[str, Any]]
    after: str | None


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    recipient_id: str | None


@dataclass(frozen=True)
class PublishingLimit:
    used: int
    total: int | None
    window_seconds: int | None
