"""WhatsApp jobs: gateway operations, the sandbox's deliveries, and their sweeper.

(Gateway events are the inbox's job: `wa.inbox`.)
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import unit_of_work
from ticaret.core.jobs import JobContext, Lost, cron_job, job, requeue_lost
from ticaret.settings import get_settings
from ticaret.wa.errors import UnknownProviderSession
from ticaret.wa.service import ingest, operations, receiver


def operation_job_id(operation_id: uuid.UUID | str, attempts: int) -> str:
    # The first run, then one id per retry: a retry can be queued while the last run's job exists.
    return f"wa-op:{operation_id}" if attempts == 0 else f"wa-op:{operation_id}:{attempts}"


def queue_operation(session: AsyncSession, operation_id: uuid.UUID) -> None:
    """Run a new operation once the request that created it commits."""
    perform_wa_operation.options(job_id=operation_job_id(operation_id, 0)).after_commit(
        session, str(operation_id)
    )


def queue_operation_retry(session: AsyncSession, operation_id: uuid.UUID) -> None:
    """Run an operation the operator retried, under a job id no earlier run used."""
    perform_wa_operation.options(
        job_id=f"wa-op:{operation_id}:retry:{secrets.token_hex(4)}"
    ).after_commit(session, str(operation_id))


@job("perform_wa_operation", max_tries=3, timeout=240)
async def perform_wa_operation(ctx: JobContext, operation_id: str) -> str:
    performed = await operations.perform(uuid.UUID(operation_id))
    if performed.retry is not None:
        attempts, delay = performed.retry
        await perform_wa_operation.options(
            job_id=operation_job_id(operation_id, attempts), defer_by=delay
        ).enqueue(operation_id)
    scale = get_settings().wa.sandbox_ack_delay_scale
    for follow_up in performed.follow_ups:
        wait = follow_up.delay * scale
        await deliver_gateway_follow_up.options(
            defer_by=timedelta(seconds=wait) if wait > 0 else None
        ).enqueue(performed.provider_session_id, follow_up.payload)
    return performed.status


@job("deliver_gateway_follow_up", max_tries=3, timeout=60)
async def deliver_gateway_follow_up(
    ctx: JobContext, provider_session_id: str, payload: dict[str, Any]
) -> str:
    """A webhook a built-in gateway 'posts' to us, fed through the same inbox as real ones."""
    async with unit_of_work() as session:
        try:
            wa = await receiver.session_by_provider_id(session, provider_session_id)
        except UnknownProviderSession:
            return "session gone"
        result = await receiver.inject(session, wa, payload)
    return "duplicate" if result.duplicate else "stored"


async def _lost_operations(session: AsyncSession) -> list[Lost]:
    return [
        Lost(str(operation_id), operation_job_id(operation_id, attempts))
        for operation_id, attempts in await operations.lost_operations(session)
    ]


@job("reconcile_wa_operation", max_tries=3, timeout=120)
async def reconcile_wa_operation(ctx: JobContext, operation_id: str) -> str:
    """Settle an operation whose worker died during the gateway call (never a blind resend)."""
    reconciled = await operations.reconcile(uuid.UUID(operation_id))
    if reconciled.requeue_attempts is not None:
        await perform_wa_operation.options(
            job_id=f"{operation_job_id(operation_id, reconciled.requeue_attempts)}:resend"
        ).enqueue(operation_id)
    return reconciled.status


async def _stuck_operations(session: AsyncSession) -> list[Lost]:
    return [
        Lost(str(operation_id), f"wa-reconcile:{operation_id}")
        for operation_id in await operations.stuck_operations(session)
    ]


@cron_job("sweep_wa_operations", second={5, 35})
async def sweep_wa_operations(ctx: JobContext) -> int:
    """Re-queue operations whose job was lost; reconcile those whose worker died mid-call."""
    lost = await requeue_lost(perform_wa_operation, _lost_operations)
    return lost + await requeue_lost(reconcile_wa_operation, _stuck_operations)


@cron_job("sweep_wa_early_acks", second={50})
async def sweep_wa_early_acks(ctx: JobContext) -> int:
    """Apply acks whose message landed unseen by them; forget those a week old."""
    async with unit_of_work() as session:
        return await ingest.apply_stranded_early_acks(session)
