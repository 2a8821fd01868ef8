"""`/attachments`: upload a file for a message, and download it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile, status
from fastapi.responses import FileResponse, JSONResponse

from ticaret.conversations.errors import AttachmentTooLarge
from ticaret.conversations.router.deps import AttachmentId
from ticaret.conversations.schemas.attachments import AttachmentOut
from ticaret.conversations.service import attachments as service
from ticaret.core.body_limit import declare_body_limit
from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Viewer
from ticaret.core.envelope import Envelope, ok
from ticaret.core.idempotency import Idempotent
from ticaret.core.openapi import error_responses
from ticaret.settings import get_settings

router = APIRouter(prefix="/attachments", tags=["Conversations"])

# Multipart framing on top of the file itself, which the route checks exactly.
_FORM_OVERHEAD = 64 * 1024
declare_body_limit("/attachments", lambda s: s.attachments.max_bytes + _FORM_OVERHEAD)


@router.post(
    "",
    summary="Upload an attachment (multipart/form-data, a `file` part)",
    description="Ek yükler. The content type is read from the bytes (the declared one is "
    "kept only when the bytes agree); executables are refused. Pass the `id` in a send's "
    "`attachmentIds`.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[AttachmentOut],
    responses=error_responses(400, 401, 403, 413, 422),
)
async def upload_attachment(
    file: Annotated[UploadFile, File(description="The file")],
    ctx: Agent,
    session: DbSession,
    idempotency: Idempotent,
) -> Envelope[AttachmentOut] | JSONResponse:
    limit = get_settings().attachments.max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise AttachmentTooLarge(f"The file is larger than {limit} bytes.")

    async def perform() -> Envelope[AttachmentOut]:
        return ok(await service.upload(session, ctx, data, file.filename, file.content_type))

    return await idempotency.run(
        session,
        ctx.account_id,
        perform,
        status_code=status.HTTP_201_CREATED,
        scope="attachments",
        fingerprint=(file.filename, service.content_digest(data)),
    )


@router.get(
    "/{attachmentId}",
    summary="Download an attachment",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file"},
        **error_responses(401, 403, 404, 422),
    },
)
async def download_attachment(
    attachment_id: AttachmentId, ctx: Viewer, session: DbSession
) -> FileResponse:
    row, path = await service.open_attachment(session, ctx, attachment_id)
    # Always a download, with the type we stored believed as is: an upload never renders
    # in a browser as one of our pages (and if something renders it, it runs sandboxed).
    return FileResponse(
        path,
        media_type=row.content_type,
        filename=row.filename,
        content_disposition_type="attachment",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, max-age=300",
        },
    )
