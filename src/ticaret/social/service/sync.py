"""The sync job: backfill conversations, messages, posts / media and comments through Graph
paging, honouring the usage headers.

Before every Graph call the job looks at the hold the usage headers left (app-wide and for the
asset): a short hold is waited out in place, a long one re-queues the job for later. Progress
(phase, counts, calls, waits) is saved on the operation after each page, so a client watching
`GET .../operations/{id}` sees the backfill move. Rows are keyed by Meta's ids, so a re-run
(after a hold, a retry or a crash) adds only what is missing. Backfilled messages and comments
are history: they emit no `received` events and leave unread counts alone.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ticaret.core.db import unit_of_work
from ticaret.core.events import Actor, emit
from ticaret.models import (
    AssetFeature,
    CommentKind,
    CommentStatus,
    MetaAsset,
    MetaOperationStatus,
    SocialMessageStatus,
    SocialMessageType,
)
from ticaret.settings import get_settings
from ticaret.social.config import graph_for
from ticaret.social.errors import MetaNotConfigured
from ticaret.social.events import events_of
from ticaret.social.graph import usage as usage_gate
from ticaret.social.graph.base import SocialGraph
from ticaret.social.graph.errors import GraphError
from ticaret.social.graph.normalized import GraphPage, as_list, as_object
from ticaret.social.graph.webhooks import when
from ticaret.social.repository import assets as assets_repository
from ticaret.social.repository import operations as repository
from ticaret.social.repository import posts as posts_repository
from ticaret.social.repository import threads as threads_repository
from ticaret.social.service.common import mark_needs_reauth, now, token_of
from ticaret.social.service.perform import Performed, save_progress
from ticaret.social.views import preview_of, thread_data

logger = logging.getLogger("ticaret.social.sync")


# A sync handed back to the queue this many times for rate-limit holds gives up: the usage
# headers keep saying the limit is near, and nothing may wait forever.
MAX_DEFERRALS = 20


class Deferred(Exception):
    """The usage headers asked for a longer pause than a job should sleep."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate limit hold of {seconds:.0f}s")
        self.seconds = seconds


@dataclass
class Sync:
    operation_id: uuid.UUID
    asset: MetaAsset
    token: str
    graph: SocialGraph
    progress: dict[str, Any]

    @property
    def scopes(self) -> tuple[str, ...]:
        return ("app", self.asset.external_id)

    async def save(self, **changes: Any) -> None:
        self.progress.update(changes)
        await save_progress(self.operation_id, **self.progress)

    async def gate(self) -> None:
        """Wait out the hold the usage headers asked for (or hand the job back for later)."""
        settings = get_settings().meta
        wait = await usage_gate.wait_for(self.asset.platform, self.scopes)
        if wait <= 0:
            return
        self.progress["throttled"] = int(self.progress.get("throttled", 0)) + 1
        if wait > settings.sync_max_inline_wait_seconds:
            raise Deferred(wait)
        resume = now() + timedelta(seconds=wait)
        await self.save(waitingUntil=resume.isoformat())
        await asyncio.sleep(wait)
        self.progress["waitedSeconds"] = round(
            float(self.progress.get("waitedSeconds", 0)) + wait, 3
        )
        self.progress.pop("waitingUntil", None)

    async def pages(
        self, fetch: Callable[[str | None], Awaitable[GraphPage]]
    ) -> list[list[dict[str, Any]]]:
        """Up to `sync_max_pages` pages of one Graph list, each call behind the gate."""
        found: list[list[dict[str, Any]]] = []
        after: str | None = None
        for _ in range(get_settings().meta.sync_max_pages):
            await self.gate()
            page = await fetch(after)
            self.progress["graphCalls"] = int(self.progress.get("graphCalls", 0)) + 1
            found.append(page.rows)
            after = page.after
            if after is None:
                break
        return found


