"""Comments on posts / media, and replies to them."""

import uuid

from fastapi import APIRouter, Path, status
from fastapi.responses import JSONResponse

from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.idempotency import Idempotent
from ticaret.core.openapi import error_responses
from ticaret.social.router.flavor import Flavor
from ticaret.social.schemas import CommentOut, ReplyResult, ReplyToComment
from ticaret.social.service import posts as service


def add_routes(router: APIRouter, f: Flavor) -> None:
    asset_id_param = Path(alias=f.asset_param, description=f"The {f.asset_word}'s id (ours).")
    post_param = "postId" if f.platform == "facebook" else "mediaId"
    what = "Meta" if f.platform == "facebook" else "Instagram"

    async def list_comments(
        ctx: Viewer,
        session: DbSession,
        page: Paging,
        asset_id: uuid.UUID = asset_id_param,
        post_id: uuid.UUID = Path(alias=post_param, description=f"The {f.post_word}'s id (ours)."),
    ) -> Envelope[Page[CommentOut]]:
        return ok(await service.list_comments(session, ctx, f.platform, asset_id, post_id, page))

    router.add_api_route(
        f"{f.asset_path}{f.posts_path}/{{{post_param}}}/comments",
        list_comments,
        methods=["GET"],
        summary=f"List the comments and replies on a {f.post_word}, newest first",
        description=(
            "Meta post yorumlarini getirir."
            if f.platform == "facebook"
            else "Instagram media yorumlarini getirir."
        ),
        response_model=Envelope[Page[CommentOut]],
        responses=error_responses(400, 401, 403, 404, 422),
        tags=[f.tag],
        name=f"{f.platform}_list_comments",
    )

    async def reply(
        body: ReplyToComment,
        ctx: Agent,
        session: DbSession,
        idempotency: Idempotent,
        asset_id: uuid.UUID = asset_id_param,
        comment_id: uuid.UUID = Path(alias="commentId", description="The comment's id (ours)."),
    ) -> Envelope[ReplyResult] | JSONResponse:
        async def perform() -> Envelope[ReplyResult]:
            return ok(
                await service.reply_to_comment(session, ctx, f.platform, asset_id, comment_id, body)
            )

        return await idempotency.run(
            session, ctx.account_id, perform, status_code=status.HTTP_202_ACCEPTED
        )

    router.add_api_route(
        f"{f.asset_path}/comments/{{commentId}}/replies",
        reply,
        methods=["POST"],
        status_code=status.HTTP_202_ACCEPTED,
        summary="Reply to a comment publicly (stored at once, sent by a job)",
        description=f"{what} yoruma cevap verir.",
        response_model=Envelope[ReplyResult],
        responses=error_responses(400, 401, 403, 404, 409, 422),
        tags=[f.tag],
        name=f"{f.platform}_reply_to_comment",
    )
