"""Page posts and Instagram media: list and publish."""

import uuid

from fastapi import APIRouter, Path, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.db import DbSession
from ticaret.core.deps import Admin, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.idempotency import Idempotency, Idempotent
from ticaret.core.openapi import error_responses
from ticaret.social.router.flavor import Flavor
from ticaret.social.schemas import (
    PostOut,
    PublishFeed,
    PublishPost,
    PublishReel,
    PublishResult,
    PublishStory,
)
from ticaret.social.service import posts as service
from ticaret.social.service.posts import MediaKind

PUBLISH_NOTE = (
    " Publishing is a job: the response holds the post (`publishing`) and its operation; the "
    "operation's `progress` and the post's `externalId` show the outcome."
)


def add_routes(router: APIRouter, f: Flavor) -> None:
    asset_id_param = Path(alias=f.asset_param, description=f"The {f.asset_word}'s id (ours).")

    async def list_posts(
        ctx: Viewer, session: DbSession, page: Paging, asset_id: uuid.UUID = asset_id_param
    ) -> Envelope[Page[PostOut]]:
        return ok(await service.list_posts(session, ctx, f.platform, asset_id, page))

    router.add_api_route(
        f"{f.asset_path}{f.posts_path}",
        list_posts,
        methods=["GET"],
        summary=f"List the {f.asset_word}'s {f.post_word} (synced, published here, commented)",
        description=(
            "Meta post listesini getirir."
            if f.platform == "facebook"
            else "Instagram media listesini getirir."
        ),
        response_model=Envelope[Page[PostOut]],
        responses=error_responses(400, 401, 403, 404, 422),
        tags=[f.tag],
        name=f"{f.platform}_list_posts",
    )

    if f.platform == "facebook":

        async def publish_post(
            body: PublishPost,
            ctx: Admin,
            session: DbSession,
            idempotency: Idempotent,
            asset_id: uuid.UUID = asset_id_param,
        ) -> Envelope[PublishResult] | JSONResponse:
            async def perform() -> Envelope[PublishResult]:
                return ok(await service.publish_page_post(session, ctx, asset_id, body))

            return await idempotency.run(
                session, ctx.account_id, perform, status_code=status.HTTP_202_ACCEPTED
            )

        router.add_api_route(
            f"{f.asset_path}{f.posts_path}",
            publish_post,
            methods=["POST"],
            status_code=status.HTTP_202_ACCEPTED,
            summary="Publish a Page post: text, a link, or a photo by URL",
            description="Meta asset uzerinden post yayinlar." + PUBLISH_NOTE,
            response_model=Envelope[PublishResult],
            responses=error_responses(400, 401, 403, 404, 409, 422),
            tags=[f.tag],
            name="facebook_publish_post",
        )
        return

    async def publish_feed(
        body: PublishFeed,
        ctx: Admin,
        session: DbSession,
        idempotency: Idempotent,
        asset_id: uuid.UUID = asset_id_param,
    ) -> Envelope[PublishResult] | JSONResponse:
        return await _publish_media(session, ctx, idempotency, asset_id, "feed", body)

    async def publish_reel(
        body: PublishReel,
        ctx: Admin,
        session: DbSession,
        idempotency: Idempotent,
        asset_id: uuid.UUID = asset_id_param,
    ) -> Envelope[PublishResult] | JSONResponse:
        return await _publish_media(session, ctx, idempotency, asset_id, "reels", body)

    async def publish_story(
        body: PublishStory,
        ctx: Admin,
        session: DbSession,
        idempotency: Idempotent,
        asset_id: uuid.UUID = asset_id_param,
    ) -> Envelope[PublishResult] | JSONResponse:
        return await _publish_media(session, ctx, idempotency, asset_id, "stories", body)

    for kind, endpoint, summary, description in (
        ("feed", publish_feed, "a feed post (an image or a carousel)", "Instagram feed media"),
        ("reels", publish_reel, "a Reel", "Instagram Reels"),
        ("stories", publish_story, "a Story", "Instagram Story"),
    ):
        router.add_api_route(
            f"{f.asset_path}{f.posts_path}/{kind}",
            endpoint,
            methods=["POST"],
            status_code=status.HTTP_202_ACCEPTED,
            summary=f"Publish {summary}: container, status polling, media_publish",
            description=f"{description} publish eder."
            + PUBLISH_NOTE
            + " The account's `content_publishing_limit` is checked first.",
            response_model=Envelope[PublishResult],
            responses=error_responses(400, 401, 403, 404, 409, 422),
            tags=[f.tag],
            name=f"instagram_publish_{kind}",
        )


async def _publish_media(
    session: AsyncSession,
    ctx: AccountContext,
    idempotency: Idempotency,
    asset_id: uuid.UUID,
    kind: MediaKind,
    body: PublishFeed | PublishReel | PublishStory,
) -> Envelope[PublishResult] | JSONResponse:
    async def perform() -> Envelope[PublishResult]:
        return ok(await service.publish_instagram_media(session, ctx, asset_id, kind, body))

    return await idempotency.run(
        session, ctx.account_id, perform, status_code=status.HTTP_202_ACCEPTED
    )
