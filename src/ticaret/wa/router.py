"""`/wa` chats, contacts and messages: lists, the action endpoint, read marks and media."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import (
    APIRouter,
    Body,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Request,
    UploadFile,
    status,
)
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select

from ticaret.core.auth import AccountContext, account_context, client_ip
from ticaret.core.db import DbSession
from ticaret.core.envelope import Envelope, Page, PageParams, ok
from ticaret.core.idempotency import Idempotency, Idempotent
from ticaret.core.openapi import error_responses
from ticaret.models import ChatType, MessageType, Role, WaMessageOperation
from ticaret.settings import get_settings
from ticaret.wa import actions, queries
from ticaret.wa.access import ProviderSessionQuery, WaContext, resolve_wa, wa_context
from ticaret.wa.errors import (
    FileTooLarge,
    GatewayUnreachable,
    InvalidMediaData,
    MediaNotFound,
    OperationNotFound,
)
from ticaret.wa.gateways import GatewayError, GatewayNotFound
from ticaret.wa.gateways.factory import session_gateway
from ticaret.wa.queries import LabelFilter
from ticaret.wa.schemas import (
    ActionRequest,
    ActionResult,
    ChatOut,
    ContactOut,
    MarkRead,
    MediaSource,
    MessageOut,
    OperationOut,
    ReadResult,
    SendMedia,
)
from ticaret.wa.views import operation_out

router = APIRouter(prefix="/wa", tags=["WhatsApp"])

Reader = Annotated[WaContext, Depends(wa_context(Role.viewer))]
Agent = Annotated[AccountContext, Depends(account_context(Role.agent))]
Paging = Annotated[PageParams, Query()]
RemoteJid = Annotated[str, Path(alias="remoteJid", max_length=128)]
MessageId = Annotated[str, Path(alias="messageId", max_length=200)]
LabelIdQuery = Annotated[uuid.UUID | None, Query(alias="labelId")]
LabelIdsQuery = Annotated[
    list[str] | None,
    Query(alias="labelIds", description="Repeat the parameter or separate ids with commas."),
]
LabelModeQuery = Annotated[Literal["any", "all"], Query(alias="labelMode")]


@router.get(
    "/chats",
    summary="List chats, latest activity first",
    response_model=Envelope[Page[ChatOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_chats(
    wa_ctx: Reader,
    session: DbSession,
    page: Paging,
    q: Annotated[str | None, Query(max_length=200, description="Name or JID contains")] = None,
    unread: Annotated[bool, Query(description="Only chats with unread messages")] = False,
    chat_type: Annotated[ChatType | None, Query(alias="type")] = None,
    archived: Annotated[bool | None, Query()] = None,
    label_id: LabelIdQuery = None,
    label_ids: LabelIdsQuery = None,
    label_mode: LabelModeQuery = "any",
) -> Envelope[Page[ChatOut]]:
    labels = LabelFilter.build(label_id, label_ids, label_mode)
    return ok(
        await queries.list_chats(
            session,
            wa_ctx,
            page,
            q=q,
            unread_only=unread,
            chat_type=chat_type,
            labels=labels,
            archived=archived,
        )
    )


@router.get(
    "/chats/{remoteJid}",
    summary="Chat detail",
    response_model=Envelope[ChatOut],
    responses=error_responses(400, 401, 403, 404),
)
async def get_chat(remote_jid: RemoteJid, wa_ctx: Reader, session: DbSession) -> Envelope[ChatOut]:
    return ok(await queries.get_chat(session, wa_ctx, remote_jid))


@router.get(
    "/contacts",
    summary="List people and groups the session has seen",
    response_model=Envelope[Page[ContactOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_contacts(
    wa_ctx: Reader,
    session: DbSession,
    page: Paging,
    q: Annotated[str | None, Query(max_length=200)] = None,
    is_group: Annotated[bool | None, Query(alias="isGroup")] = None,
) -> Envelope[Page[ContactOut]]:
    return ok(await queries.list_contacts(session, wa_ctx, page, q=q, is_group=is_group))


@router.get(
    "/contacts/{jid}",
    summary="One person or group (by JID or LID)",
    response_model=Envelope[ContactOut],
    responses=error_responses(400, 401, 403, 404),
)
async def get_contact(
    jid: Annotated[str, Path(max_length=128)], wa_ctx: Reader, session: DbSession
) -> Envelope[ContactOut]:
    return ok(await queries.get_contact(session, wa_ctx, jid))


@router.get(
    "/chats/{remoteJid}/messages",
    summary="List a chat's messages, newest first",
    response_model=Envelope[Page[MessageOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_messages(
    remote_jid: RemoteJid,
    wa_ctx: Reader,
    session: DbSession,
    page: Paging,
    q: Annotated[str | None, Query(max_length=200, description="Full-text search")] = None,
    message_type: Annotated[MessageType | None, Query(alias="type")] = None,
    label_id: LabelIdQuery = None,
    label_ids: LabelIdsQuery = None,
    label_mode: LabelModeQuery = "any",
) -> Envelope[Page[MessageOut]]:
    labels = LabelFilter.build(label_id, label_ids, label_mode)
    return ok(
        await queries.list_messages(
            session, wa_ctx, remote_jid, page, q=q, message_type=message_type, labels=labels
        )
    )


async def _run_action(
    session: DbSession,
    ctx: AccountContext,
    request: Request,
    remote_jid: str,
    body: ActionRequest,
    provider_session_id: str | None,
    idempotency: Idempotency,
) -> Envelope[ActionResult] | JSONResponse:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    meta = actions.RequestMeta(client_ip(request), request.headers.get("user-agent"))

    async def perform() -> Envelope[ActionResult]:
        return ok(await actions.perform(session, wa_ctx, remote_jid, body, meta))

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
    return await _run_action(
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
        action="send_media",
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
    return await _run_action(
        session, ctx, request, remote_jid, body, provider_session_id, idempotency
    )


@router.get(
    "/operations/{operationId}",
    summary="One message operation (the gateway call behind an action) and its status",
    response_model=Envelope[OperationOut],
    responses=error_responses(400, 401, 403, 404),
)
async def get_operation(
    operation_id: Annotated[uuid.UUID, Path(alias="operationId")],
    wa_ctx: Reader,
    session: DbSession,
) -> Envelope[OperationOut]:
    operation = await session.scalar(
        select(WaMessageOperation).where(
            WaMessageOperation.id == operation_id,
            WaMessageOperation.account_id == wa_ctx.account_id,
            WaMessageOperation.session_id == wa_ctx.wa.id,
        )
    )
    if operation is None:
        raise OperationNotFound()
    return ok(operation_out(operation))


@router.post(
    "/chats/{remoteJid}/read",
    summary="Mark a chat's messages read (all unread, or the given messageIds)",
    response_model=Envelope[ReadResult],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def mark_read(
    remote_jid: RemoteJid,
    ctx: Agent,
    session: DbSession,
    body: Annotated[MarkRead | None, Body()] = None,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[ReadResult]:
    body = body or MarkRead()
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    return ok(await actions.mark_read(session, wa_ctx, remote_jid, body))


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
    message = await queries.get_message(session, wa_ctx, remote_jid, message_id)
    if not message.has_media or message.deleted_for_everyone:
        raise MediaNotFound()
    gateway = session_gateway(wa_ctx.wa)
    try:
        stream = await gateway.open_media(
            remote_jid,
            message.provider_message_id or message.message_id,
            message.media or {},
            range_header,
        )
    except GatewayNotFound:
        raise MediaNotFound("The gateway no longer has this file.") from None
    except GatewayError as exc:
        raise GatewayUnreachable(f"The gateway could not serve the file: {exc.message}") from None

    headers: dict[str, str] = {"Cache-Control": "private, max-age=300"}
    if stream.content_length is not None:
        headers["Content-Length"] = str(stream.content_length)
    if stream.content_range:
        headers["Content-Range"] = stream.content_range
    if stream.accept_ranges:
        headers["Accept-Ranges"] = stream.accept_ranges
    filename = stream.filename or (message.media or {}).get("filename")
    if isinstance(filename, str) and filename:
        safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
        headers["Content-Disposition"] = f'inline; filename="{safe}"'

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in stream.aiter_bytes():
                yield chunk
        finally:
            await stream.aclose()

    return StreamingResponse(
        body(),
        status_code=stream.status_code,
        headers=headers,
        media_type=stream.content_type or message.mimetype or "application/octet-stream",
    )
