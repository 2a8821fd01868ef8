"""AI jobs: the consumer of `wa.message.received`, the run of one analysis, and the sweeper
that finds runs and events whose job was lost."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.ai.service import pipeline
from ticaret.ai.service.pipeline import Dispatch
from ticaret.core.jobs import JobContext, Lost, cron_job, job, requeue_lost


async def queue_runs(dispatches: Sequence[Dispatch]) -> None:
    for run in dispatches:
        await run_ai_analysis.options(job_id=run.job_id, defer_by=run.defer).enqueue(
            str(run.analysis_id)
        )


def queue_runs_after_commit(session: AsyncSession, dispatches: Sequence[Dispatch]) -> None:
    for run in dispatches:
        run_ai_analysis.options(job_id=run.job_id, defer_by=run.defer).after_commit(
            session, str(run.analysis_id)
        )


@job("analyse_received_message", max_tries=3, timeout=60)
async def analyse_received_message(ctx: JobContext, event_id: str) -> int:
    """The outbox consumer: a customer's message in, its analysis row and first run out."""
    runs = await pipeline.consume_received(event_id)
    await queue_runs(runs)
    return len(runs)


@job("run_ai_analysis", max_tries=3, timeout=300)
async def run_ai_analysis(ctx: JobContext, analysis_id: str) -> str:
    ran = await pipeline.run(uuid.UUID(analysis_id))
    await queue_runs(ran.dispatches)
    return ran.status


async def _lost_runs(session: AsyncSession) -> list[Lost]:
    return [Lost(str(run.analysis_id), run.job_id) for run in await pipeline.lost_runs(session)]


async def _unconsumed(session: AsyncSession) -> list[Lost]:
    return [
        Lost(event_id, f"{analyse_received_message.name}:{event_id}")
        for event_id in await pipeline.unconsumed_events(session)
    ]


@cron_job("sweep_ai_analyses", second={20, 50})
async def sweep_ai_analyses(ctx: JobContext) -> int:
    """Queue again the runs and consumer jobs Redis lost, and free runs whose worker died."""
    return await requeue_lost(run_ai_analysis, _lost_runs) + await requeue_lost(
        analyse_received_message, _unconsumed
    )
