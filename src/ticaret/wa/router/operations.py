"""`/wa/operations`: the gateway call behind a message action, and how it went.

An operation whose worker died during the gateway call, and whose outcome the gateway cannot
tell, is `unknown`: it is never re-sent by itself. The operator checks the chat and, if the
message did not go out, retries it (`POST /wa/operations/{operationId}/retry`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.models import OperationStatus
from ticaret.wa.router.deps import ProviderSessionQuery, Reader
from ticaret.wa.schemas import OperationOut, OperationRetry
from ticaret.wa.service import operations as service
from ticaret.wa.service.access import resolve_wa
from ticaret.wa.service.views import operation_out
from ticaret.wa.tasks import queue_operation_retry

OperationId = Annotated[uuid.UUID, Path(alias="operationId")]

router = APIRouter(prefix="/wa", tags=["WhatsApp"])


@router.get(
    "/operations",
    summary="The session's message operations, newest first (e.g. `status=unknown` to review)",
    response_model=Envelope[Page[OperationOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_operations(
    wa_ctx: Reader,
    session: DbSession,
    page: Paging,
    status: Annotated[OperationStatus | None, Query(description="Only this status")] = None,
) -> Envelope[Page[OperationOut]]:
    return ok(await service.list_operations(session, wa_ctx, status, page))


@router.get(
    "/operations/{operationId}",
    summary="One message operation (the gateway call behind an action) and its status",
    response_model=Envelope[OperationOut],
    responses=error_responses(400, 401, 403, 404),
)
async def get_operation(
    operation_id: OperationId,
    wa_ctx: Reader,
    session: DbSession,
) -> Envelope[OperationOut]:
    return ok(await service.get_operation(session, wa_ctx, operation_id))


@router.post(
    "/operations/{operationId}/retry",
    summary="Make an operation's gateway call again (one of unknown outcome, or that failed)",
    description="An operation is `unknown` when its worker stopped during the gateway call and "
    "the gateway could not tell whether the message went out: it is never re-sent by itself. "
    "Look at the chat (on the phone, or the gateway); if the message is not there, retry. "
    "The operation goes back to `queued` and its message to pending.",
    response_model=Envelope[OperationOut],
    responses=error_responses(400, 401, 403, 404, 409),
)
async def retry_operation(
    operation_id: OperationId,
    ctx: Agent,
    session: DbSession,
    body: Annotated[OperationRetry | None, Body()] = None,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[OperationOut]:
    named = provider_session_id or (body.provider_session_id if body else None)
    wa_ctx = await resolve_wa(session, ctx, named)
    operation = await service.retry(session, wa_ctx, operation_id)
    queue_operation_retry(session, operation.id)
    return ok(operation_out(operation))
