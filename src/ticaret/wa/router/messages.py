"""`/wa/chats/{remoteJid}/messages`: the timeline, message actions (JSON or an uploaded file),
and media streamed from the gateway."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, File, Form, Header, Query, Request, UploadFile, status
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ticaret.core.auth import AccountContext, account_from, client_ip
from ticaret.core.body_limit import declare_body_limit
from ticaret.core.db import DbSession, ReadSession
from ticaret.core.deps import Agent, Paging
from ticaret.core.envelope import Envelope, Page, ok, ok_json
from ticaret.core.fastlane import fast_get, plain_page
from ticaret.core.idempotency import Idempotency, Idempotent
from ticaret.core.openapi import error_responses
from ticaret.crm.router.deps import CrmFilters
from ticaret.models import MessageAction, MessageType
from ticaret.settings import get_settings
from ticaret.wa.errors import FileTooLarge, InvalidMediaData
from ticaret.wa.router.deps import (
    LabelIdQuery,
    LabelIdsQuery,
    LabelModeQuery,
    ListReader,
    MessageId,
    ProviderSessionQuery,
    Reader,
    RemoteJid,
    remote_jid_of,
)
from ticaret.wa.schemas import (
    ActionRequest,
    ActionResult,
    LabelFilter,
    MediaSource,
    MessageOut,
    SendMedia,
)
from ticaret.wa.service import messages as service
from ticaret.wa.service.access import resolve_wa
from ticaret.wa.service.actions import RequestMeta

router = APIRouter(prefix="/wa", tags=["WhatsApp"])

# Media a browser may show in place: images, audio and video of types that cannot run script.
# Everything else (HTML, SVG, PDF, XML...) a customer sent is downloaded, never rendered from
# the API's origin (the console's origin).
INLINE_MEDIA_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "audio/wav",
        "audio/webm",
        "audio/opus",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/3gpp",
        "video/quicktime",
    }
)


def media_headers(
    media_type: str, filename: str | None, content_encoding: str | None
) -> dict[str, str]:
    essence = media_type.split(";", 1)[0].strip().lower()
    inline = essence in INLINE_MEDIA_TYPES
    headers = {
        "Cache-Control": "private, max-age=300",
        # The browser must believe our Content-Type, not guess HTML from the bytes.
        "X-Content-Type-Options": "nosniff",
    }
    disposition = "inline" if inline else "attachment"
    if not inline:
        # Even if something renders it, it runs in an opaque origin with no script.
        headers["Content-Security-Policy"] = "sandbox"
    if filename:
        safe = "".join(ch for ch in filename if ch.isprintable() and ch not in '"\\')[:200]
        ascii_name = safe.encode("ascii", "replace").decode().replace("?", "_")
        disposition += f'; filename="{ascii_name}"'
        if ascii_name != safe:
            disposition += f"; filename*=UTF-8''{quote(safe, safe='')}"
    headers["Content-Disposition"] = disposition
    if content_encoding:
        headers["Content-Encoding"] = content_encoding
    return headers


# These routes take files: more than the ordinary JSON limit. Multipart framing and base64
# (JSON media) add to the file's own size, which the routes check exactly.
_FORM_OVERHEAD = 64 * 1024
declare_body_limit(
    "/wa/chats/{remoteJid}/messages/upload", lambda s: s.wa.max_upload_bytes + _FORM_OVERHEAD
)
declare_body_limit(
    "/wa/chats/{remoteJid}/messages", lambda s: s.wa.max_upload_bytes * 4 // 3 + _FORM_OVERHEAD
)


@router.get(
    "/chats/{remoteJid}/messages",
    summary="List a chat's messages, newest first",
    description="Sohbet mesajlarını listeler. The CRM filters combine with `q`, `type` and "
    "the label filters and keep the cursor: a message without its own assignment follows "
    "its chat's; in a group, a message belongs to its sender's customer when the sender is "
    "mapped, else to the group's.",
    response_model=Envelope[Page[MessageOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_messages(
    remote_jid: RemoteJid,
    wa_ctx: ListReader,
    session: ReadSession,
    page: Paging,
    crm: CrmFilters,
    q: Annotated[str | None, Query(max_length=200, description="Full-text search")] = None,
    message_type: Annotated[MessageType | None, Query(alias="type")] = None,
    label_id: LabelIdQuery = None,
    label_ids: LabelIdsQuery = None,
    label_mode: LabelModeQuery = "any",
) -> Response:
    labels = LabelFilter.build(label_id, label_ids, label_mode)
    return ok_json(
        await service.list_messages(
            session,
            wa_ctx,
            remote_jid,
            page,
            q=q,
            message_type=message_type,
            labels=labels,
            crm=crm,
        )
    )


@fast_get("/wa/chats/{remoteJid}/messages")
async def list_messages_fast(request: Request, path: dict[str, str]) -> Response | None:
    """`list_messages` for the common request (a page, no filter; see core.fastlane)."""
    page = plain_page(request, "providerSessionId")
    psid = request.query_params.get("providerSessionId")
    remote_jid = path["remoteJid"]
    if page is None or len(remote_jid) > 128 or (psid is not None and len(psid) > 100):
        return None
    ctx = await account_from(request)
    data = await service.list_messages_fast(ctx, psid, remote_jid_of(remote_jid), page)
    return None if data is None else ok_json(data)


async def _request_action(
    session: DbSession,
    ctx: AccountContext,
    request: Request,
    remote_jid: str,
    body: ActionRequest,
    provider_session_id: str | None,
    idempotency: Idempotency,
) -> Envelope[ActionResult] | JSONResponse:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    meta = RequestMeta(client_ip(request), request.headers.get("user-agent"))

    async def perform() -> Envelope[ActionResult]:
        return ok(await service.request_action(session, wa_ctx, remote_jid, body, meta))

    # One scope for the JSON and the upload route: a key names one send, whichever route.
    return await idempotency.run(
        session,
        ctx.account_id,
        perform,
        status_code=status.HTTP_202_ACCEPTED,
        scope=f"wa.messages:{wa_ctx.wa.provider_session_id}",
        fingerprint=(remote_jid, body.model_dump(mode="json")),
    )


@router.post(
    "/chats/{remoteJid}/messages",
    summary="Run a message action: send_text, send_media, reply, react, edit, delete, forward",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Envelope[ActionResult],
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
)
async def message_action(
    remote_jid: RemoteJid,
    body: Annotated[ActionRequest, Body()],
    ctx: Agent,
    session: DbSession,
    request: Request,
    idempotency: Idempotent,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[ActionResult] | JSONResponse:
    return await _request_action(
        session, ctx, request, remote_jid, body, provider_session_id, idempotency
    )


@router.post(
    "/chats/{remoteJid}/messages/upload",
    summary="Send an uploaded file (multipart/form-data): send_media with a `file` part",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Envelope[ActionResult],
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
)
async def upload_media(
    remote_jid: RemoteJid,
    file: Annotated[UploadFile, File(description="The file to send")],
    ctx: Agent,
    session: DbSession,
    request: Request,
    idempotency: Idempotent,
    caption: Annotated[str | None, Form(max_length=4096)] = None,
    quoted_message_id: Annotated[str | None, Form(alias="quotedMessageId", max_length=200)] = None,
    kind: Annotated[Literal["image", "video", "audio", "document"] | None, Form()] = None,
    form_session_id: Annotated[str | None, Form(alias="providerSessionId", max_length=100)] = None,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[ActionResult] | JSONResponse:
    limit = get_settings().wa.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"The file is larger than {limit} bytes.")
    if not data:
        raise InvalidMediaData("The file is empty.")
    mimetype = file.content_type or "application/octet-stream"
    body = SendMedia(
        action=MessageAction.send_media,
        provider_session_id=form_session_id,
        media=MediaSource(
            data=base64.b64encode(data).decode(),
            mimetype=mimetype if len(mimetype) >= 3 else "application/octet-stream",
            filename=(file.filename or None),
            kind=kind,
        ),
        caption=caption,
        quoted_message_id=quoted_message_id,
    )
    return await _request_action(
        session, ctx, request, remote_jid, body, provider_session_id, idempotency
    )


@router.get(
    "/chats/{remoteJid}/messages/{messageId}/media",
    summary="Stream a message's media from the gateway (Range supported)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file"},
        206: {"description": "Partial content for a Range request"},
        **error_responses(400, 401, 403, 404, 502),
    },
)
async def stream_media(
    remote_jid: RemoteJid,
    message_id: MessageId,
    wa_ctx: Reader,
    session: DbSession,
    range_header: Annotated[str | None, Header(alias="Range", max_length=200)] = None,
) -> StreamingResponse:
    message, stream = await service.open_media(
        session, wa_ctx, remote_jid, message_id, range_header
    )
    media_type = stream.content_type or message.mimetype or "application/octet-stream"
    filename = stream.filename or (message.media or {}).get("filename")
    headers = media_headers(
        media_type, filename if isinstance(filename, str) else None, stream.content_encoding
    )
    if stream.content_length is not None:
        headers["Content-Length"] = str(stream.content_length)
    if stream.content_range:
        headers["Content-Range"] = stream.content_range
    if stream.accept_ranges:
        headers["Accept-Ranges"] = stream.accept_ranges

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in stream.aiter_bytes():
                yield chunk
        finally:
            await stream.aclose()

    return StreamingResponse(
        body(), status_code=stream.status_code, headers=headers, media_type=media_type
    )
