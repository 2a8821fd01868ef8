"""`/wa/ai-analyses` and `/wa/chats/{remoteJid}/messages/{messageId}/ai-analysis[/retry]`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query

from ticaret.ai.schemas import AnalysisOut, AnalysisRetry
from ticaret.ai.service import analyses as service
from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.models import AnalysisStatus, Intent, MatchStatus
from ticaret.wa.router.deps import MessageId, ProviderSessionQuery, Reader, RemoteJid

router = APIRouter(prefix="/wa", tags=["AI analysis"])


@router.get(
    "/ai-analyses",
    summary="List the account's message analyses, newest first",
    description="WhatsApp session icin AI analizlerini listeler. Filters: `status`, `intent`, "
    "`matchStatus` (of the best product match), `providerSessionId`, `remoteJid`, and "
    "`dateFrom` / `dateTo` (ISO-8601, on `createdAt`; `dateTo` excluded).",
    response_model=Envelope[Page[AnalysisOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_ai_analyses(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    status: Annotated[AnalysisStatus | None, Query()] = None,
    intent: Annotated[Intent | None, Query()] = None,
    match_status: Annotated[MatchStatus | None, Query(alias="matchStatus")] = None,
    provider_session_id: ProviderSessionQuery = None,
    remote_jid: Annotated[str | None, Query(alias="remoteJid", max_length=128)] = None,
    date_from: Annotated[datetime | None, Query(alias="dateFrom")] = None,
    date_to: Annotated[datetime | None, Query(alias="dateTo")] = None,
) -> Envelope[Page[AnalysisOut]]:
    return ok(
        await service.list_analyses(
            session,
            ctx,
            page,
            status=status,
            intent=intent,
            match_status=match_status,
            provider_session_id=provider_session_id,
            remote_jid=remote_jid,
            date_from=date_from,
            date_to=date_to,
        )
    )


@router.get(
    "/chats/{remoteJid}/messages/{messageId}/ai-analysis",
    summary="One message's analysis",
    description="Mesaj AI analizini getirir. 404 `analysis_not_found` for a message that has "
    "none (an outgoing message, or one from before analysis was on: POST `.../retry`).",
    response_model=Envelope[AnalysisOut],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def get_ai_analysis(
    remote_jid: RemoteJid, message_id: MessageId, wa_ctx: Reader, session: DbSession
) -> Envelope[AnalysisOut]:
    return ok(await service.get_analysis(session, wa_ctx, remote_jid, message_id))


@router.post(
    "/chats/{remoteJid}/messages/{messageId}/ai-analysis/retry",
    summary="Queue a message's analysis again",
    description="Mesaj AI analizini yeniden kuyruga alir. The analysis goes back to `pending` "
    "with fresh attempts (a message without one gets its first, `trigger: manual`); its "
    "earlier results stay until the new run replaces them. 409 while it is running.",
    response_model=Envelope[AnalysisOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def retry_ai_analysis(
    remote_jid: RemoteJid,
    message_id: MessageId,
    ctx: Agent,
    session: DbSession,
    body: Annotated[AnalysisRetry | None, Body()] = None,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[AnalysisOut]:
    psid = provider_session_id or (body.provider_session_id if body else None)
    return ok(await service.retry_analysis(session, ctx, remote_jid, message_id, psid))
