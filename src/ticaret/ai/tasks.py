"""AI jobs: the consumer of `wa.message.received`, the run of one analysis, and the sweeper
that finds runs and events whose job was lost."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.ai.service import pipeline
from ticaret.ai.service.pipeline import Dispatch
from ticaret.core.db import unit_of_work
from ticaret.core.events import consume_batch
from ticaret.core.jobs import (
    JobContext,
    Lost,
    cron_job,
    job,
    requeue_batch,
    requeue_lost,
    try_again,
)


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


async def _analyse(ctx: JobContext, event_ids: list[str]) -> int:
    runs, failed = await consume_batch(event_ids, pipeline.consume_received)
    await queue_runs(runs)
    if failed is not None:
        # The list again, later (the events done already find their rows); after the last
        # try the sweeper finds what is still not analysed.
        raise try_again(ctx, failed, tries=CONSUMER_TRIES)
    return len(runs)


CONSUMER_TRIES = 3


@job("analyse_received_messages", max_tries=CONSUMER_TRIES, timeout=120)
async def analyse_received_messages(ctx: JobContext, event_ids: list[str]) -> int:
    """The outbox consumer: one commit's customer messages in, their analyses out (the rules
    run at once; an LLM analysis's first run is queued)."""
    return await _analyse(ctx, event_ids)


@job("analyse_received_message", max_tries=3, timeout=60)
async def analyse_received_message(ctx: JobContext, event_id: str) -> int:
    """One event's `analyse_received_messages` (jobs queued by an earlier release)."""
    return await _analyse(ctx, [event_id])


@job("run_ai_analysis", max_tries=3, timeout=300)
async def run_ai_analysis(ctx: JobContext, analysis_id: str) -> str:
    ran = await pipeline.run(uuid.UUID(analysis_id))
    await queue_runs(ran.dispatches)
    return ran.status


async def _lost_runs(session: AsyncSession) -> list[Lost]:
    return [Lost(str(run.analysis_id), run.job_id) for run in await pipeline.lost_runs(session)]


async def _requeue_unconsumed() -> int:
    """Events whose consumer job was lost: queued again together, as one batch job."""
    async with unit_of_work() as session:
        lost = await pipeline.unconsumed_events(session)
    return await requeue_batch(analyse_received_messages, lost)


@cron_job("sweep_ai_analyses", second={20, 50})
async def sweep_ai_analyses(ctx: JobContext) -> int:
    """Queue again the runs and consumer jobs Redis lost, and free runs whose worker died."""
    return await requeue_lost(run_ai_analysis, _lost_runs) + await _requeue_unconsumed()
