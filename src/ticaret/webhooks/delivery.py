"""Delivery attempts, in three steps that never hold a database transaction over the network,
each done for a whole batch of deliveries at once.

1. `claim_deliveries`: lock the rows (`SKIP LOCKED`: rows another attempt holds are left to it),
   check each is due and its webhook still takes deliveries, and push `next_attempt_at` out by a
   lease so a duplicate job (arq is at-least-once) or the sweeper leaves it alone while the
   request is in flight. A worker that dies mid-request loses the lease and the sweeper sends
   the delivery again: delivery is at-least-once, receivers dedupe on `webhook-id`.
   A fan-out creates its deliveries already leased to itself (`first_claims`): their first
   attempt needs no claim transaction.
2. `send_claimed`, for every claim concurrently: the signed POST (`sender.send_delivery`, never
   raises) through the process's pooled SSRF-guarded transports (`guarded_transport`), which
   check the address of every connection they open and keep connections alive between attempts.
3. `record_attempts`: one `webhook_attempts` row per attempt (one statement for the batch), each
   delivery's new state (one statement), the next attempt scheduled per `retry_schedule`, and
   each webhook's health (410 Gone or five days of failures disable it and emit
   `webhook.disabled`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import unit_of_work
from ticaret.core.events import Actor, emit, event_payload
from ticaret.core.http import guarded_transport
from ticaret.core.ids import new_id
from ticaret.core.security import secret_box
from ticaret.models import (
    AttemptTrigger,
    DeliveryStatus,
    Event,
    Webhook,
    WebhookStatus,
)
from ticaret.settings import Settings, get_settings
from ticaret.webhooks import repository, retry_schedule
from ticaret.webhooks.events import WEBHOOK_DISABLED, WebhookDisabled
from ticaret.webhooks.sender import AttemptResult, send_delivery
from ticaret.webhooks.url_guard import webhook_policy

logger = logging.getLogger("ticaret.webhooks")

# A job may start a little before its row's due time (clock skew between worker and database).
DUE_TOLERANCE = timedelta(seconds=2)
# Beyond the request timeout, room for the DNS check and recording the attempt.
LEASE_MARGIN = timedelta(seconds=30)
# lastSuccessAt is refreshed at most this often while healthy: one write per delivery would make
# every delivery of a busy webhook queue on the same row.
HEALTH_RESOLUTION = timedelta(seconds=60)


def event_body(event: Event) -> bytes:
    """The exact bytes we sign and POST: the event as the console and the outbox relay see it."""
    return json.dumps(event_payload(event), separators=(",", ":"), ensure_ascii=False).encode()


def signing_secrets(settings: Settings, hook: Webhook, now: datetime) -> list[str]:
    box = secret_box(settings)
    secrets = [box.decrypt(hook.secret_encrypted)]
    if (
        hook.previous_secret_encrypted is not None
        and hook.previous_secret_expires_at is not None
        and hook.previous_secret_expires_at > now
    ):
        secrets.append(box.decrypt(hook.previous_secret_encrypted))
    return secrets


@dataclass(frozen=True)
class Claim:
    delivery_id: uuid.UUID
    account_id: uuid.UUID
    webhook_id: uuid.UUID
    attempt_number: int
    # Position in the retry schedule (a redelivery starts a new series at 1).
    series_attempt: int
    trigger: AttemptTrigger
    url: str
    event_id: str
    body: bytes
    secrets: list[str]


def lease_end(now: datetime) -> datetime:
    """Until when a claimed delivery is left alone: beyond the request timeout, room for the
    DNS check and recording the attempt."""
    return now + timedelta(seconds=get_settings().webhooks.timeout_seconds) + LEASE_MARGIN


class ClaimCache:
    """What the claims of one batch share: each event's body (serialized once, whatever the
    number of webhooks it goes to) and each webhook's decrypted signing secrets."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bodies: dict[str, bytes] = {}
        self.secrets: dict[uuid.UUID, list[str]] = {}

    def body(self, event: Event) -> bytes:
        body = self.bodies.get(event.id)
        if body is None:
            body = self.bodies[event.id] = event_body(event)
        return body

    def secrets_of(self, hook: Webhook, now: datetime) -> list[str]:
        secrets = self.secrets.get(hook.id)
        if secrets is None:
            secrets = self.secrets[hook.id] = signing_secrets(self.settings, hook, now)
        return secrets


