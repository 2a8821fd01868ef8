"""Agent jobs: the consumer of `conversation.message.created`, the run of one agent over a
conversation, and the sweeper that queues runs whose job was lost."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.agents.repository import agents as agents_repository
from ticaret.agents.service import runs
from ticaret.agents.service.runs import RUN_TIMEOUT_SECONDS, Dispatch
from ticaret.core.db import no_transaction
from ticaret.core.events import consume_batch
from ticaret.core.jobs import (
    CONSUMER_KEEP_RESULT,
    JobContext,
    Lost,
    cron_job,
    job,
    requeue_lost,
    try_again,
)


async def queue_runs(dispatches: Sequence[Dispatch]) -> None:
    for run in dispatches:
        await run_agent.options(job_id=run.job_id, defer_by=run.defer).enqueue(str(run.run_id))


def queue_runs_after_commit(session: AsyncSession, dispatches: Sequence[Dispatch]) -> None:
    for run in dispatches:
        run_agent.options(job_id=run.job_id, defer_by=run.defer).after_commit(
            session, str(run.run_id)
        )


CONSUMER_TRIES = 3


async def _start(ctx: JobContext, event_ids: list[str]) -> int:
    # Most commits' messages are of accounts with no agent, and only a live agent can start a
    # run: one read outside a transaction settles such a batch (the tables the batch itself
    # reads, a moment earlier) instead of loading and checking every event.
    async with no_transaction() as conn:
        if not await agents_repository.any_event_of_accounts_with_agents(conn, event_ids):
            return 0
    dispatches, failed = await consume_batch(event_ids, runs.consume_messages_created)
    await queue_runs(dispatches)
    if failed is not None:
        # The list again, later: a message with its run already gets none.
        raise try_again(ctx, failed, tries=CONSUMER_TRIES)
    return len(dispatches)


@job(
    "start_agent_runs_of_messages",
    max_tries=CONSUMER_TRIES,
    timeout=120,
    keep_result=CONSUMER_KEEP_RESULT,
)
async def start_agent_runs_of_messages(ctx: JobContext, event_ids: list[str]) -> int:
    """The outbox consumer: one commit's conversation messages in, the runs of the agents
    that answer them out."""
    return await _start(ctx, event_ids)


@job("start_agent_runs", max_tries=3, timeout=60)
async def start_agent_runs(ctx: JobContext, event_id: str) -> int:
    """One event's `start_agent_runs_of_messages` (jobs queued by an earlier release)."""
    return await _start(ctx, [event_id])


# A try is a whole run; provider failures are retried by the run itself (backoff recorded on
# the run), so arq only tries again when a worker died mid-run.
@job("run_agent", max_tries=3, timeout=RUN_TIMEOUT_SECONDS)
async def run_agent(ctx: JobContext, run_id: str) -> str:
    ran = await runs.execute(uuid.UUID(run_id))
    await queue_runs(ran.dispatches)
    return str(ran.status)


async def _lost(session: AsyncSession) -> list[Lost]:
    return [Lost(str(d.run_id), d.job_id) for d in await runs.lost_runs(session)]


@cron_job("sweep_agent_runs", second={25, 55})
async def sweep_agent_runs(ctx: JobContext) -> int:
    """Queue again the runs Redis lost (a pending run whose job vanished, a run whose worker
    died and whose lease is over)."""
    return await requeue_lost(run_agent, _lost)
