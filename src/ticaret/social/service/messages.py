"""DM threads: lists, sending (stored at once, sent by a job), marking read.

Meta's standard messaging window is 24 hours after the person's last message; after that a
person at the business may still answer for 7 days with the `HUMAN_AGENT` tag. The window is
checked here, before anything is stored or sent, so a client learns it at once (409) instead of
from a failed operation later.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, decode_cursor
from ticaret.core.errors import InvalidCursor
from ticaret.core.ids import new_id
from ticaret.crm.service import identities as crm_identities
from ticaret.models import (
    AssetFeature,
    AssetStatus,
    MetaAsset,
    MetaOperationKind,
    MetaOperationStatus,
    MetaThread,
    SocialMessageStatus,
)
from ticaret.social.errors import MessageNotFound, OutsideMessagingWindow, ThreadNotFound
from ticaret.social.repository import operations as operations_repository
from ticaret.social.repository import threads as repository
from ticaret.social.schemas import MessageOut, ReadResult, SendMessage, SendResult, ThreadOut
from ticaret.social.service.common import asset_or_404, now, require_usable
from ticaret.social.tasks import queue_operation
from ticaret.social.views import (
    message_out,
    operation_out,
    preview_of,
    thread_out,
    window_open,
)


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None
    user_agent: str | None


def time_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    raw_time, raw_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(raw_time), uuid.UUID(raw_id)
    except ValueError as exc:
        raise InvalidCursor() from exc


async def thread_or_404(
    session: AsyncSession,
    ctx: AccountContext,
    asset: MetaAsset,
    thread_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> MetaThread:
    thread = await repository.thread(
        session, ctx.account_id, asset.id, thread_id, for_update=for_update
    )
    if thread is None:
        raise ThreadNotFound()
    return thread


async def list_threads(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    page: PageParams,
    *,
    unread_only: bool,
) -> Page[ThreadOut]:
    asset = await asset_or_404(session, ctx, platform, asset_id)
    rows = await repository.threads_page(
        session,
        ctx.account_id,
        asset.id,
        time_cursor(page.cursor),
        page.limit,
        unread_only=unread_only,
    )
    kept, cursor, more = build_page(
        rows, page.limit, lambda t: [t.last_message_at or repository.EPOCH, t.id]
    )
    links = await crm_identities.links_for_threads(session, ctx.account_id, asset, kept)
    return Page[ThreadOut](
        rows=[thread_out(t, links.get(t.id)) for t in kept], next_cursor=cursor, has_more=more
    )


async def list_messages(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    thread_id: uuid.UUID,
    page: PageParams,
) -> Page[MessageOut]:
    asset = await asset_or_404(session, ctx, platform, asset_id)
    thread = await thread_or_404(session, ctx, asset, thread_id)
    rows = await repository.messages_page(session, thread.id, time_cursor(page.cursor), page.limit)
    kept, cursor, more = build_page(rows, page.limit, lambda m: [m.source_timestamp, m.id])
    return Page[MessageOut](
        rows=[message_out(m, thread.participant_id) for m in kept],
        next_cursor=cursor,
        has_more=more,
    )


def _origin(ctx: AccountContext, operation_id: uuid.UUID, meta: RequestMeta) -> dict[str, Any]:
    principal = ctx.principal
    api_account = principal.api_account
    return {
        "source": "api" if api_account is not None else "user",
        "actorType": ctx.actor.type,
        "actorId": ctx.actor.id,
        "apiAccountId": str(api_account.id) if api_account is not None else None,
        "userId": str(principal.user_id) if principal.user_id is not None else None,
        "operationId": str(operation_id),
        "ip": meta.ip,
        "userAgent": (meta.user_agent or "")[:300] or None,
    }


async def send_message(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    thread_id: uuid.UUID,
    body: SendMessage,
    meta: RequestMeta,
) -> SendResult:
    asset = await asset_or_404(session, ctx, platform, asset_id)
    require_usable(asset, AssetFeature.messaging)
    thread = await thread_or_404(session, ctx, asset, thread_id, for_update=True)
    moment = now()
    tagged = body.tag is not None
    if not window_open(thread.last_customer_message_at, moment, tagged):
        raise OutsideMessagingWindow(
            details={
                "lastCustomerMessageAt": thread.last_customer_message_at.isoformat()
                if thread.last_customer_message_at
                else None,
                "tagged": tagged,
            }
        )
    if body.reply_to_mid is not None and (
        await repository.message_in_thread(session, thread.id, body.reply_to_mid) is None
    ):
        raise MessageNotFound()
    operation_id = new_id()
    message_id = new_id()
    attachments = [body.attachment.model_dump()] if body.attachment else []
    message_type = body.attachment.type if body.attachment else "text"
    message = repository.add_message(
        session,
        id=message_id,
        account_id=ctx.account_id,
        asset_id=asset.id,
        thread_id=thread.id,
        platform=platform,
        mid=f"local:{message_id}",
        from_me=True,
        sender_id=asset.external_id,
        recipient_id=thread.participant_id,
        type=message_type,
        text=body.text,
        attachments=attachments,
        reply_to_mid=body.reply_to_mid,
        reactions={},
        status=SocialMessageStatus.pending,
        tag=body.tag,
        origin=_origin(ctx, operation_id, meta),
        deleted=False,
        source_timestamp=moment,
    )
    # No ORM relationship orders the two inserts: the operation's foreign key needs the message.
    await session.flush()
    operation = operations_repository.add_operation(
        session,
        id=operation_id,
        account_id=ctx.account_id,
        asset_id=asset.id,
        kind=MetaOperationKind.send_message,
        status=MetaOperationStatus.queued,
        attempts=0,
        request={
            "recipientId": thread.participant_id,
            "text": body.text,
            "attachment": body.attachment.model_dump() if body.attachment else None,
            "replyToMid": body.reply_to_mid,
            "tag": body.tag,
        },
        progress={},
        message_id=message_id,
        actor_type=ctx.actor.type,
        actor_id=ctx.actor.id,
    )
    thread.last_message_at = moment
    thread.last_message_preview = preview_of(message_type, body.text)
    thread.last_message_from_me = True
    await session.flush()
    queue_operation(session, operation)
    return SendResult(
        message=message_out(message, thread.participant_id), operation=operation_out(operation)
    )


async def mark_read(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    thread_id: uuid.UUID,
) -> ReadResult:
    """Read here, and `mark_seen` on Meta (a job) when there was something unread."""
    asset = await asset_or_404(session, ctx, platform, asset_id)
    thread = await thread_or_404(session, ctx, asset, thread_id, for_update=True)
    changed = await repository.unread_incoming(session, thread.id, now())
    had_unread = thread.unread_count > 0 or bool(changed)
    thread.unread_count = 0
    operation = None
    if (
        had_unread
        and asset.status == AssetStatus.active
        and asset.token_encrypted is not None
        and AssetFeature.messaging.value in asset.features
    ):
        operation = operations_repository.add_operation(
            session,
            account_id=ctx.account_id,
            asset_id=asset.id,
            kind=MetaOperationKind.mark_seen,
            status=MetaOperationStatus.queued,
            attempts=0,
            request={"recipientId": thread.participant_id},
            progress={},
            actor_type=ctx.actor.type,
            actor_id=ctx.actor.id,
        )
    await session.flush()
    if operation is not None:
        queue_operation(session, operation)
    links = await crm_identities.links_for_threads(session, ctx.account_id, asset, [thread])
    return ReadResult(
        thread=thread_out(thread, links.get(thread.id)),
        operation=operation_out(operation) if operation else None,
    )
