"""Page posts and Instagram media: lists, publishing (a job), comments and replies (a job)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.core.ids import new_id
from ticaret.core.ssrf import url_refusal
from ticaret.models import (
    AssetFeature,
    CommentKind,
    CommentStatus,
    MetaAsset,
    MetaOperationKind,
    MetaOperationStatus,
    MetaPost,
    PostStatus,
)
from ticaret.social.errors import CommentNotFound, PostNotFound, UnsafeMediaUrl
from ticaret.social.repository import operations as operations_repository
from ticaret.social.repository import posts as repository
from ticaret.social.schemas import (
    CommentOut,
    PostOut,
    PublishFeed,
    PublishPost,
    PublishReel,
    PublishResult,
    PublishStory,
    ReplyResult,
    ReplyToComment,
)
from ticaret.social.service.common import asset_or_404, now, require_usable
from ticaret.social.service.messages import time_cursor
from ticaret.social.tasks import queue_operation
from ticaret.social.views import comment_out, operation_out, post_out

MediaKind = Literal["feed", "reels", "stories"]


def _check_urls(*urls: tuple[str, str | None]) -> None:
    """Meta downloads these, not us; still refuse what is not a plain public http(s) URL."""
    for path, url in urls:
        if url is None:
            continue
        reason = url_refusal(url)
        if reason is not None:
            raise UnsafeMediaUrl(details={"fields": [{"path": path, "message": reason}]})


async def list_posts(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    page: PageParams,
) -> Page[PostOut]:
    asset = await asset_or_404(session, ctx, platform, asset_id)
    rows = await repository.posts_page(
        session, ctx.account_id, asset.id, time_cursor(page.cursor), page.limit
    )
    kept, cursor, more = build_page(
        rows, page.limit, lambda p: [p.published_at or p.created_at, p.id]
    )
    return Page[PostOut](rows=[post_out(p) for p in kept], next_cursor=cursor, has_more=more)


async def _publish(
    session: AsyncSession,
    ctx: AccountContext,
    asset: MetaAsset,
    kind: MetaOperationKind,
    request: dict[str, Any],
    post_values: dict[str, Any],
) -> PublishResult:
    post = repository.add_post(
        session,
        id=new_id(),
        account_id=ctx.account_id,
        asset_id=asset.id,
        platform=asset.platform,
        status=PostStatus.publishing,
        **post_values,
    )
    # No ORM relationship orders the two inserts: the operation's foreign key needs the post.
    await session.flush()
    operation = operations_repository.add_operation(
        session,
        account_id=ctx.account_id,
        asset_id=asset.id,
        kind=kind,
        status=MetaOperationStatus.queued,
        attempts=0,
        request=request,
        progress={"step": "queued"},
        post_id=post.id,
        actor_type=ctx.actor.type,
        actor_id=ctx.actor.id,
    )
    await session.flush()
    queue_operation(session, operation)
    return PublishResult(post=post_out(post), operation=operation_out(operation))


async def publish_page_post(
    session: AsyncSession, ctx: AccountContext, asset_id: uuid.UUID, body: PublishPost
) -> PublishResult:
    asset = await asset_or_404(session, ctx, "facebook", asset_id)
    require_usable(asset, AssetFeature.publishing)
    _check_urls(("link", body.link), ("photoUrl", body.photo_url))
    media_type = "photo" if body.photo_url else "link" if body.link else "status"
    return await _publish(
        session,
        ctx,
        asset,
        MetaOperationKind.publish_post,
        {"message": body.message, "link": body.link, "photoUrl": body.photo_url},
        {
            "media_type": media_type,
            "text": body.message,
            "link": body.link,
            "media_url": body.photo_url,
        },
    )


def _container_request(
    kind: MediaKind, body: PublishFeed | PublishReel | PublishStory
) -> dict[str, Any]:
    """What the job sends to `POST /{ig-user-id}/media`, as Meta names the parameters."""
    if isinstance(body, PublishFeed):
        if body.children:
            children = [
                {"image_url": c.image_url, "is_carousel_item": True}
                if c.image_url
                else {"video_url": c.video_url, "media_type": "VIDEO", "is_carousel_item": True}
                for c in body.children
            ]
            return {
                "container": {"media_type": "CAROUSEL", "caption": body.caption},
                "children": children,
            }
        return {"container": {"image_url": body.image_url, "caption": body.caption}}
    if isinstance(body, PublishReel):
        return {
            "container": {
                "media_type": "REELS",
                "video_url": body.video_url,
                "caption": body.caption,
                "share_to_feed": body.share_to_feed,
                "cover_url": body.cover_url,
            }
        }
    story: dict[str, Any] = {"media_type": "STORIES"}
    if body.image_url:
        story["image_url"] = body.image_url
    else:
        story["video_url"] = body.video_url
    return {"container": story}


async def publish_instagram_media(
    session: AsyncSession,
    ctx: AccountContext,
    asset_id: uuid.UUID,
    kind: MediaKind,
    body: PublishFeed | PublishReel | PublishStory,
) -> PublishResult:
    asset = await asset_or_404(session, ctx, "instagram", asset_id)
    require_usable(asset, AssetFeature.publishing)
    urls: list[tuple[str, str | None]] = []
    for name in ("image_url", "video_url", "cover_url"):
        urls.append((name, getattr(body, name, None)))
    for index, child in enumerate(getattr(body, "children", None) or []):
        urls.append((f"children.{index}", child.image_url or child.video_url))
    _check_urls(*urls)
    request = {"kind": kind, **_container_request(kind, body)}
    container = request["container"]
    media_type = {
        "feed": "CAROUSEL_ALBUM" if "children" in request else "IMAGE",
        "reels": "VIDEO",
        "stories": "VIDEO" if container.get("video_url") else "IMAGE",
    }[kind]
    return await _publish(
        session,
        ctx,
        asset,
        MetaOperationKind.publish_media,
        request,
        {
            "media_type": media_type,
            "product_type": {"feed": "FEED", "reels": "REELS", "stories": "STORY"}[kind],
            "text": container.get("caption"),
            "media_url": container.get("image_url") or container.get("video_url"),
        },
    )


async def _post_or_404(
    session: AsyncSession, ctx: AccountContext, asset: MetaAsset, post_id: uuid.UUID
) -> MetaPost:
    post = await repository.post(session, ctx.account_id, asset.id, post_id)
    if post is None:
        raise PostNotFound()
    return post


async def list_comments(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    post_id: uuid.UUID,
    page: PageParams,
) -> Page[CommentOut]:
    asset = await asset_or_404(session, ctx, platform, asset_id)
    post = await _post_or_404(session, ctx, asset, post_id)
    rows = await repository.comments_page(
        session, ctx.account_id, post.id, time_cursor(page.cursor), page.limit
    )
    kept, cursor, more = build_page(rows, page.limit, lambda c: [c.source_timestamp, c.id])
    return Page[CommentOut](rows=[comment_out(c) for c in kept], next_cursor=cursor, has_more=more)


async def reply_to_comment(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    comment_id: uuid.UUID,
    body: ReplyToComment,
) -> ReplyResult:
    asset = await asset_or_404(session, ctx, platform, asset_id)
    require_usable(asset, AssetFeature.comments)
    parent = await repository.comment(session, ctx.account_id, asset.id, comment_id)
    if parent is None or parent.external_id is None or parent.kind != CommentKind.comment:
        # Our own reply still being sent, or a mention on someone else's media: nothing
        # Meta lets us answer (yet).
        raise CommentNotFound()
    reply = repository.add_comment(
        session,
        id=new_id(),
        account_id=ctx.account_id,
        asset_id=asset.id,
        post_id=parent.post_id,
        post_external_id=parent.post_external_id,
        platform=platform,
        kind=CommentKind.comment,
        parent_external_id=parent.external_id,
        from_id=asset.external_id,
        from_name=asset.name,
        from_username=asset.username,
        from_me=True,
        text=body.message,
        status=CommentStatus.pending,
        source_timestamp=now(),
    )
    await session.flush()  # the operation's foreign key needs the comment
    operation = operations_repository.add_operation(
        session,
        account_id=ctx.account_id,
        asset_id=asset.id,
        kind=MetaOperationKind.reply_comment,
        status=MetaOperationStatus.queued,
        attempts=0,
        request={"commentId": parent.external_id, "message": body.message},
        progress={},
        comment_id=reply.id,
        actor_type=ctx.actor.type,
        actor_id=ctx.actor.id,
    )
    await session.flush()
    queue_operation(session, operation)
    return ReplyResult(
        comment=comment_out(reply),
        operation=operation_out(operation),
    )
