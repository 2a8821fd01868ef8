"""`/wa/chats/{remoteJid}/messages/{messageId}/ai-analysis/feedback`."""

from __future__ import annotations

from fastapi import APIRouter, status

from ticaret.ai.schemas import FeedbackCreate, FeedbackOut
from ticaret.ai.service import feedback as service
from ticaret.core.db import DbSession
from ticaret.core.deps import Agent
from ticaret.core.envelope import Envelope, ok
from ticaret.core.openapi import error_responses
from ticaret.wa.router.deps import MessageId, ProviderSessionQuery, RemoteJid

router = APIRouter(prefix="/wa", tags=["AI analysis"])


@router.post(
    "/chats/{remoteJid}/messages/{messageId}/ai-analysis/feedback",
    summary="Record an operator's judgement of a message's analysis",
    description="Mesaj AI analizi icin operator feedback kaydeder. Whether the intent and the "
    "first product match were right, the right intent or product, and a comment; kept with "
    "the intent and matches that were judged, for evaluating the analyser.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[FeedbackOut],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def give_ai_feedback(
    remote_jid: RemoteJid,
    message_id: MessageId,
    body: FeedbackCreate,
    ctx: Agent,
    session: DbSession,
    provider_session_id: ProviderSessionQuery = None,
) -> Envelope[FeedbackOut]:
    return ok(
        await service.give_feedback(session, ctx, remote_jid, message_id, provider_session_id, body)
    )
