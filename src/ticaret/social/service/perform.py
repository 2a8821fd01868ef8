"""Performing an operation: the Graph calls behind a send, a read mark, a comment reply or a
publication.

Short transactions around the calls, never one held open during them: claim the row
(queued -> running), call Graph, record the answer. Rate limits and outages (5xx, 429, codes
4/17/32/613, transport errors) are retried with exponential backoff up to
`meta.operation_max_attempts`; any other refusal fails at once, and a refused token marks the
asset `needs_reauth` (an event) without retrying. Instagram publishing checkpoints its progress
(container id, status, polls) on the row, so a client can watch it and a re-run resumes.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import unit_of_work
from ticaret.core.events import Actor, emit
from ticaret.models import (
    CommentStatus,
    MetaAsset,
    MetaMessage,
    MetaOperation,
    MetaOperationKind,
    MetaOperationStatus,
    PostStatus,
    SocialMessageStatus,
)
from ticaret.settings import get_settings
from ticaret.social.config import graph_for
from ticaret.social.errors import MetaNotConfigured
from ticaret.social.events import events_of
from ticaret.social.graph.errors import GraphError
from ticaret.social.graph.facebook import FacebookGraph
from ticaret.social.graph.instagram import InstagramGraph
from ticaret.social.repository import assets as assets_repository
from ticaret.social.repository import operations as repository
from ticaret.social.repository import posts as posts_repository
from ticaret.social.repository import threads as threads_repository
from ticaret.social.service.common import mark_needs_reauth, now, token_of
from ticaret.social.views import message_out, participant_of, post_out

logger = logging.getLogger("ticaret.social.perform")


@dataclass(frozen=True)
class Performed:
    """How a run ended, and when to run again (a retry, a status poll, a rate-limit hold):
    (a job id suffix naming that run, the delay)."""

    status: str
    again: tuple[str, timedelta] | None = None


@dataclass
class Call:
    operation_id: uuid.UUID
    kind: str
    request: dict[str, Any]
    progress: dict[str, Any]
    attempt: int
    asset: MetaAsset
    token: str
    message_id: uuid.UUID | None
    post_id: uuid.UUID | None
    comment_id: uuid.UUID | None


class Failed(Exception):
    """The operation cannot succeed (not a Graph error): fail it with this reason."""


@dataclass
class Poll:
    """Run again after `delay` without counting an attempt (a container still processing)."""

    delay: timedelta
    progress: dict[str, Any] = field(default_factory=dict)


async def _claim(operation_id: uuid.UUID) -> Call | None:
    async with unit_of_work() as session:
        operation = await repository.claim(session, operation_id)
        if operation is None:
            return None
        asset = await assets_repository.asset_for_job(session, operation.asset_id)
        if asset is None or asset.token_encrypted is None:
            _close(operation, MetaOperationStatus.failed, "the asset was removed")
            return None
        try:
            token = token_of(asset)
        except ValueError:
            # Encrypted with a Fernet key no longer configured: only a new onboarding helps.
            _close(operation, MetaOperationStatus.failed, "the stored token cannot be decrypted")
            return None
        operation.status = MetaOperationStatus.running
        operation.attempts += 1
        operation.next_attempt_at = None
        return Call(
            operation_id=operation.id,
            kind=operation.kind,
            request=dict(operation.request),
            progress=dict(operation.progress),
            attempt=operation.attempts,
            asset=asset,
            token=token,
            message_id=operation.message_id,
            post_id=operation.post_id,
            comment_id=operation.comment_id,
        )


def _close(operation: MetaOperation, status: MetaOperationStatus, error: str | None) -> None:
    operation.status = status
    operation.last_error = error[:1000] if error else None
    operation.completed_at = now()
    operation.next_attempt_at = None


async def save_progress(operation_id: uuid.UUID, **changes: Any) -> dict[str, Any]:
    """Checkpoint: a client sees it, and a re-run resumes from it."""
    async with unit_of_work() as session:
        operation = await repository.operation_by_id(session, operation_id, for_update=True)
        if operation is None:
            return {}
        operation.progress = {**operation.progress, **changes}
        return dict(operation.progress)


# Outcomes -----------------------------------------------------------------------------------


async def _fail(call: Call, reason: str, error: GraphError | None = None) -> None:
    async with unit_of_work() as session:
        operation = await repository.operation_by_id(session, call.operation_id, for_update=True)
        if operation is None:
            return
        _close(operation, MetaOperationStatus.failed, reason)
        if error is not None:
            operation.result = {"error": error.details()}
        events = events_of(call.asset.platform)
        if call.message_id is not None:
            message = await threads_repository.message_by_id(
                session, call.message_id, for_update=True
            )
            if message is not None and message.status == SocialMessageStatus.pending:
                message.status = SocialMessageStatus.failed
                await session.flush()
                emit(
                    session,
                    events.message_updated,
                    message_out(message, participant_of(message)),
                    account_id=message.account_id,
                    actor=Actor.system(),
                )
        if call.comment_id is not None:
            comment = await posts_repository.comment_by_id(
                session, call.comment_id, for_update=True
            )
            if comment is not None and comment.status == CommentStatus.pending:
                comment.status = CommentStatus.failed
        if call.post_id is not None:
            post = await posts_repository.post_by_id(session, call.post_id, for_update=True)
            if post is not None and post.status == PostStatus.publishing:
                post.status = PostStatus.failed
        if error is not None and error.needs_reauth:
            asset = await assets_repository.asset_for_job(session, call.asset.id, for_update=True)
            if asset is not None:
                await mark_needs_reauth(session, asset, error)


async def _again(call: Call, error: GraphError) -> tuple[str, timedelta] | None:
    """Queue a retry after a transient error; None when the tries are spent."""
    settings = get_settings().meta
    if call.attempt >= settings.operation_max_attempts:
        return None
    delay = timedelta(seconds=settings.operation_retry_base_seconds * 2 ** (call.attempt - 1))
    async with unit_of_work() as session:
        operation = await repository.operation_by_id(session, call.operation_id, for_update=True)
        if operation is None:
            return None
        operation.status = MetaOperationStatus.queued
        operation.last_error = str(error)[:1000]
        operation.next_attempt_at = now() + delay
        return str(operation.attempts), delay


async def _poll_later(call: Call, poll: Poll) -> tuple[str, timedelta]:
    async with unit_of_work() as session:
        operation = await repository.operation_by_id(session, call.operation_id, for_update=True)
        assert operation is not None
        operation.status = MetaOperationStatus.queued
        # A poll is not a failed try: it does not use up the retries.
        operation.attempts -= 1
        operation.next_attempt_at = now() + poll.delay
        operation.progress = {**operation.progress, **poll.progress}
        return f"{operation.attempts}.poll{poll.progress.get('polls', 0)}", poll.delay


async def _succeed(call: Call, result: dict[str, Any], progress: dict[str, Any]) -> None:
    async with unit_of_work() as session:
        operation = await repository.operation_by_id(session, call.operation_id, for_update=True)
        if operation is None:
            return
        _close(operation, MetaOperationStatus.succeeded, None)
        operation.result = result
        operation.progress = {**operation.progress, **progress}
        events = events_of(call.asset.platform)
        if call.kind == MetaOperationKind.send_message and call.message_id is not None:
            message = await threads_repository.message_by_id(
                session, call.message_id, for_update=True
            )
            if message is not None:
                await _adopt_mid(session, message, result["messageId"])
                await session.flush()
                emit(
                    session,
                    events.message_sent,
                    message_out(message, participant_of(message)),
                    account_id=message.account_id,
                    actor=Actor(operation.actor_type, operation.actor_id),
                )
        elif call.kind == MetaOperationKind.reply_comment and call.comment_id is not None:
            comment = await posts_repository.comment_by_id(
                session, call.comment_id, for_update=True
            )
            if comment is not None:
                echo = await posts_repository.comment_by_external(
                    session, comment.asset_id, result["commentId"], for_update=True
                )
                if echo is not None and echo.id != comment.id:
                    # The webhook of our own reply got here first.
                    await session.delete(echo)
                    await session.flush()
                comment.external_id = result["commentId"]
                comment.status = CommentStatus.sent
        elif call.post_id is not None:
            post = await posts_repository.post_by_id(session, call.post_id, for_update=True)
            if post is not None:
                post.external_id = result["postId"]
                post.status = PostStatus.published
                post.published_at = now()
                post.permalink = result.get("permalink") or post.permalink
                await session.flush()
                emit(
                    session,
                    events.post_published,
                    post_out(post),
                    account_id=post.account_id,
                    actor=Actor(operation.actor_type, operation.actor_id),
                )


async def _adopt_mid(session: AsyncSession, message: MetaMessage, mid: str) -> None:
    """Give our row Meta's id; if the echo webhook already stored it as a row, drop that one."""
    if message.mid == mid:
        if message.status == SocialMessageStatus.pending:
            message.status = SocialMessageStatus.sent
        return
    echo = await threads_repository.message_in_thread(
        session, message.thread_id, mid, for_update=True
    )
    if echo is not None and echo.id != message.id:
        message.status = (
            echo.status if echo.status != SocialMessageStatus.pending else SocialMessageStatus.sent
        )
        message.read_at = message.read_at or echo.read_at
        message.delivered_at = message.delivered_at or echo.delivered_at
        await threads_repository.delete_message(session, echo.id)
        await session.flush()
    elif message.status in (SocialMessageStatus.pending, SocialMessageStatus.failed):
        message.status = SocialMessageStatus.sent
    message.mid = mid


