"""DM threads: list, messages, send, mark read."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import JSONResponse

from ticaret.core.auth import client_ip
from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.idempotency import Idempotent
from ticaret.core.openapi import error_responses
from ticaret.social.router.flavor import Flavor
from ticaret.social.schemas import MessageOut, ReadResult, SendMessage, SendResult, ThreadOut
from ticaret.social.service import messages as service


def add_routes(router: APIRouter, f: Flavor) -> None:
    asset_id_param = Path(alias=f.asset_param, description=f"The {f.asset_word}'s id (ours).")
    thread_id_param = Path(alias="threadId")
    what = "Meta" if f.platform == "facebook" else "Instagram"

    async def list_threads(
        ctx: Viewer,
        session: DbSession,
        page: Paging,
        unread: Annotated[bool, Query(description="Only threads with unread messages")] = False,
        asset_id: uuid.UUID = asset_id_param,
    ) -> Envelope[Page[ThreadOut]]:
        return ok(
            await service.list_threads(session, ctx, f.platform, asset_id, page, unread_only=unread)
        )

    router.add_api_route(
        f"{f.asset_path}/threads",
        list_threads,
        methods=["GET"],
        summary="List DM threads, latest activity first",
        description=f"{what} DM thread listesini getirir.",
        response_model=Envelope[Page[ThreadOut]],
        responses=error_responses(400, 401, 403, 404, 422),
        tags=[f.tag],
        name=f"{f.platform}_list_threads",
    )

    async def list_messages(
        ctx: Viewer,
        session: DbSession,
        page: Paging,
        asset_id: uuid.UUID = asset_id_param,
        thread_id: uuid.UUID = thread_id_param,
    ) -> Envelope[Page[MessageOut]]:
        return ok(await service.list_messages(session, ctx, f.platform, asset_id, thread_id, page))

    router.add_api_route(
        f"{f.asset_path}/threads/{{threadId}}/messages",
        list_messages,
        methods=["GET"],
        summary="List a thread's messages, newest first",
        description=f"{what} thread mesajlarini getirir.",
        response_model=Envelope[Page[MessageOut]],
        responses=error_responses(400, 401, 403, 404, 422),
        tags=[f.tag],
        name=f"{f.platform}_list_messages",
    )

    async def send_message(
        body: SendMessage,
        ctx: Agent,
        session: DbSession,
        request: Request,
        idempotency: Idempotent,
        asset_id: uuid.UUID = asset_id_param,
        thread_id: uuid.UUID = thread_id_param,
    ) -> Envelope[SendResult] | JSONResponse:
        meta = service.RequestMeta(client_ip(request), request.headers.get("user-agent"))

        async def perform() -> Envelope[SendResult]:
            return ok(
                await service.send_message(
                    session, ctx, f.platform, asset_id, thread_id, body, meta
                )
            )

        return await idempotency.run(
            session, ctx.account_id, perform, status_code=status.HTTP_202_ACCEPTED
        )

    router.add_api_route(
        f"{f.asset_path}/threads/{{threadId}}/messages",
        send_message,
        methods=["POST"],
        status_code=status.HTTP_202_ACCEPTED,
        summary="Send a message (text, or an image / file by URL; optionally as a reply)",
        description=f"{what} thread icinde mesaj gonderir. Stored at once (`pending`) with its "
        "operation and sent by a job (retried on 5xx and rate limits, not on other refusals). "
        "Outside Meta's 24-hour window: 409 `outside_messaging_window`, unless `tag` is "
        "`HUMAN_AGENT` (a person answering, within 7 days).",
        response_model=Envelope[SendResult],
        responses=error_responses(400, 401, 403, 404, 409, 422),
        tags=[f.tag],
        name=f"{f.platform}_send_message",
    )

    async def mark_read(
        ctx: Agent,
        session: DbSession,
        asset_id: uuid.UUID = asset_id_param,
        thread_id: uuid.UUID = thread_id_param,
    ) -> Envelope[ReadResult]:
        return ok(await service.mark_read(session, ctx, f.platform, asset_id, thread_id))

    router.add_api_route(
        f"{f.asset_path}/threads/{{threadId}}/read",
        mark_read,
        methods=["POST"],
        summary="Mark a thread read (here, and `mark_seen` on Meta)",
        description=f"{what} thread okunmus isaretler.",
        response_model=Envelope[ReadResult],
        responses=error_responses(401, 403, 404, 422),
        tags=[f.tag],
        name=f"{f.platform}_mark_read",
    )
