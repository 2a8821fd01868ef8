"""The analyses an operator sees: the list, one message's analysis, and asking again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.ai.errors import AnalysisInProgress, AnalysisNotFound, NothingToAnalyse
from ticaret.ai.repository import analyses as repository
from ticaret.ai.repository import settings as settings_repository
from ticaret.ai.repository.analyses import AnalysisFilters
from ticaret.ai.schemas import AnalysisOut
from ticaret.ai.service import pipeline
from ticaret.ai.service.views import analysis_out
from ticaret.ai.tasks import queue_runs_after_commit
from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.models import AiAnalysis, AnalysisStatus, AnalysisTrigger, Intent, MatchStatus
from ticaret.wa.errors import SessionNotFound
from ticaret.wa.repository import sessions as session_repository
from ticaret.wa.service.access import WaContext, resolve_wa
from ticaret.wa.service.messages import get_message


def _utc(moment: datetime | None) -> datetime | None:
    """A time without an offset is UTC, as every time this API shows."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


async def list_analyses(
    session: AsyncSession,
    ctx: AccountContext,
    page: PageParams,
    *,
    status: AnalysisStatus | None,
    intent: Intent | None,
    match_status: MatchStatus | None,
    provider_session_id: str | None,
    remote_jid: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
) -> Page[AnalysisOut]:
    session_id = None
    if provider_session_id:
        wa = await session_repository.accessible_session(
            session, ctx.account_id, provider_session_id
        )
        if wa is None:
            raise SessionNotFound()
        session_id = wa.id
    rows = await repository.analyses_page(
        session,
        ctx.account_id,
        AnalysisFilters(
            status=status,
            intent=intent,
            match_status=match_status,
            session_id=session_id,
            remote_jid=remote_jid,
            created_from=_utc(date_from),
            created_to=_utc(date_to),
        ),
        after=page.after_id(),
        limit=page.limit,
    )
    kept, cursor, more = build_page(rows, page.limit, lambda r: [r[0].id])
    return Page[AnalysisOut](
        rows=[analysis_out(row, psid) for row, psid in kept], next_cursor=cursor, has_more=more
    )


async def analysis_of(
    session: AsyncSession,
    wa_ctx: WaContext,
    remote_jid: str,
    message_id: str,
    *,
    lock: bool = False,
) -> AiAnalysis:
    message = await get_message(session, wa_ctx, remote_jid, message_id)
    row = await repository.analysis_of_message(session, wa_ctx.account_id, message.id, lock=lock)
    if row is None:
        raise AnalysisNotFound()
    return row


async def get_analysis(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str
) -> AnalysisOut:
    row = await analysis_of(session, wa_ctx, remote_jid, message_id)
    return analysis_out(row, wa_ctx.wa.provider_session_id)


async def retry_analysis(
    session: AsyncSession,
    ctx: AccountContext,
    remote_jid: str,
    message_id: str,
    provider_session_id: str | None,
) -> AnalysisOut:
    """Queue the message's analysis again (or for the first time: a message from before
    analysis was on). A manual request runs even when automatic analysis is off."""
    wa_ctx = await resolve_wa(session, ctx, provider_session_id)
    message = await get_message(session, wa_ctx, remote_jid, message_id)
    if pipeline.source_of(message) is None:
        raise NothingToAnalyse()
    row = await repository.analysis_of_message(session, ctx.account_id, message.id, lock=True)
    if row is None:
        settings_row = await settings_repository.settings_of(session, ctx.account_id)
        row, first_run = await pipeline.new_analysis(
            session, ctx.account_id, wa_ctx.wa, message, AnalysisTrigger.manual, settings_row
        )
        if row is None or first_run is None:
            # Created by the consumer a moment ago, in another transaction.
            raise AnalysisInProgress()
        runs = [first_run]
    elif row.status == AnalysisStatus.processing:
        raise AnalysisInProgress()
    else:
        # Pending too: one waiting out a retry delay or held back runs now, with fresh attempts.
        runs = [pipeline.restart(row, AnalysisTrigger.retry)]
    await session.flush()
    queue_runs_after_commit(session, runs)
    return analysis_out(row, wa_ctx.wa.provider_session_id)