# The calls ----------------------------------------------------------------------------------


def _send_payload(call: Call) -> dict[str, Any]:
    request = call.request
    message: dict[str, Any]
    attachment = request.get("attachment")
    if attachment:
        message = {
            "attachment": {
                "type": attachment["type"],
                "payload": {"url": attachment["url"], "is_reusable": True},
            }
        }
    else:
        message = {"text": request["text"]}
    payload: dict[str, Any] = {"recipient": {"id": request["recipientId"]}, "message": message}
    tag = request.get("tag")
    if call.asset.platform == "facebook":
        payload["messaging_type"] = "MESSAGE_TAG" if tag else "RESPONSE"
        # Echoed back in `message_echoes`: lets the echo find our row before the answer does.
        message["metadata"] = f"ticaret:{call.message_id}"
    elif tag:
        payload["messaging_type"] = "MESSAGE_TAG"
    if tag:
        payload["tag"] = tag
    if request.get("replyToMid"):
        payload["reply_to"] = {"mid": request["replyToMid"]}
    return payload


async def _publish_page_post(graph: FacebookGraph, call: Call) -> dict[str, Any]:
    request = call.request
    page_id = call.asset.external_id
    if request.get("photoUrl"):
        photo_id, post_id = await graph.publish_photo(
            page_id, call.token, request["photoUrl"], request.get("message")
        )
        return {"postId": post_id, "photoId": photo_id}
    post_id = await graph.publish_feed(
        page_id, call.token, request.get("message"), request.get("link")
    )
    return {"postId": post_id}


