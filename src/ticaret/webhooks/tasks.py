"""Webhook jobs: fan-out from the outbox, delivery attempts, releasing held deliveries, sweeping.

Nothing here trusts Redis to remember work: every delivery is a row, and the sweeper re-queues
rows whose job was lost (Redis restarted, a worker died mid-attempt).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.cache import MISSING, SharedCache
from ticaret.core.db import unit_of_work
from ticaret.core.event_patterns import event_matches
from ticaret.core.jobs import JobContext, Lost, cron_job, job, requeue_lost
from ticaret.core.queue import get_redis
from ticaret.models import Event, Webhook, WebhookStatus
from ticaret.settings import get_settings
from ticaret.webhooks import repository
from ticaret.webhooks.delivery import (
    Claim,
    Recorded,
    attempt_delivery,
    first_claims,
    lease_end,
    send_and_record,
)
from ticaret.webhooks.events import WEBHOOK_TEST

logger = logging.getLogger("ticaret.webhooks")

# Overdue by this much, a pending or retrying delivery has lost its job.
SWEEP_GRACE = timedelta(seconds=60)
SWEEP_BATCH = 500
# Fan-out jobs lost by Redis are looked for among events this recent.
FANOUT_SWEEP_WINDOW = timedelta(hours=6)
# One release job sends for at most this long, then queues its continuation.
RELEASE_BUDGET_SECONDS = 240.0
RELEASE_BATCH = 100


def delivery_targets(hooks: list[Webhook], event: Event) -> list[Webhook]:
    # A webhook receives what happened after it was created, even when fan-out runs late.
    hooks = [hook for hook in hooks if hook.created_at <= event.created_at]
    concerned = str(event.data.get("webhookId", "")) if event.type.startswith("webhook.") else ""
    if event.type == WEBHOOK_TEST.name:
        # A test goes to the webhook it was sent from, whatever it subscribes to.
        return [hook for hook in hooks if str(hook.id) == concerned]
    return [
        hook
        for hook in hooks
        # A webhook's own lifecycle events are not sent to itself.
        if str(hook.id) != concerned and event_matches(hook.events, event.type)
    ]


# Delivery attempts --------------------------------------------------------------------------


def deliver_job_id(delivery_id: uuid.UUID | str, attempt_number: int) -> str:
    # One arq job per attempt: the next attempt can be queued while this one's job still exists.
    return f"{deliver_webhook.name}:{delivery_id}:{attempt_number}"


def schedule_delivery(
    session: AsyncSession, delivery_id: uuid.UUID, attempt_number: int, *, fresh_job: bool = False
) -> None:
    """Queue the attempt once the session commits.

    `fresh_job` gives the job a unique id, for a redelivery that must not wait behind a retry
    already queued for the same attempt number (that one finds nothing due when it runs).
    """
    job_id = deliver_job_id(delivery_id, attempt_number)
    if fresh_job:
        job_id += f":{uuid.uuid4().hex[:12]}"
    deliver_webhook.options(job_id=job_id).after_commit(session, str(delivery_id))


async def _queue_retries(recorded: dict[uuid.UUID, Recorded]) -> None:
    # The attempts are recorded (committed), so their retries are queued now.
    for delivery_id, outcome in recorded.items():
        if outcome.next_attempt is not None:
            await deliver_webhook.options(
                job_id=deliver_job_id(delivery_id, outcome.next_attempt), defer_by=outcome.retry_in
            ).enqueue(str(delivery_id))


async def _send_many(claims: Sequence[Claim]) -> dict[uuid.UUID, Recorded]:
    """Claimed attempts in batches of `webhooks.batch_size`: sent concurrently, recorded."""
    size = get_settings().webhooks.batch_size
    recorded: dict[uuid.UUID, Recorded] = {}
    for start in range(0, len(claims), size):
        chunk = claims[start : start + size]
        try:
            outcomes = await send_and_record(chunk)
        except Exception:
            # The chunk stays due (or leased): the sweeper queues it again.
            logger.exception("attempts of %d webhook deliveries failed", len(chunk))
            continue
        await _queue_retries(outcomes)
        recorded.update(outcomes)
    return recorded


async def _attempt(delivery_id: uuid.UUID, *, release: bool = False) -> Recorded | None:
    """One attempt, then its retry queued (the attempt is recorded, so this is after commit)."""
    recorded = await attempt_delivery(delivery_id, release=release)
    if recorded is not None:
        await _queue_retries({delivery_id: recorded})
    return recorded


@job("deliver_webhook", max_tries=3, timeout=90)
async def deliver_webhook(ctx: JobContext, delivery_id: str) -> str | None:
    recorded = await _attempt(uuid.UUID(delivery_id))
    return None if recorded is None else recorded.status.value


async def fan_out(event_ids: Sequence[str]) -> int:
    """One delivery per matching webhook of each event's account, then their first attempts.

    Idempotent: an event marked fanned out by an earlier run is skipped. One transaction for
    the whole batch (events, webhooks, marks and deliveries, a statement each); the deliveries
    are born claimed by this job (leased, as `claim_deliveries` leaves a claim), and their first
    attempts run right here, in batches, after the commit: no job per delivery, no second
    transaction to claim rows this job just wrote. If this job dies first, the lease runs out
    and the sweeper sends them.
    """
    now = datetime.now(UTC)
    async with unit_of_work() as session:
        events = await repository.events_by_ids(session, event_ids)
        hooks = await repository.receiving_webhooks_of(
            session, list({event.account_id for event in events})
        )
        events = [event for event in events if hooks.get(event.account_id)]
        fresh = await repository.mark_fanned_out_many(session, events)
        targets = [
            (event, hook)
            for event in events
            if event.id in fresh
            for hook in delivery_targets(hooks[event.account_id], event)
        ]
        created = await repository.insert_deliveries_many(
            session, targets, now, leased_until=lease_end(now)
        )
        claims = first_claims(created, events, [hook for _, hook in targets], now)
    await _send_many(claims)
    return len(created)


@job("fan_out_event", max_tries=3, timeout=180)
async def fan_out_event(ctx: JobContext, event_id: str) -> int:
    """The fan-out of one event (the sweeper's job for a fan-out Redis lost)."""
    return await fan_out([event_id])


@job("fan_out_events", max_tries=3, timeout=240)
async def fan_out_events(ctx: JobContext, event_ids: list[str]) -> int:
    """The fan-out of every event one commit emitted (what the outbox relay queues)."""
    return await fan_out(event_ids)


# Which accounts the relay queues a fan-out for -----------------------------------------------

# "Has this account an active or paused webhook?", per account, for RECEIVING_TTL_SECONDS.
# Creating or re-activating a webhook drops the entry in every process at once (pub/sub). An
# answer that is wrong anyway (a message lost) only delays that account's events to the
# sweeper (SWEEP_GRACE), which looks at the webhooks themselves.
RECEIVING_TTL_SECONDS = 5.0
_receiving: SharedCache[bool] = SharedCache(
    "accounts_with_webhooks", ttl=lambda: RECEIVING_TTL_SECONDS
)


async def accounts_with_webhooks(account_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The relay's filter: the accounts a fan-out job has anything to do for."""
    answer: set[uuid.UUID] = set()
    unknown: list[uuid.UUID] = []
    for account_id in account_ids:
        known = _receiving.get(account_id)
        if known is MISSING:
            unknown.append(account_id)
        elif known:
            answer.add(account_id)
    if unknown:
        epoch = _receiving.epoch
        async with unit_of_work() as session:
            found = await repository.accounts_with_receiving_webhooks(session, unknown)
        for account_id in unknown:
            _receiving.put(account_id, account_id in found, epoch, tags=[str(account_id)])
        answer |= found
    return answer


def webhooks_changed(session: AsyncSession, account_id: uuid.UUID) -> None:
    """The account's webhooks changed: the relays of every process look again after commit."""
    _receiving.invalidate_after_commit(session, [str(account_id)])


# Releasing held deliveries ------------------------------------------------------------------


def _release_lock_key(webhook_id: str) -> str:
    return f"ticaret:webhooks:release:{webhook_id}"


def release_job_id(webhook_id: uuid.UUID | str, tag: str) -> str:
    return f"{release_held_deliveries.name}:{webhook_id}:{tag}"


@job("release_held_deliveries", max_tries=3, timeout=RELEASE_BUDGET_SECONDS + 60)
async def release_held_deliveries(ctx: JobContext, webhook_id: str) -> int:
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
                hook = await repository.webhook_by_id(session, uuid.UUID(webhook_id))
                if hook is None or hook.status != WebhookStatus.active or hook.deleted_at:
                    return sent
                batch = await repository.held_delivery_ids(
                    session, hook.account_id, hook.id, RELEASE_BATCH
                )
            if not batch:
                return sent
            sent_before = sent
            for delivery_id in batch:
                if await _attempt(delivery_id, release=True) is not None:
                    sent += 1
                if time.monotonic() - started >= RELEASE_BUDGET_SECONDS:
                    break
            if sent == sent_before:
                return sent  # nothing could be claimed (rows busy): the sweeper comes back later
        # Out of time with work left: continue in a fresh job.
        await release_held_deliveries.options(job_id=release_job_id(webhook_id, token)).enqueue(
            webhook_id
        )
        return sent
    finally:
        if await redis.get(lock) == token.encode():
            await redis.delete(lock)


# The sweeper --------------------------------------------------------------------------------


async def _unfanned(session: AsyncSession) -> list[Lost]:
    now = datetime.now(UTC)
    event_ids = await repository.events_missing_fan_out(
        session,
        relayed_before=now - SWEEP_GRACE,
        since=now - FANOUT_SWEEP_WINDOW,
        limit=SWEEP_BATCH,
    )
    # The same job id the outbox relay queued it under.
    return [Lost(event_id, f"{fan_out_event.name}:{event_id}") for event_id in event_ids]


async def _overdue(session: AsyncSession) -> list[Lost]:
    overdue = await repository.overdue_deliveries(
        session, datetime.now(UTC) - SWEEP_GRACE, SWEEP_BATCH
    )
    return [
        Lost(str(delivery_id), deliver_job_id(delivery_id, attempts + 1))
        for delivery_id, attempts in overdue
    ]


async def _unreleased(session: AsyncSession) -> list[Lost]:
    webhook_ids = await repository.webhooks_with_unreleased_holds(
        session, datetime.now(UTC) - SWEEP_GRACE
    )
    # A release takes a lock per webhook, so a second one queued next to a live one is harmless.
    return [
        Lost(str(webhook_id), release_job_id(webhook_id, "swept")) for webhook_id in webhook_ids
    ]


@cron_job("sweep_webhook_deliveries", second={15, 45})
async def sweep_webhook_deliveries(ctx: JobContext) -> int:
    """Re-queue fan-outs and deliveries whose job Redis lost, and releases that never ran."""
    return (
        await requeue_lost(fan_out_event, _unfanned)
        + await requeue_lost(deliver_webhook, _overdue)
        + await requeue_lost(release_held_deliveries, _unreleased)
    )
