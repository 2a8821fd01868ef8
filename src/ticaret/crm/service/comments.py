"""Comments on customers and tasks, with `@mentions` of users: stored as user ids, each
mentioned user gets a `crm.comment.mentioned` event."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.core.events import emit
from ticaret.core.versioning import check_version
from ticaret.crm.errors import CommentNotFound, InvalidMention, NotTheAuthor, field_error
from ticaret.crm.events import (
    COMMENT_CREATED,
    COMMENT_DELETED,
    COMMENT_MENTIONED,
    COMMENT_UPDATED,
    CommentChanged,
    CommentDeleted,
    CommentMentioned,
)
from ticaret.crm.repository import comments as repository
from ticaret.crm.repository import members as members_repo
from ticaret.crm.schemas.comments import CommentCreate, CommentOut, CommentUpdate
from ticaret.crm.service.common import actor_out
from ticaret.crm.service.customers import customer_or_404
from ticaret.crm.service.tasks import task_or_404
from ticaret.models import CrmComment, Role

# `<@6f1c...>`: how a client writes a mention into the text.
MENTION_TOKEN = re.compile(
    r"<@([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})>"
)


def comment_out(comment: CrmComment) -> CommentOut:
    return from_row(CommentOut, comment, author=actor_out(comment.author_type, comment.author_id))


async def _mentions(
    session: AsyncSession, account_id: uuid.UUID, body: str, listed: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    ids = list(dict.fromkeys([*listed, *(uuid.UUID(m) for m in MENTION_TOKEN.findall(body))]))
    found = await members_repo.members(session, account_id, ids)
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise InvalidMention(
            f"Not members of this account: {', '.join(missing)}.",
            details=field_error("mentions", "mentions must name members of this account"),
        )
    return ids


def _announce(
    session: AsyncSession, ctx: AccountContext, comment: CrmComment, users: Sequence[uuid.UUID]
) -> None:
    author = actor_out(comment.author_type, comment.author_id)
    for user_id in users:
        emit(
            session,
            COMMENT_MENTIONED,
            CommentMentioned(
                comment_id=comment.id,
                customer_id=comment.customer_id,
                task_id=comment.task_id,
                mentioned_user_id=user_id,
                author=author,
                body=comment.body,
            ),
            account_id=ctx.account_id,
            actor=ctx.actor,
        )


async def _create(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID,
    task_id: uuid.UUID | None,
    body: CommentCreate,
) -> CommentOut:
    mentions = await _mentions(session, ctx.account_id, body.body, body.mentions)
    comment = CrmComment(
        account_id=ctx.account_id,
        customer_id=customer_id,
        task_id=task_id,
        body=body.body,
        mentions=mentions,
        author_type=ctx.actor.type,
        author_id=ctx.actor.id,
    )
    session.add(comment)
    await session.flush()
    out = comment_out(comment)
    emit(
        session,
        COMMENT_CREATED,
        CommentChanged(comment=out),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    _announce(session, ctx, comment, mentions)
    return out


async def create_customer_comment(
    session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID, body: CommentCreate
) -> CommentOut:
    customer = await customer_or_404(session, ctx.account_id, customer_id)
    return await _create(session, ctx, customer.id, None, body)


async def create_task_comment(
    session: AsyncSession, ctx: AccountContext, task_id: uuid.UUID, body: CommentCreate
) -> CommentOut:
    task = await task_or_404(session, ctx.account_id, task_id)
    return await _create(session, ctx, task.customer_id, task.id, body)


async def list_customer_comments(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID,
    page: PageParams,
    include_tasks: bool,
) -> Page[CommentOut]:
    await customer_or_404(session, ctx.account_id, customer_id)
    rows = await repository.comments_page(
        session,
        ctx.account_id,
        customer_id=customer_id,
        customer_only=not include_tasks,
        before=page.after_time_and_id(),
        limit=page.limit,
    )
    kept, cursor, more = build_page(rows, page.limit, lambda c: [c.created_at, c.id])
    return Page[CommentOut](rows=[comment_out(c) for c in kept], next_cursor=cursor, has_more=more)


async def list_task_comments(
    session: AsyncSession, ctx: AccountContext, task_id: uuid.UUID, page: PageParams
) -> Page[CommentOut]:
    await task_or_404(session, ctx.account_id, task_id)
    rows = await repository.comments_page(
        session,
        ctx.account_id,
        task_id=task_id,
        before=page.after_time_and_id(),
        limit=page.limit,
    )
    kept, cursor, more = build_page(rows, page.limit, lambda c: [c.created_at, c.id])
    return Page[CommentOut](rows=[comment_out(c) for c in kept], next_cursor=cursor, has_more=more)


async def _comment_or_404(
    session: AsyncSession, ctx: AccountContext, comment_id: uuid.UUID, *, for_update: bool = False
) -> CrmComment:
    comment = await repository.comment(session, ctx.account_id, comment_id, for_update=for_update)
    if comment is None:
        raise CommentNotFound()
    return comment


def _require_author(ctx: AccountContext, comment: CrmComment) -> None:
    mine = comment.author_type == ctx.actor.type and comment.author_id == ctx.actor.id
    if not mine and not ctx.role.at_least(Role.admin):
        raise NotTheAuthor()


async def get_comment(
    session: AsyncSession, ctx: AccountContext, comment_id: uuid.UUID
) -> CommentOut:
    return comment_out(await _comment_or_404(session, ctx, comment_id))


async def update_comment(
    session: AsyncSession,
    ctx: AccountContext,
    comment_id: uuid.UUID,
    body: CommentUpdate,
    expected_version: str | None,
) -> CommentOut:
    comment = await _comment_or_404(session, ctx, comment_id, for_update=True)
    check_version(comment, expected_version)
    _require_author(ctx, comment)
    text = body.body if body.body is not None else comment.body
    listed = body.mentions if body.mentions is not None else list(comment.mentions)
    if body.body is not None and body.mentions is None:
        # Tokens removed from the text stop mentioning; listed ids without a token stay.
        old_tokens = {uuid.UUID(m) for m in MENTION_TOKEN.findall(comment.body)}
        listed = [m for m in listed if m not in old_tokens]
    mentions = await _mentions(session, ctx.account_id, text, listed)
    if text == comment.body and mentions == list(comment.mentions):
        return comment_out(comment)
    added = [m for m in mentions if m not in comment.mentions]
    comment.body = text
    comment.mentions = mentions
    await session.flush()
    out = comment_out(comment)
    emit(
        session,
        COMMENT_UPDATED,
        CommentChanged(comment=out),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    _announce(session, ctx, comment, added)
    return out


async def delete_comment(session: AsyncSession, ctx: AccountContext, comment_id: uuid.UUID) -> None:
    comment = await _comment_or_404(session, ctx, comment_id, for_update=True)
    _require_author(ctx, comment)
    comment.deleted_at = datetime.now(UTC)
    await session.flush()
    emit(
        session,
        COMMENT_DELETED,
        CommentDeleted(
            comment_id=comment.id, customer_id=comment.customer_id, task_id=comment.task_id
        ),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
