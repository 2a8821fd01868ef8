"""Webhook jobs: fan-out from the outbox, delivery attempts, releasing held deliveries, sweeping.

Nothing here trusts Redis to remember work: every delivery is a row, and the sweeper re-queues
rows whose job was lost (Redis restarted, a worker died mid-attempt).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.constants import job_key_prefix
from sqlalchemy import select

from ticaret.core.db import unit_of_work
from ticaret.core.events import register_event_consumer
from ticaret.core.queue import enqueue, get_redis
from ticaret.models import DeliveryStatus, Event, Webhook, WebhookDelivery, WebhookStatus
from ticaret.webhooks import repository
from ticaret.webhooks.delivery import DELIVER_JOB, attempt_delivery, deliver_job_id
from ticaret.webhooks.matching import event_matches

logger = logging.getLogger("ticaret.webhooks")

FAN_OUT_JOB = "fan_out_event"
RELEASE_JOB = "release_held_deliveries"
# Overdue by this much, a pending or retrying delivery has lost its job.
SWEEP_GRACE = timedelta(seconds=60)
SWEEP_BATCH = 500
# Fan-out jobs lost by Redis are looked for among events this recent.
FANOUT_SWEEP_WINDOW = timedelta(hours=6)
# One release job sends for at most this long, then queues its continuation.
RELEASE_BUDGET_SECONDS = 240.0
RELEASE_BATCH = 100

register_event_consumer(FAN_OUT_JOB)


def delivery_targets(hooks: list[Webhook], event: Event) -> list[Webhook]:
    # A webhook receives what happened after it was created, even when fan-out runs late.
    hooks = [hook for hook in hooks if hook.created_at <= event.created_at]
    concerned = str(event.data.get("webhookId", "")) if event.type.startswith("webhook.") else ""
    if event.type == "webhook.test":
        # A test goes to the webhook it was sent from, whatever it subscribes to.
        return [hook for hook in hooks if str(hook.id) == concerned]
    return [
        hook
        for hook in hooks
        # A webhook's own lifecycle events are not sent to itself.
        if str(hook.id) != concerned and event_matches(hook.events, event.type)
    ]


async def fan_out_event(ctx: dict[str, Any], event_id: str) -> int:
    """One delivery per matching webhook of the event's account, then their first attempts.

    Idempotent: a rerun finds the event marked and does nothing. The first attempts run right
    here, concurrently, after the deliveries are committed (one job per delivery would double
    the queue traffic); if this job dies first, the sweeper sends them.
    """
    pending: list[uuid.UUID] = []
    async with unit_of_work() as session:
        event = await session.get(Event, event_id)
        if event is None:
            return 0
        hooks = await repository.receiving_webhooks(session, event.account_id)
        if not hooks or not await repository.mark_fanned_out(session, event):
            return 0  # no webhooks, or an earlier run did it
        targets = delivery_targets(hooks, event)
        created = await repository.insert_deliveries(session, event, targets, datetime.now(UTC))
        pending = [d for d, status in created if status == DeliveryStatus.pending]
    outcomes = await asyncio.gather(
        *(attempt_delivery(delivery_id) for delivery_id in pending), return_exceptions=True
    )
    for delivery_id, outcome in zip(pending, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            # The delivery stays due; the sweeper queues it again.
            logger.error("first attempt of delivery %s failed", delivery_id, exc_info=outcome)
    return len(created)


async def deliver_webhook(ctx: dict[str, Any], delivery_id: str) -> str | None:
    status = await attempt_delivery(uuid.UUID(delivery_id))
    return None if status is None else status.value


def _release_lock_key(webhook_id: str) -> str:
    return f"ticaret:webhooks:release:{webhook_id}"


async def release_held_deliveries(ctx: dict[str, Any], webhook_id: str) -> int:
    """Send a re-activated webhook's held deliveries one by one, in event order.

    One release runs per webhook at a time (a Redis lock), so the receiver sees the held events
    in the order they happened. A failed one joins the retry schedule and does not block the rest.
    """
    redis = get_redis()
    token = uuid.uuid4().hex
    lock = _release_lock_key(webhook_id)
    lock_ms = int((RELEASE_BUDGET_SECONDS + 60) * 1000)
    if not await redis.set(lock, token, nx=True, px=lock_ms):
        return 0  # another release is running; it picks up everything held
    sent = 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < RELEASE_BUDGET_SECONDS:
            async with unit_of_work() as session:
                hook = await session.get(Webhook, uuid.UUID(webhook_id))
                if hook is None or hook.status != WebhookStatus.active or hook.deleted_at:
                    return sent
                batch = await repository.held_delivery_ids(
                    session, hook.account_id, hook.id, RELEASE_BATCH
                )
            if not batch:
                return sent
            for delivery_id in batch:
                if await attempt_delivery(delivery_id, release=True) is not None:
                    sent += 1
                if time.monotonic() - started >= RELEASE_BUDGET_SECONDS:
                    break
        # Out of time with work left: continue in a fresh job.
        await enqueue(RELEASE_JOB, webhook_id, job_id=f"{RELEASE_JOB}:{webhook_id}:{token}")
        return sent
    finally:
        if await redis.get(lock) == token.encode():
            await redis.delete(lock)


async def _requeue(delivery_id: uuid.UUID, attempt_number: int) -> bool:
    redis = get_redis()
    job_id = deliver_job_id(delivery_id, attempt_number)
    if await redis.exists(job_key_prefix + job_id):
        return False  # still queued or running: the worker is behind, not lost
    job = await redis.enqueue_job(DELIVER_JOB, str(delivery_id), _job_id=job_id)
    if job is None:
        # That attempt's job ran (its result is kept) without recording an attempt: it lost
        # the race for the row or died. A fresh id gets it going again.
        retry_id = f"{job_id}:swept:{int(time.time())}"
        await redis.enqueue_job(DELIVER_JOB, str(delivery_id), _job_id=retry_id)
    return True


async def sweep_webhook_deliveries(ctx: dict[str, Any], grace: timedelta = SWEEP_GRACE) -> int:
    """Re-queue fan-outs and deliveries whose job Redis lost, and releases that never ran."""
    now = datetime.now(UTC)
    async with unit_of_work() as session:
        unfanned = await repository.events_missing_fan_out(
            session, relayed_before=now - grace, since=now - FANOUT_SWEEP_WINDOW, limit=SWEEP_BATCH
        )
        overdue = (
            await session.execute(
                select(WebhookDelivery.id, WebhookDelivery.attempt_count)
                .where(
                    WebhookDelivery.status.in_((DeliveryStatus.pending, DeliveryStatus.retrying)),
                    WebhookDelivery.next_attempt_at < now - grace,
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(SWEEP_BATCH)
            )
        ).all()
        unreleased = (
            await session.scalars(
                select(WebhookDelivery.webhook_id)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(
                    WebhookDelivery.status == DeliveryStatus.held,
                    WebhookDelivery.updated_at < now - grace,
                    Webhook.status == WebhookStatus.active,
                    Webhook.deleted_at.is_(None),
                )
                .distinct()
            )
        ).all()
    requeued = 0
    redis = get_redis()
    for event_id in unfanned:
        job_id = f"{FAN_OUT_JOB}:{event_id}"
        if await redis.exists(job_key_prefix + job_id):
            continue
        if await redis.enqueue_job(FAN_OUT_JOB, event_id, _job_id=job_id) is None:
            await redis.enqueue_job(
                FAN_OUT_JOB, event_id, _job_id=f"{job_id}:swept:{int(time.time())}"
            )
        requeued += 1
    for delivery_id, attempt_count in overdue:
        requeued += await _requeue(delivery_id, attempt_count + 1)
    for webhook_id in unreleased:
        await enqueue(
            RELEASE_JOB,
            str(webhook_id),
            job_id=f"{RELEASE_JOB}:{webhook_id}:swept:{int(time.time())}",
        )
        requeued += 1
    if requeued:
        logger.info("webhook sweeper re-queued %d job(s)", requeued)
    return requeued