def new_claim(
    delivery_id: uuid.UUID,
    hook: Webhook,
    event: Event,
    attempt_number: int,
    series_attempt: int,
    trigger: AttemptTrigger,
    now: datetime,
    cache: ClaimCache,
) -> Claim:
    return Claim(
        delivery_id=delivery_id,
        account_id=hook.account_id,
        webhook_id=hook.id,
        attempt_number=attempt_number,
        series_attempt=series_attempt,
        trigger=trigger,
        url=hook.url,
        event_id=event.id,
        body=cache.body(event),
        secrets=cache.secrets_of(hook, now),
    )


def first_claims(
    created: Sequence[repository.CreatedDelivery],
    events: Sequence[Event],
    hooks: Sequence[Webhook],
    now: datetime,
) -> list[Claim]:
    """Claims of the first attempts of deliveries a fan-out just created leased to itself
    (`insert_deliveries_many(leased_until=...)`): the rows are the fan-out's own, so nothing
    needs locking or reading back."""
    by_event = {event.id: event for event in events}
    by_hook = {hook.id: hook for hook in hooks}
    cache = ClaimCache(get_settings())
    return [
        new_claim(
            row.id,
            by_hook[row.webhook_id],
            by_event[row.event_id],
            1,
            1,
            AttemptTrigger.scheduled,
            now,
            cache,
        )
        for row in created
        if row.status == DeliveryStatus.pending
    ]


async def claim_deliveries(
    delivery_ids: Sequence[uuid.UUID], *, release: bool = False
) -> list[Claim]:
    """Take the deliveries that are due (or, with `release`, held) for one attempt each.

    One transaction for the whole batch: rows another attempt holds are skipped, every claimed
    row gets the same lease, held and closed rows are updated a statement per outcome. A
    delivery that is not claimed is simply absent from the answer.
    """
    claims: list[Claim] = []
    cache = ClaimCache(get_settings())
    async with unit_of_work() as session:
        found = await repository.deliveries_to_attempt(session, delivery_ids)
        now = datetime.now(UTC)
        claimed: list[uuid.UUID] = []
        held: list[uuid.UUID] = []
        closed: dict[str, list[uuid.UUID]] = defaultdict(list)
        for delivery, hook, event in found:
            if release:
                if delivery.status != DeliveryStatus.held:
                    continue
            elif delivery.status not in (DeliveryStatus.pending, DeliveryStatus.retrying):
                continue
            elif (
                delivery.next_attempt_at is not None
                and delivery.next_attempt_at > now + DUE_TOLERANCE
            ):
                continue  # not due yet, or another attempt holds the lease
            if hook.deleted_at is not None:
                closed["the webhook was deleted"].append(delivery.id)
                continue
            if hook.status == WebhookStatus.disabled:
                closed["the webhook is disabled"].append(delivery.id)
                continue
            if hook.status == WebhookStatus.paused:
                # Pause holds deliveries, retries included; activate sends them in event order.
                held.append(delivery.id)
                continue
            attempt_number = delivery.attempt_count + 1
            series_attempt = attempt_number - delivery.schedule_offset
            trigger = AttemptTrigger.release if release else AttemptTrigger.scheduled
            if not release and delivery.schedule_offset > 0 and series_attempt == 1:
                trigger = AttemptTrigger.redelivery
            claimed.append(delivery.id)
            claims.append(
                new_claim(
                    delivery.id, hook, event, attempt_number, series_attempt, trigger, now, cache
                )
            )
        lease = lease_end(now)
        await repository.set_deliveries(
            session, claimed, status=DeliveryStatus.pending, next_attempt_at=lease
        )
        await repository.set_deliveries(
            session, held, status=DeliveryStatus.held, next_attempt_at=None
        )
        for reason, ids in closed.items():
            await repository.set_deliveries(
                session,
                ids,
                status=DeliveryStatus.failed,
                last_error=reason,
                next_attempt_at=None,
                completed_at=now,
            )
    return claims


