"""`/wa/operations`: the gateway call behind a message action, and how it went."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from ticaret.core.db import DbSession
from ticaret.core.envelope import Envelope, ok
from ticaret.core.openapi import error_responses
from ticaret.wa.router.deps import Reader
from ticaret.wa.schemas import OperationOut
from ticaret.wa.service import operations as service

router = APIRouter(prefix="/wa", tags=["WhatsApp"])


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
    return ok(await service.get_operation(session, wa_ctx, operation_id))
