"""SQL for posts / media and their comments. Reads are scoped by account and asset."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.ids import new_id
from ticaret.models import MetaAsset, MetaComment, MetaPost, PostStatus


async def posts_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    asset_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[MetaPost]:
    when = func.coalesce(MetaPost.published_at, MetaPost.created_at)
    stmt = select(MetaPost).where(MetaPost.account_id == account_id, MetaPost.asset_id == asset_id)
    if after is not None:
        stmt = stmt.where(tuple_(when, MetaPost.id) < tuple_(literal(after[0]), after[1]))
    stmt = stmt.order_by(when.desc(), MetaPost.id.desc()).limit(limit + 1)
    return list(await session.scalars(stmt))


async def post(
    session: AsyncSession, account_id: uuid.UUID, asset_id: uuid.UUID, post_id: uuid.UUID
) -> MetaPost | None:
    return await session.scalar(
        select(MetaPost).where(
            MetaPost.account_id == account_id,
            MetaPost.asset_id == asset_id,
            MetaPost.id == post_id,
        )
    )


async def post_by_id(
    session: AsyncSession, post_id: uuid.UUID, *, for_update: bool = False
) -> MetaPost | None:
    """By primary key alone: for jobs holding the id of a post we wrote."""
    return await session.get(MetaPost, post_id, with_for_update=for_update)


async def post_for(
    session: AsyncSession, asset: MetaAsset, external_id: str, **known: Any
) -> MetaPost:
    """The asset's post with this Graph id, created when first seen (a comment on a post we
    never synced); what is `known` fills the gaps of an existing row."""
    await session.execute(
        insert(MetaPost)
        .values(
            id=new_id(),
            account_id=asset.account_id,
            asset_id=asset.id,
            platform=asset.platform,
            external_id=external_id,
            status=PostStatus.published,
            **known,
        )
        .on_conflict_do_nothing(
            index_elements=["asset_id", "external_id"],
            index_where=MetaPost.external_id.is_not(None),
        )
    )
    found = await session.scalar(
        select(MetaPost)
        .where(MetaPost.asset_id == asset.id, MetaPost.external_id == external_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert found is not None
    for key, value in known.items():
        if value is not None:
            setattr(found, key, value)
    return found


def add_post(session: AsyncSession, **values: Any) -> MetaPost:
    row = MetaPost(**values)
    session.add(row)
    return row


async def comments_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    post_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[MetaComment]:
    stmt = select(MetaComment).where(
        MetaComment.account_id == account_id, MetaComment.post_id == post_id
    )
    if after is not None:
        stmt = stmt.where(
            tuple_(MetaComment.source_timestamp, MetaComment.id)
            < tuple_(literal(after[0]), after[1])
        )
    stmt = stmt.order_by(MetaComment.source_timestamp.desc(), MetaComment.id.desc())
    return list(await session.scalars(stmt.limit(limit + 1)))


async def comment(
    session: AsyncSession, account_id: uuid.UUID, asset_id: uuid.UUID, comment_id: uuid.UUID
) -> MetaComment | None:
    return await session.scalar(
        select(MetaComment).where(
            MetaComment.account_id == account_id,
            MetaComment.asset_id == asset_id,
            MetaComment.id == comment_id,
        )
    )


async def comment_by_id(
    session: AsyncSession, comment_id: uuid.UUID, *, for_update: bool = False
) -> MetaComment | None:
    """By primary key alone: for jobs holding the id of a comment we wrote."""
    return await session.get(MetaComment, comment_id, with_for_update=for_update)


async def comment_by_external(
    session: AsyncSession, asset_id: uuid.UUID, external_id: str, *, for_update: bool = False
) -> MetaComment | None:
    stmt = select(MetaComment).where(
        MetaComment.asset_id == asset_id, MetaComment.external_id == external_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def insert_comment(session: AsyncSession, values: dict[str, Any]) -> MetaComment | None:
    """Insert unless the asset has this comment id already; None then."""
    new = await session.scalar(
        insert(MetaComment)
        .values(id=new_id(), **values)
        .on_conflict_do_nothing(
            index_elements=["asset_id", "external_id"],
            index_where=MetaComment.external_id.is_not(None),
        )
        .returning(MetaComment.id)
    )
    if new is None:
        return None
    return await session.get(MetaComment, new)


def add_comment(session: AsyncSession, **values: Any) -> MetaComment:
    row = MetaComment(**values)
    session.add(row)
    return row


async def count_comments(session: AsyncSession, post_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(MetaComment).where(MetaComment.post_id == post_id)
        )
        or 0
    )
