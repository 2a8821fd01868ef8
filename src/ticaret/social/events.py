"""Event types of Facebook Pages (`meta.*`) and Instagram (`instagram.*`).

Each goes to the account that owns the asset. When two accounts connected the same Page, each
has its own copy of the conversation and gets its own events.
"""

from __future__ import annotations

import uuid

from ticaret.core.events import EventPayload, EventType, event_type
from ticaret.models import AssetStatus, Platform
from ticaret.social.schemas import CommentData, MessageData, PostData, ThreadData


class AssetChanged(EventPayload):
    asset_id: uuid.UUID
    platform: Platform
    external_id: str
    name: str
    status: AssetStatus
    reason: str | None


class PlatformEvents:
    """One platform's event types, so the code that applies webhooks is written once."""

    def __init__(self, platform: str, asset_word: str, post_word: str) -> None:
        domain = "meta" if platform == "facebook" else "instagram"
        where = "a Page" if platform == "facebook" else "an Instagram account"
        self.thread_created: EventType[ThreadData] = event_type(
            f"{domain}.thread.created",
            f"A person wrote to (or was written to from) {where} for the first time, or a "
            "sync found the conversation: a new DM thread.",
            ThreadData,
        )
        self.message_received: EventType[MessageData] = event_type(
            f"{domain}.message.received",
            f"A person's direct message to {where} arrived (text, attachment or postback).",
            MessageData,
        )
        self.message_sent: EventType[MessageData] = event_type(
            f"{domain}.message.sent",
            "A message of ours was sent: through the API once Meta accepted it, or from "
            "Meta's own inbox (its echo).",
            MessageData,
        )
        self.message_updated: EventType[MessageData] = event_type(
            f"{domain}.message.updated",
            "A message changed: read or delivered, a reaction added or removed, a failed "
            "send, a message the person deleted.",
            MessageData,
        )
        self.comment_received: EventType[CommentData] = event_type(
            f"{domain}.comment.received",
            f"A comment (or reply) on a {post_word} of {where} arrived"
            + (", or a mention of the account." if platform == "instagram" else "."),
            CommentData,
        )
        self.asset_connected: EventType[AssetChanged] = event_type(
            f"{domain}.{asset_word}.connected",
            f"{where[0].upper()}{where[1:]} was connected (or reconnected) through onboarding.",
            AssetChanged,
        )
        self.asset_needs_reauth: EventType[AssetChanged] = event_type(
            f"{domain}.{asset_word}.needs_reauth",
            "Meta refused the asset's token (expired, revoked, permission removed): someone "
            "has to connect it again.",
            AssetChanged,
        )
        self.post_published: EventType[PostData] = event_type(
            f"{domain}.{post_word}.published",
            f"A {post_word} we published is live; `externalId` and `permalink` name it.",
            PostData,
        )


FACEBOOK = PlatformEvents("facebook", "asset", "post")
INSTAGRAM = PlatformEvents("instagram", "account", "media")


def events_of(platform: str) -> PlatformEvents:
    return FACEBOOK if platform == "facebook" else INSTAGRAM
