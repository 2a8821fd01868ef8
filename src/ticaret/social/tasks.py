"""Facebook Pages and Instagram jobs: operations (sends, replies, publications), syncs, the
Instagram token refresh, and the sweepers that re-queue what a lost job left behind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import unit_of_work
from ticaret.core.jobs import Job, JobContext, Lost, cron_job, job, requeue
from ticaret.models import MetaOperation, MetaOperationKind
from ticaret.social.repository import assets as assets_repository
from ticaret.social.repository import operations as operations_repository
from ticaret.social.service import perform, sync, tokens

# A running operation this old died with its worker; a queued one this late lost its job.
STUCK_RUNNING = timedelta(minutes=10)
STUCK_QUEUED = timedelta(minutes=2)
STATE_GRACE = timedelta(days=1)


def operation_job_id(operation_id: uuid.UUID | str, run: int | str) -> str:
    # One id per run: a retry or a poll is queued while the run that queued it still exists.
    return f"meta-op:{operation_id}" if run in (0, "0") else f"meta-op:{operation_id}:{run}"


def _job_for(kind: str) -> Job[[str], str]:
    return sync_meta_asset if kind == MetaOperationKind.sync else perform_meta_operation


def queue_operation(session: AsyncSession, operation: MetaOperation) -> None:
    """Run a new operation once the request that created it commits."""
    _job_for(operation.kind).options(job_id=operation_job_id(operation.id, 0)).after_commit(
        session, str(operation.id)
    )


@job("perform_meta_operation", max_tries=3, timeout=120)
async def perform_meta_operation(ctx: JobContext, operation_id: str) -> str:
    performed = await perform.perform_operation(uuid.UUID(operation_id))
    if performed.again is not None:
        run, delay = performed.again
        await perform_meta_operation.options(
            job_id=operation_job_id(operation_id, run),
            defer_by=delay if delay.total_seconds() > 0 else None,
        ).enqueue(operation_id)
    return performed.status


@job("sync_meta_asset", max_tries=3, timeout=1800)
async def sync_meta_asset(ctx: JobContext, operation_id: str) -> str:
    performed = await sync.run_sync(uuid.UUID(operation_id))
    if performed.again is not None:
        run, delay = performed.again
        await sync_meta_asset.options(
            job_id=operation_job_id(operation_id, run),
            defer_by=delay if delay.total_seconds() > 0 else None,
        ).enqueue(operation_id)
    return performed.status


@job("refresh_instagram_token", max_tries=3, timeout=60)
async def refresh_instagram_token(ctx: JobContext, asset_id: str) -> str:
    return await tokens.refresh_instagram_token(uuid.UUID(asset_id))


@cron_job("refresh_instagram_tokens", minute={17}, second={0})
async def refresh_instagram_tokens(ctx: JobContext) -> int:
    """Hourly: every Instagram token that expires within the refresh window gets renewed."""
    due = await tokens.tokens_to_refresh()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H")
    queued = 0
    for asset_id in due:
        if await refresh_instagram_token.options(
            job_id=f"refresh_instagram_token:{asset_id}:{stamp}"
        ).enqueue(str(asset_id)):
            queued += 1
    return queued


@cron_job("sweep_meta_operations", second={20, 50})
async def sweep_meta_operations(ctx: JobContext) -> int:
    """Re-queue operations whose job was lost, or that died while running."""
    async with unit_of_work() as session:
        rows = await operations_repository.lost(
            session, datetime.now(UTC), STUCK_RUNNING, STUCK_QUEUED
        )
        kinds = {
            operation_id: operation.kind
            for operation_id, _ in rows
            if (operation := await operations_repository.operation_by_id(session, operation_id))
        }
    requeued = 0
    for operation_id, attempts in rows:
        lost = [Lost(str(operation_id), operation_job_id(operation_id, attempts))]
        requeued += await requeue(_job_for(kinds.get(operation_id, "")), lost)
    return requeued


@cron_job("purge_meta_oauth_states", minute={37}, second={0})
async def purge_meta_oauth_states(ctx: JobContext) -> int:
    async with unit_of_work() as session:
        return await assets_repository.purge_states(session, datetime.now(UTC) - STATE_GRACE)