def _form(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


async def _publish_instagram_media(graph: InstagramGraph, call: Call) -> dict[str, Any] | Poll:
    """Container -> status polling -> media_publish, resuming from the saved progress."""
    settings = get_settings().meta
    account = call.asset.external_id
    progress = call.progress
    if not progress.get("containerId"):
        limit = await graph.publishing_limit(account, call.token)
        quota = {"used": limit.used, "total": limit.total, "windowSeconds": limit.window_seconds}
        if limit.total is not None and limit.used >= limit.total:
            await save_progress(call.operation_id, step="limit_reached", quota=quota)
            raise Failed(
                f"the account has published {limit.used} of its {limit.total} posts allowed "
                "in 24 hours (content_publishing_limit)"
            )
        children: list[str] = list(progress.get("childIds") or [])
        for item in call.request.get("children") or []:
            if len(children) >= len(call.request["children"]):
                break
            children.append(await graph.create_container(account, call.token, _form(item)))
            await save_progress(call.operation_id, childIds=children)
        container = dict(call.request["container"])
        if children:
            container["children"] = ",".join(children)
        container_id = await graph.create_container(account, call.token, _form(container))
        progress = await save_progress(
            call.operation_id,
            step="processing",
            containerId=container_id,
            quota=quota,
            polls=0,
        )
    container_id = progress["containerId"]
    if not progress.get("mediaId"):
        status, detail = await graph.container_status(container_id, call.token)
        polls = int(progress.get("polls") or 0) + 1
        if status == "IN_PROGRESS":
            if polls >= settings.publish_max_polls:
                raise Failed(f"the container was still IN_PROGRESS after {polls} checks")
            return Poll(
                timedelta(seconds=settings.publish_poll_seconds),
                {"step": "processing", "containerStatus": status, "polls": polls},
            )
        await save_progress(call.operation_id, containerStatus=status, polls=polls)
        if status in ("ERROR", "EXPIRED"):
            raise Failed(f"the container ended {status}" + (f": {detail}" if detail else ""))
        if status == "PUBLISHED":
            raise Failed("the container was published but its media id was not recorded")
        media_id = await graph.publish_container(account, call.token, container_id)
        progress = await save_progress(call.operation_id, step="published", mediaId=media_id)
    media_id = progress["mediaId"]
    info = await graph.media_info(media_id, call.token)
    permalink = info.get("permalink") if isinstance(info.get("permalink"), str) else None
    return {"postId": media_id, "containerId": container_id, "permalink": permalink}


async def _call(call: Call) -> dict[str, Any] | Poll:
    graph = graph_for(call.asset.platform, get_settings())
    kind = call.kind
    if kind == MetaOperationKind.send_message:
        sent = await graph.send_message(call.asset.external_id, call.token, _send_payload(call))
        return {"messageId": sent.message_id, "recipientId": sent.recipient_id}
    if kind == MetaOperationKind.mark_seen:
        await graph.mark_seen(call.asset.external_id, call.token, call.request["recipientId"])
        return {}
    if kind == MetaOperationKind.reply_comment:
        reply_id = await graph.reply_to_comment(
            call.request["commentId"], call.token, call.request["message"]
        )
        return {"commentId": reply_id}
    if kind == MetaOperationKind.publish_post and isinstance(graph, FacebookGraph):
        return await _publish_page_post(graph, call)
    if kind == MetaOperationKind.publish_media and isinstance(graph, InstagramGraph):
        return await _publish_instagram_media(graph, call)
    raise Failed(f"{kind} is not something a {call.asset.platform} asset does")


async def perform_operation(operation_id: uuid.UUID) -> Performed:
    call = await _claim(operation_id)
    if call is None:
        return Performed("skipped")
    try:
        outcome = await _call(call)
    except Failed as exc:
        await _fail(call, str(exc))
        return Performed("failed")
    except MetaNotConfigured as exc:
        await _fail(call, exc.message)
        return Performed("failed")
    except GraphError as exc:
        if exc.retryable:
            again = await _again(call, exc)
            if again is not None:
                return Performed("retry", again)
        await _fail(call, str(exc), exc)
        return Performed("failed")
    if isinstance(outcome, Poll):
        return Performed("polling", await _poll_later(call, outcome))
    progress: dict[str, Any] = {}
    if call.kind == MetaOperationKind.publish_media:
        progress = {"step": "published", "permalink": outcome.get("permalink")}
    elif call.kind == MetaOperationKind.publish_post:
        progress = {"step": "published"}
    await _succeed(call, outcome, progress)
    return Performed("succeeded")
