"""Operator feedback on an analysis: was the intent right, was the first product right, which
product was meant. Kept with what was judged (the analysis may change on a retry), for
evaluating the analyser."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.ai.repository import feedback as repository
from ticaret.ai.schemas import FeedbackCreate, FeedbackOut
from ticaret.ai.service.analyses import analysis_of
from ticaret.ai.service.views import feedback_out
from ticaret.catalog.errors import ProductNotFound
from ticaret.catalog.repository import products as catalog_repository
from ticaret.core.auth import AccountContext
from ticaret.core.ids import new_id
from ticaret.models import AiAnalysisFeedback
from ticaret.wa.service.access import resolve_wa


async def give_feedback(
    session: AsyncSession,
    ctx: AccountContext,
    remote_jid: str,
    message_id: str,
    provider_session_id: str | None,
    body: FeedbackCreate,
) -> FeedbackOut:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    analysis = await analysis_of(session, wa_ctx, remote_jid, message_id)
    if body.correct_product_id is not None and (
        await catalog_repository.product(session, ctx.account_id, body.correct_product_id) is None
    ):
        raise ProductNotFound()
    feedback = AiAnalysisFeedback(
        id=new_id(),
        account_id=ctx.account_id,
        analysis_id=analysis.id,
        intent_correct=body.intent_correct,
        correct_intent=body.correct_intent,
        product_correct=body.product_correct,
        correct_product_id=body.correct_product_id,
        comment=body.comment,
        judged_intent=analysis.intent,
        judged_product_ids=[m["productId"] for m in analysis.product_matches],
        actor_type=ctx.actor.type,
        actor_id=ctx.actor.id,
    )
    await repository.add_feedback(session, feedback)
    return feedback_out(feedback)
