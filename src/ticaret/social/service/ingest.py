"""Webhooks in: the receiver (verify, split, store) and the inbox job's handler (apply).

The receiver checks `X-Hub-Signature-256` on the raw body before anything else, stores each
item of the batch as an inbox row under its natural id, and answers. The handler reads one
stored item and applies it to every asset that owns its Page / Instagram account: messages,
echoes of our sends, reads, deliveries, reactions and postbacks become thread messages;
comments and mentions become comments. Applying twice changes nothing: messages and comments
are keyed by Meta's ids, reads and reactions set state rather than add to it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.events import Actor, D, EventType, emit
from ticaret.core.inbox import InboxSource, Outcome, decode_json
from ticaret.models import (
    AssetFeature,
    CommentKind,
    CommentStatus,
    InboxItem,
    MetaAsset,
    MetaMessage,
    MetaThread,
    SocialMessageStatus,
    SocialMessageType,
)
from ticaret.settings import Settings
from ticaret.social.config import app_for
from ticaret.social.errors import InvalidSignature, MissingSignature
from ticaret.social.events import events_of
from ticaret.social.graph.normalized import (
    Attachment,
    CommentEvent,
    DeliveryEvent,
    MentionEvent,
    MessageEvent,
    PostbackEvent,
    ReactionEvent,
    ReadEvent,
    UnusedEvent,
    WebhookEvent,
)
from ticaret.social.graph.webhooks import (
    SIGNATURE_HEADER,
    MalformedItem,
    read_item,
    signature_valid,
    split_batch,
)
from ticaret.social.repository import assets as assets_repository
from ticaret.social.repository import posts as posts_repository
from ticaret.social.repository import threads as repository
from ticaret.social.schemas import WebhookReceipt
from ticaret.social.views import (
    comment_out,
    message_out,
    participant_of,
    preview_of,
    thread_data,
)

logger = logging.getLogger("ticaret.social.ingest")

# At most this many per-message events for one read receipt; the rest are updated silently.
MAX_READ_EVENTS = 50
OUR_METADATA_PREFIX = "ticaret:"

_ATTACHMENT_TYPES = {
    "image": SocialMessageType.image,
    "video": SocialMessageType.video,
    "audio": SocialMessageType.audio,
    "file": SocialMessageType.file,
    "sticker": SocialMessageType.sticker,
    "share": SocialMessageType.share,
    "fallback": SocialMessageType.share,
    "template": SocialMessageType.share,
    "ig_reel": SocialMessageType.share,
    "reel": SocialMessageType.share,
    "ig_post": SocialMessageType.share,
    "post": SocialMessageType.share,
    "story_mention": SocialMessageType.story,
    "story": SocialMessageType.story,
}


# The receiver --------------------------------------------------------------------------------


async def receive(
    session: AsyncSession,
    settings: Settings,
    source: InboxSource,
    platform: str,
    raw_body: bytes,
    headers: Mapping[str, str],
) -> WebhookReceipt:
    app = app_for(platform, settings)
    signature = headers.get(SIGNATURE_HEADER)
    if not signature:
        raise MissingSignature()
    if not signature_valid(raw_body, signature, app.app_secret):
        raise InvalidSignature()
    decoded = decode_json(raw_body)
    if not decoded.usable:
        stored = await source.store_unreadable(session, raw_body, decoded, headers=headers)
        return WebhookReceipt(
            items=1, stored=0 if stored.duplicate else 1, duplicates=int(stored.duplicate)
        )
    items = split_batch(platform, decoded.payload)
    results = await source.store(session, items, headers=headers)
    duplicates = sum(1 for r in results if r.duplicate)
    return WebhookReceipt(items=len(items), stored=len(results) - duplicates, duplicates=duplicates)


# The handler --------------------------------------------------------------------------------


def _message_type(event: MessageEvent) -> SocialMessageType:
    if event.attachments:
        return _ATTACHMENT_TYPES.get(event.attachments[0].type, SocialMessageType.unsupported)
    if event.text is not None:
        return SocialMessageType.text
    return SocialMessageType.unsupported


def _attachments(attachments: Sequence[Attachment]) -> list[dict[str, Any]]:
    return [a.as_json() for a in attachments]


class Applier:
    """Applies one webhook event to one asset (one account's copy of the conversation)."""

    def __init__(self, session: AsyncSession, asset: MetaAsset) -> None:
        self.session = session
        self.asset = asset
        self.events = events_of(asset.platform)

    def _emit(self, type: EventType[D], data: D) -> None:
        emit(self.session, type, data, account_id=self.asset.account_id, actor=Actor.system())

    def _has(self, feature: AssetFeature) -> bool:
        return feature.value in self.asset.features

    async def apply(self, event: WebhookEvent) -> bool:
        """False when the asset does not use what the event is about."""
        if isinstance(event, CommentEvent | MentionEvent):
            if not self._has(AssetFeature.comments):
                return False
            if isinstance(event, CommentEvent):
                await self.comment(event)
            else:
                await self.mention(event)
            return True
        if not self._has(AssetFeature.messaging):
            return False
        if isinstance(event, MessageEvent):
            await (self.deleted(event) if event.deleted else self.message(event))
        elif isinstance(event, ReadEvent):
            await self.read(event)
        elif isinstance(event, DeliveryEvent):
            await self.delivered(event)
        elif isinstance(event, ReactionEvent):
            await self.reaction(event)
        elif isinstance(event, PostbackEvent):
            await self.postback(event)
        else:
            return False
        return True

    # Messages -------------------------------------------------------------------------------

    async def _thread(self, participant_id: str) -> MetaThread:
        thread, created = await repository.thread_for(self.session, self.asset, participant_id)
        if created:
            self._emit(self.events.thread_created, thread_data(thread))
        return thread

    def _after_message(self, thread: MetaThread, message: MetaMessage) -> None:
        if thread.last_message_at is None or message.source_timestamp >= thread.last_message_at:
            thread.last_message_at = message.source_timestamp
            thread.last_message_preview = preview_of(message.type, message.text)
            thread.last_message_from_me = message.from_me
        if not message.from_me:
            thread.unread_count += 1
            last = thread.last_customer_message_at
            if last is None or message.source_timestamp > last:
                thread.last_customer_message_at = message.source_timestamp

    def _values(
        self, thread: MetaThread, event: MessageEvent | PostbackEvent, **extra: Any
    ) -> dict[str, Any]:
        return {
            "account_id": self.asset.account_id,
            "asset_id": self.asset.id,
            "thread_id": thread.id,
            "platform": self.asset.platform,
            "sender_id": event.sender_id,
            "recipient_id": event.recipient_id,
            "reactions": {},
            "deleted": False,
            "source_timestamp": event.timestamp,
            **extra,
        }

    async def message(self, event: MessageEvent) -> None:
        if event.is_echo:
            await self.echo(event)
            return
        thread = await self._thread(event.sender_id)
        postback = (
            {"quickReplyPayload": event.quick_reply_payload} if event.quick_reply_payload else None
        )
        message = await repository.insert_message(
            self.session,
            self._values(
                thread,
                event,
                mid=event.mid,
                from_me=False,
                type=_message_type(event),
                text=event.text,
                attachments=_attachments(event.attachments),
                reply_to_mid=event.reply_to_mid,
                postback=postback,
                status=SocialMessageStatus.received,
            ),
        )
        if message is None:
            return  # delivered before
        self._after_message(thread, message)
        await self.session.flush()
        self._emit(self.events.message_received, message_out(message, thread.participant_id))

    async def echo(self, event: MessageEvent) -> None:
        """Our own message, as Meta saw it: the echo of an API send, or a message a person
        at the Page sent from Meta's inbox."""
        thread = await self._thread(event.recipient_id)
        known = await repository.message_in_thread(
            self.session, thread.id, event.mid, for_update=True
        )
        if known is None and event.metadata and event.metadata.startswith(OUR_METADATA_PREFIX):
            # The echo overtook the send job's answer: adopt Meta's id on our pending row.
            ours = await self._our_message(event.metadata.removeprefix(OUR_METADATA_PREFIX))
            if ours is not None and ours.thread_id == thread.id:
                ours.mid = event.mid
                known = ours
        if known is not None:
            if known.status in (SocialMessageStatus.pending, SocialMessageStatus.failed):
                known.status = SocialMessageStatus.sent
            return
        message = await repository.insert_message(
            self.session,
            self._values(
                thread,
                event,
                mid=event.mid,
                from_me=True,
                type=_message_type(event),
                text=event.text,
                attachments=_attachments(event.attachments),
                reply_to_mid=event.reply_to_mid,
                status=SocialMessageStatus.sent,
                origin={"source": "meta_inbox"},
            ),
        )
        if message is None:
            return
        self._after_message(thread, message)
        await self.session.flush()
        self._emit(self.events.message_sent, message_out(message, thread.participant_id))

    async def _our_message(self, raw_id: str) -> MetaMessage | None:
        try:
            message_id = uuid.UUID(raw_id)
        except ValueError:
            return None
        message = await repository.message_by_id(self.session, message_id, for_update=True)
        if message is None or message.asset_id != self.asset.id:
            return None
        return message

    async def deleted(self, event: MessageEvent) -> None:
        message = await repository.message_by_mid(
            self.session, self.asset.id, event.mid, for_update=True
        )
        if message is None or message.deleted:
            return
        message.deleted = True
        message.text = None
        message.attachments = []
        await self.session.flush()
        self._emit(self.events.message_updated, message_out(message, participant_of(message)))

    async def postback(self, event: PostbackEvent) -> None:
        thread = await self._thread(event.sender_id)
        mid = event.mid or f"postback:{int(event.timestamp.timestamp() * 1000)}"
        message = await repository.insert_message(
            self.session,
            self._values(
                thread,
                event,
                mid=mid,
                from_me=False,
                type=SocialMessageType.postback,
                text=event.title,
                attachments=[],
                postback={"title": event.title, "payload": event.payload},
                status=SocialMessageStatus.received,
            ),
        )
        if message is None:
            return
        self._after_message(thread, message)
        await self.session.flush()
        self._emit(self.events.message_received, message_out(message, thread.participant_id))

    async def _emit_updates(self, messages: Sequence[MetaMessage], participant_id: str) -> None:
        if not messages:
            return
        await self.session.flush()
        newest = sorted(messages, key=lambda m: m.source_timestamp, reverse=True)
        for message in newest[:MAX_READ_EVENTS]:
            self._emit(self.events.message_updated, message_out(message, participant_id))

    async def read(self, event: ReadEvent) -> None:
        thread = await repository.thread_with(self.session, self.asset.id, event.sender_id)
        if thread is None:
            return  # a read of messages from before we were connected
        watermark: datetime | None = event.watermark
        if watermark is None and event.mid is not None:
            # Instagram names the last message read; everything of ours up to it is read too.
            target = await repository.message_in_thread(self.session, thread.id, event.mid)
            watermark = target.source_timestamp if target is not None else None
        if watermark is None:
            return
        changed = await repository.ours_read_up_to(
            self.session, thread.id, watermark, event.timestamp
        )
        await self._emit_updates(changed, thread.participant_id)

    async def delivered(self, event: DeliveryEvent) -> None:
        thread = await repository.thread_with(self.session, self.asset.id, event.sender_id)
        if thread is None:
            return
        changed = await repository.ours_delivered_up_to(
            self.session, thread.id, event.watermark, event.watermark
        )
        await self._emit_updates(changed, thread.participant_id)

    async def reaction(self, event: ReactionEvent) -> None:
        message = await repository.message_by_mid(
            self.session, self.asset.id, event.mid, for_update=True
        )
        if message is None:
            return  # a reaction on a message from before we were connected
        reactions = dict(message.reactions)
        if event.action == "unreact":
            if reactions.pop(event.sender_id, None) is None:
                return
        else:
            emoji = event.emoji or event.reaction or "?"
            if reactions.get(event.sender_id) == emoji:
                return
            reactions[event.sender_id] = emoji
        message.reactions = reactions
        await self.session.flush()
        self._emit(self.events.message_updated, message_out(message, participant_of(message)))

    # Comments -------------------------------------------------------------------------------

    async def comment(self, event: CommentEvent) -> None:
        existing = await posts_repository.comment_by_external(
            self.session, self.asset.id, event.comment_id, for_update=True
        )
        if event.verb == "remove":
            if existing is not None and existing.status != CommentStatus.deleted:
                existing.status = CommentStatus.deleted
            return
        if event.verb == "edited":
            if existing is not None and event.text is not None:
                existing.text = event.text
            return
        if existing is not None:
            return
        post = await posts_repository.post_for(
            self.session, self.asset, event.post_id, product_type=event.product_type
        )
        from_me = event.from_id is not None and event.from_id in (
            self.asset.external_id,
            self.asset.app_scoped_id,
        )
        comment = await posts_repository.insert_comment(
            self.session,
            {
                "account_id": self.asset.account_id,
                "asset_id": self.asset.id,
                "post_id": post.id,
                "post_external_id": event.post_id,
                "platform": self.asset.platform,
                "kind": CommentKind.comment,
                "external_id": event.comment_id,
                "parent_external_id": event.parent_id,
                "from_id": event.from_id,
                "from_name": event.from_name,
                "from_username": event.from_username,
                "from_me": from_me,
                "text": event.text,
                "status": CommentStatus.sent if from_me else CommentStatus.received,
                "source_timestamp": event.timestamp,
            },
        )
        if comment is None or from_me:
            return  # a redelivery, or our own reply coming back
        post.comment_count = (post.comment_count or 0) + 1
        self._emit(self.events.comment_received, comment_out(comment))

    async def mention(self, event: MentionEvent) -> None:
        comment = await posts_repository.insert_comment(
            self.session,
            {
                "account_id": self.asset.account_id,
                "asset_id": self.asset.id,
                "post_id": None,
                "post_external_id": event.media_id,
                "platform": self.asset.platform,
                "kind": CommentKind.mention,
                "external_id": event.comment_id or f"mention:{event.media_id}",
                "from_me": False,
                "status": CommentStatus.received,
                "source_timestamp": event.timestamp,
            },
        )
        if comment is not None:
            self._emit(self.events.comment_received, comment_out(comment))


async def apply_item(session: AsyncSession, platform: str, item: InboxItem) -> Outcome:
    """The inbox handler: one stored item, applied for every account that owns its asset."""
    if item.event_type == "wrong_object":
        return Outcome.failed(f"the body's object is not the one {platform} webhooks send")
    try:
        entry_id, event = read_item(platform, item.payload)
    except MalformedItem as exc:
        return Outcome.failed(str(exc))
    if isinstance(event, UnusedEvent):
        return Outcome.ignored(event.reason)
    owners = await assets_repository.owners_of(session, platform, entry_id)
    if not owners:
        return Outcome.ignored(f"no account has {platform} asset {entry_id} connected")
    applied = 0
    for asset in owners:
        if await Applier(session, asset).apply(event):
            applied += 1
    if not applied:
        return Outcome.ignored("the feature is turned off for every asset it concerns")
    return Outcome.processed()


async def apply_facebook_item(session: AsyncSession, item: InboxItem) -> Outcome:
    return await apply_item(session, "facebook", item)


async def apply_instagram_item(session: AsyncSession, item: InboxItem) -> Outcome:
    return await apply_item(session, "instagram", item)