async def claim_delivery(delivery_id: uuid.UUID, *, release: bool = False) -> Claim | None:
    """Take one delivery for one attempt, or None when there is nothing to send now."""
    claims = await claim_deliveries([delivery_id], release=release)
    return claims[0] if claims else None


# Requests in flight per pooled client (see `guarded_client`'s lanes); `max_concurrent_sends`
# sets how many lanes a process uses.
LANE_WIDTH = 8


class _Lanes:
    """The process's delivery lanes: one pooled guarded client and one semaphore each."""

    def __init__(self, total: int) -> None:
        self.count = max(1, -(-total // LANE_WIDTH))
        self.slots = [asyncio.Semaphore(LANE_WIDTH) for _ in range(self.count)]
        self._next = 0

    def pick(self) -> int:
        # The least busy lane, so a slow receiver on one lane does not hold up the others.
        best = self._next = (self._next + 1) % self.count
        for offset in range(self.count):
            lane = (self._next + offset) % self.count
            if not self.slots[lane].locked():
                return lane
        return best


_lanes: _Lanes | None = None


def _delivery_lanes() -> _Lanes:
    global _lanes
    if _lanes is None:
        _lanes = _Lanes(get_settings().webhooks.max_concurrent_sends)
    return _lanes


async def send_claimed(claim: Claim) -> AttemptResult:
    settings = get_settings()
    lanes = _delivery_lanes()
    lane = lanes.pick()
    async with lanes.slots[lane]:
        # The guard runs at connect time, on the address actually connected to: the name may
        # resolve elsewhere than when the URL was saved (DNS rebinding), and there is no second
        # lookup. The transports are the process's pooled ones, so receivers keep their connections.
        return await send_delivery(
            guarded_transport(webhook_policy(settings), lane),
            url=claim.url,
            event_id=claim.event_id,
            body=claim.body,
            secrets=claim.secrets,
            timeout_s=settings.webhooks.timeout_seconds,
        )


def _retry_delay(series_attempt: int) -> timedelta | None:
    delay = retry_schedule.next_attempt_delay(series_attempt)
    if delay is None:
        return None
    return delay * get_settings().webhooks.retry_delay_scale


async def _disable(session: AsyncSession, hook: Webhook, reason: str, now: datetime) -> None:
    if not await repository.disable_webhook(session, hook.id, reason, now):
        return  # a concurrent attempt disabled it (and announced it) first
    emit(
        session,
        WEBHOOK_DISABLED,
        WebhookDisabled(webhook_id=hook.id, reason=reason),
        account_id=hook.account_id,
        actor=Actor.system(),
    )
    logger.warning("webhook %s disabled: %s", hook.id, reason)


@dataclass(frozen=True)
class Recorded:
    """The delivery's state after an attempt, and when the next one is due (if any)."""

    status: DeliveryStatus
    next_attempt: int | None = None
    retry_in: timedelta | None = None


@dataclass
class _Health:
    """A webhook's health as this batch has left it (each change is one conditional UPDATE)."""

    first_failure_at: datetime | None
    last_success_at: datetime | None
    disabled: bool = False


async def record_attempts(
    attempts: Sequence[tuple[Claim, AttemptResult]],
) -> dict[uuid.UUID, Recorded]:
    """Record a batch of attempts in one transaction: the deliveries' new states (one
    statement), the attempt rows (one statement) and each webhook's health."""
    recorded: dict[uuid.UUID, Recorded] = {}
    if not attempts:
        return recorded
    async with unit_of_work() as session:
        # Webhooks are read without a lock: every delivery of a busy webhook records here, and
        # the health updates are single conditional statements that tolerate each other.
        found = await repository.deliveries_to_record(
            session, [claim.delivery_id for claim, _ in attempts]
        )
        rows = {delivery.id: (delivery, hook) for delivery, hook in found}
        now = datetime.now(UTC)
        health: dict[uuid.UUID, _Health] = {}
        states: list[dict[str, Any]] = []
        attempt_rows: list[dict[str, Any]] = []
        for claim, result in attempts:
            row = rows.get(claim.delivery_id)
            if row is None:
                continue
            delivery, hook = row
            state = health.setdefault(hook.id, _Health(hook.first_failure_at, hook.last_success_at))
            next_at: datetime | None = None
            retry_in: timedelta | None = None
            completed_at: datetime | None = delivery.completed_at
            gone = result.error is None and retry_schedule.should_disable_endpoint(
                result.response_status
            )
            if result.succeeded:
                status = DeliveryStatus.succeeded
                completed_at = now
                if (
                    state.first_failure_at is not None
                    or state.last_success_at is None
                    or now - state.last_success_at > HEALTH_RESOLUTION
                ):
                    await repository.mark_webhook_healthy(session, hook.id, now)
                    state.first_failure_at, state.last_success_at = None, now
            else:
                delay = (
                    _retry_delay(claim.series_attempt)
                    if retry_schedule.is_retryable(result.response_status, result.error)
                    else None
                )
                if delay is not None and not gone:
                    status = DeliveryStatus.retrying
                    next_at, retry_in = now + delay, delay
                else:
                    status = DeliveryStatus.failed
                    completed_at = now
                if state.first_failure_at is None:
                    await repository.mark_webhook_failing(session, hook.id, now)
                    state.first_failure_at = now
                if state.disabled:
                    pass
                elif gone:
                    state.disabled = True
                    await _disable(session, hook, "the receiver answered 410 Gone", now)
                elif retry_schedule.should_disable(
                    state.first_failure_at, now, state.last_success_at
                ):
                    state.disabled = True
                    await _disable(
                        session,
                        hook,
                        f"every delivery failed for {retry_schedule.DISABLE_AFTER.days} days",
                        now,
                    )
            states.append(
                {
                    "id": delivery.id,
                    "status": status,
                    "attempt_count": max(delivery.attempt_count, claim.attempt_number),
                    "last_status_code": result.response_status,
                    "last_error": result.error,
                    "next_attempt_at": next_at,
                    "completed_at": completed_at,
                }
            )
            attempt_rows.append(
                {
                    "id": new_id(),
                    "account_id": claim.account_id,
                    "delivery_id": claim.delivery_id,
                    "attempt_number": claim.attempt_number,
                    "request_headers": result.request_headers,
                    "response_status": result.response_status,
                    "response_headers": result.response_headers,
                    "response_body_excerpt": result.response_body_excerpt,
                    "duration_ms": result.duration_ms,
                    "error": result.error,
                    "next_attempt_at": next_at,
                    "trigger": claim.trigger,
                    "created_at": now,
                }
            )
            recorded[claim.delivery_id] = (
                Recorded(status)
                if retry_in is None
                else Recorded(status, claim.attempt_number + 1, retry_in)
            )
        await repository.record_deliveries(session, states)
        await repository.insert_attempts(session, attempt_rows)
    return recorded


async def record_attempt(claim: Claim, result: AttemptResult) -> Recorded | None:
    return (await record_attempts([(claim, result)])).get(claim.delivery_id)


async def attempt_deliveries(
    delivery_ids: Sequence[uuid.UUID], *, release: bool = False
) -> dict[uuid.UUID, Recorded]:
    """Claim, send (concurrently) and record one attempt of each delivery that is due.

    The caller (a job) queues the retries the answers ask for."""
    return await send_and_record(await claim_deliveries(delivery_ids, release=release))


async def send_and_record(claims: Sequence[Claim]) -> dict[uuid.UUID, Recorded]:
    """Send every claimed attempt concurrently, then record them all in one transaction.

    The caller (a job) queues the retries the answers ask for."""
    if not claims:
        return {}
    results = await asyncio.gather(*(send_claimed(claim) for claim in claims))
    return await record_attempts(list(zip(claims, results, strict=True)))


async def attempt_delivery(delivery_id: uuid.UUID, *, release: bool = False) -> Recorded | None:
    """Claim, send and record one attempt; None when the delivery was not due or not sendable."""
    return (await attempt_deliveries([delivery_id], release=release)).get(delivery_id)
