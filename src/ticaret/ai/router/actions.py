"""`/wa/chats/{remoteJid}/messages/{messageId}/ai-actions/create-order`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse

from ticaret.ai.schemas import AnalysisOrderCreate, OrderFromAnalysis
from ticaret.ai.service import actions as service
from ticaret.core.db import DbSession
from ticaret.core.deps import Agent
from ticaret.core.envelope import Envelope, ok
from ticaret.core.idempotency import Idempotent
from ticaret.core.openapi import error_responses
from ticaret.settings import Settings, get_settings
from ticaret.wa.router.deps import MessageId, ProviderSessionQuery, RemoteJid

router = APIRouter(prefix="/wa", tags=["AI analysis"])

AppSettings = Annotated[Settings, Depends(get_settings)]


@router.post(
    "/chats/{remoteJid}/messages/{messageId}/ai-actions/create-order",
    summary="Create the order an analysis drafted, with the operator's changes",
    description="Tamamlanmis AI analizinden operator onayli siparis olusturur. The order "
    "(a draft, `POST /orders` rules) takes the analysis's draft: the chat's CRM customer and "
    "contact, its items with quantities and variant notes; anything in the request replaces "
    "that part; prices are the catalog's. While an order made from the analysis stands (not "
    "deleted), another is a 409 `order_already_created` unless `allowDuplicate`. The "
    "analysis records the order in `appliedActions`. Repeating a request with the same "
    "`Idempotency-Key` returns the first answer.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[OrderFromAnalysis],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def create_order_from_analysis(
    remote_jid: RemoteJid,
    message_id: MessageId,
    body: AnalysisOrderCreate,
    ctx: Agent,
    session: DbSession,
    idempotency: Idempotent,
    settings: AppSettings,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[OrderFromAnalysis] | JSONResponse:
    async def create() -> Envelope[OrderFromAnalysis]:
        return ok(
            await service.create_order(
                session, settings, ctx, remote_jid, message_id, provider_session_id, body
            )
        )

    return await idempotency.run(session, ctx.account_id, create, status_code=201)