def _person(row: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(id, name, username) of a Graph `from` / participant object."""
    return (
        str(row["id"]) if row.get("id") else None,
        row.get("name") if isinstance(row.get("name"), str) else None,
        row.get("username") if isinstance(row.get("username"), str) else None,
    )


def _graph_attachments(row: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in as_list(as_object(row.get("attachments")).get("data")):
        item = as_object(item)
        if item.get("image_data"):
            found.append({"type": "image", "url": as_object(item["image_data"]).get("url")})
        elif item.get("video_data"):
            found.append({"type": "video", "url": as_object(item["video_data"]).get("url")})
        elif item.get("file_url"):
            found.append({"type": "file", "url": item.get("file_url")})
    return found


async def _store_conversation(sync: Sync, conversation: dict[str, Any]) -> None:
    asset = sync.asset
    people = [
        _person(as_object(p))
        for p in as_list(as_object(conversation.get("participants")).get("data"))
    ]
    others = [p for p in people if p[0] and p[0] not in (asset.external_id, asset.app_scoped_id)]
    if not others:
        return
    participant_id, name, username = others[0]
    assert participant_id is not None
    conversation_id = str(conversation.get("id") or "") or None
    async with unit_of_work() as session:
        thread, created = await threads_repository.thread_for(session, asset, participant_id)
        thread.conversation_id = conversation_id or thread.conversation_id
        thread.participant_name = name or thread.participant_name
        thread.participant_username = username or thread.participant_username
        thread_id = thread.id
        if created:
            await session.flush()
            emit(
                session,
                events_of(asset.platform).thread_created,
                thread_data(thread),
                account_id=asset.account_id,
                actor=Actor.system(),
            )
    sync.progress["conversations"] = int(sync.progress.get("conversations", 0)) + 1
    if conversation_id is None:
        return
    for rows in await sync.pages(
        lambda after: sync.graph.conversation_messages(conversation_id, sync.token, after)
    ):
        stored = await _store_messages(asset, thread_id, participant_id, rows)
        sync.progress["messages"] = int(sync.progress.get("messages", 0)) + stored
        await sync.save()


async def _store_messages(
    asset: MetaAsset, thread_id: uuid.UUID, participant_id: str, rows: list[dict[str, Any]]
) -> int:
    stored = 0
    async with unit_of_work() as session:
        thread = await threads_repository.thread(
            session, asset.account_id, asset.id, thread_id, for_update=True
        )
        if thread is None:
            return 0
        for row in rows:
            mid = row.get("id")
            if not isinstance(mid, str):
                continue
            sender, _, _ = _person(as_object(row.get("from")))
            from_me = sender in (asset.external_id, asset.app_scoped_id)
            recipients = [
                _person(as_object(r)) for r in as_list(as_object(row.get("to")).get("data"))
            ]
            recipient = recipients[0][0] if recipients and recipients[0][0] else None
            text = (
                row.get("message")
                if isinstance(row.get("message"), str) and row["message"]
                else None
            )
            attachments = _graph_attachments(row)
            kind = attachments[0]["type"] if attachments else SocialMessageType.text
            timestamp: datetime = when(row.get("created_time"))
            message = await threads_repository.insert_message(
                session,
                {
                    "account_id": asset.account_id,
                    "asset_id": asset.id,
                    "thread_id": thread.id,
                    "platform": asset.platform,
                    "mid": mid,
                    "from_me": from_me,
                    "sender_id": sender or (asset.external_id if from_me else participant_id),
                    "recipient_id": recipient or (participant_id if from_me else asset.external_id),
                    "type": kind,
                    "text": text,
                    "attachments": attachments,
                    "reactions": {},
                    "status": SocialMessageStatus.sent if from_me else SocialMessageStatus.received,
                    # History: what came before the sync counts as read here.
                    "read_at": None if from_me else now(),
                    "deleted": False,
                    "source_timestamp": timestamp,
                },
            )
            if message is None:
                continue
            stored += 1
            if thread.last_message_at is None or timestamp >= thread.last_message_at:
                thread.last_message_at = timestamp
                thread.last_message_preview = preview_of(message.type, text)
                thread.last_message_from_me = from_me
            if not from_me and (
                thread.last_customer_message_at is None
                or timestamp > thread.last_customer_message_at
            ):
                thread.last_customer_message_at = timestamp
    return stored


def _post_values(platform: str, row: dict[str, Any]) -> dict[str, Any]:
    if platform == "facebook":
        return {
            "text": row.get("message"),
            "permalink": row.get("permalink_url"),
            "media_url": row.get("full_picture"),
            "media_type": row.get("status_type"),
            "published_at": when(row["created_time"]) if row.get("created_time") else None,
        }
    count = row.get("comments_count")
    return {
        "text": row.get("caption"),
        "permalink": row.get("permalink"),
        "media_url": row.get("media_url") or row.get("thumbnail_url"),
        "media_type": row.get("media_type"),
        "product_type": row.get("media_product_type"),
        "comment_count": count if isinstance(count, int) else None,
        "published_at": when(row["timestamp"]) if row.get("timestamp") else None,
    }


def _comment_values(asset: MetaAsset, row: dict[str, Any]) -> dict[str, Any] | None:
    comment_id = row.get("id")
    if not isinstance(comment_id, str):
        return None
    sender_id, name, username = _person(as_object(row.get("from")))
    if asset.platform == "facebook":
        text = row.get("message")
        parent = as_object(row.get("parent")).get("id")
        timestamp = when(row.get("created_time"))
    else:
        text = row.get("text")
        parent = row.get("parent_id")
        username = username or (
            row.get("username") if isinstance(row.get("username"), str) else None
        )
        timestamp = when(row.get("timestamp"))
    from_me = sender_id is not None and sender_id in (asset.external_id, asset.app_scoped_id)
    return {
        "external_id": comment_id,
        "parent_external_id": str(parent) if parent else None,
        "from_id": sender_id,
        "from_name": name,
        "from_username": username,
        "from_me": from_me,
        "text": text if isinstance(text, str) else None,
        "status": CommentStatus.sent if from_me else CommentStatus.received,
        "source_timestamp": timestamp,
    }


async def _store_post(sync: Sync, row: dict[str, Any]) -> None:
    post_external = row.get("id")
    if not isinstance(post_external, str):
        return
    asset = sync.asset
    async with unit_of_work() as session:
        post = await posts_repository.post_for(
            session, asset, post_external, **_post_values(asset.platform, row)
        )
        post_id = post.id
    sync.progress["posts"] = int(sync.progress.get("posts", 0)) + 1
    if AssetFeature.comments.value not in asset.features:
        return
    for rows in await sync.pages(
        lambda after: sync.graph.comments(post_external, sync.token, after)
    ):
        stored = 0
        async with unit_of_work() as session:
            for comment_row in rows:
                values = _comment_values(asset, comment_row)
                if values is None:
                    continue
                inserted = await posts_repository.insert_comment(
                    session,
                    {
                        "account_id": asset.account_id,
                        "asset_id": asset.id,
                        "post_id": post_id,
                        "post_external_id": post_external,
                        "platform": asset.platform,
                        "kind": CommentKind.comment,
                        **values,
                    },
                )
                stored += inserted is not None
        sync.progress["comments"] = int(sync.progress.get("comments", 0)) + stored
        await sync.save()


async def _backfill(sync: Sync) -> None:
    asset = sync.asset
    features = set(asset.features)
    if AssetFeature.messaging.value in features:
        await sync.save(phase="conversations")
        for rows in await sync.pages(
            lambda after: sync.graph.conversations(asset.external_id, sync.token, after)
        ):
            for conversation in rows:
                await _store_conversation(sync, conversation)
            await sync.save()
    if features & {AssetFeature.publishing.value, AssetFeature.comments.value}:
        await sync.save(phase="posts" if asset.platform == "facebook" else "media")
        for rows in await sync.pages(
            lambda after: sync.graph.posts(asset.external_id, sync.token, after)
        ):
            for row in rows:
                await _store_post(sync, row)
            await sync.save()


async def _claim(operation_id: uuid.UUID) -> Sync | None:
    async with unit_of_work() as session:
        operation = await repository.claim(session, operation_id)
        if operation is None:
            return None
        asset = await assets_repository.asset_for_job(session, operation.asset_id)
        if asset is None or asset.token_encrypted is None:
            operation.status = MetaOperationStatus.failed
            operation.last_error = "the asset was removed or needs a new onboarding"
            operation.completed_at = now()
            return None
        try:
            token = token_of(asset)
        except ValueError:
            operation.status = MetaOperationStatus.failed
            operation.last_error = "the stored token cannot be decrypted"
            operation.completed_at = now()
            return None
        operation.status = MetaOperationStatus.running
        operation.attempts += 1
        operation.next_attempt_at = None
        progress = {
            "conversations": 0,
            "messages": 0,
            "posts": 0,
            "comments": 0,
            "graphCalls": 0,
            "throttled": 0,
            "waitedSeconds": 0,
            **{
                k: v
                for k, v in operation.progress.items()
                if k in ("throttled", "waitedSeconds", "deferrals")
            },
            "phase": "starting",
        }
        operation.progress = progress
        return Sync(
            operation.id,
            asset,
            token,
            graph_for(asset.platform, get_settings()),
            dict(progress),
        )


async def _finish(
    sync: Sync,
    status: MetaOperationStatus,
    error: str | None,
    *,
    again: timedelta | None = None,
    counts: bool = True,
) -> tuple[str, timedelta] | None:
    async with unit_of_work() as session:
        operation = await repository.operation_by_id(session, sync.operation_id, for_update=True)
        if operation is None:
            return None
        operation.progress = {**operation.progress, **sync.progress}
        operation.last_error = error[:1000] if error else None
        if again is not None:
            if not counts:
                operation.attempts -= 1  # waiting for the rate limit is not a failed try
            operation.status = MetaOperationStatus.queued
            operation.next_attempt_at = now() + again
            held = "" if counts else f".hold{sync.progress.get('throttled', 0)}"
            return f"{operation.attempts}{held}", again
        operation.status = status
        operation.completed_at = now()
        if status == MetaOperationStatus.succeeded:
            operation.result = {
                key: sync.progress.get(key, 0)
                for key in ("conversations", "messages", "posts", "comments")
            }
            asset = await assets_repository.asset_for_job(session, sync.asset.id, for_update=True)
            if asset is not None:
                asset.last_synced_at = now()
    return None


async def run_sync(operation_id: uuid.UUID) -> Performed:
    try:
        sync = await _claim(operation_id)
    except MetaNotConfigured:
        return Performed("failed")
    if sync is None:
        return Performed("skipped")
    settings = get_settings().meta
    try:
        await _backfill(sync)
    except Deferred as held:
        deferrals = int(sync.progress.get("deferrals", 0)) + 1
        sync.progress["deferrals"] = deferrals
        if deferrals > MAX_DEFERRALS:
            sync.progress["phase"] = "failed"
            await _finish(
                sync,
                MetaOperationStatus.failed,
                f"gave up after {MAX_DEFERRALS} rate-limit holds",
            )
            return Performed("failed")
        sync.progress["phase"] = "waiting for the rate limit"
        again = await _finish(
            sync,
            MetaOperationStatus.queued,
            str(held),
            again=timedelta(seconds=held.seconds),
            counts=False,
        )
        return Performed("deferred", again)
    except GraphError as exc:
        if exc.needs_reauth:
            async with unit_of_work() as session:
                asset = await assets_repository.asset_for_job(
                    session, sync.asset.id, for_update=True
                )
                if asset is not None:
                    await mark_needs_reauth(session, asset, exc)
        elif exc.retryable:
            async with unit_of_work() as session:
                operation = await repository.operation_by_id(session, sync.operation_id)
                attempts = operation.attempts if operation else settings.operation_max_attempts
            if attempts < settings.operation_max_attempts:
                delay = timedelta(
                    seconds=settings.operation_retry_base_seconds * 2 ** (attempts - 1)
                )
                sync.progress["phase"] = "retrying"
                again = await _finish(sync, MetaOperationStatus.queued, str(exc), again=delay)
                return Performed("retry", again)
        sync.progress["phase"] = "failed"
        await _finish(sync, MetaOperationStatus.failed, str(exc))
        return Performed("failed")
    sync.progress["phase"] = "done"
    await _finish(sync, MetaOperationStatus.succeeded, None)
    return Performed("succeeded")
