"""One delivery attempt, in three steps that never hold a database transaction over the network.

1. `claim_delivery`: lock the row, check it is due and its webhook still takes deliveries, and
   push `next_attempt_at` out by a lease so a duplicate job (arq is at-least-once) or the sweeper
   leaves it alone while the request is in flight. A worker that dies mid-request loses the lease
   and the sweeper sends the delivery again: delivery is at-least-once, receivers dedupe on
   `webhook-id`.
2. `send_claimed`: the signed POST (`sender.send_delivery`, never raises) through the SSRF-guarded
   client, which checks the address of every connection it opens.
3. `record_attempt`: one `webhook_attempts` row, the delivery's new state, the next attempt
   scheduled per `retry_schedule`, and the webhook's health (410 Gone or five days of failures
   disable it and emit `webhook.disabled`).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import unit_of_work
from ticaret.core.events import Actor, emit, event_payload
from ticaret.core.http import guarded_client
from ticaret.core.security import secret_box
from ticaret.models import (
    AttemptTrigger,
    DeliveryStatus,
    Event,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
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


def _close(delivery: WebhookDelivery, reason: str, now: datetime) -> None:
    delivery.status = DeliveryStatus.failed
    delivery.last_error = reason
    delivery.next_attempt_at = None
    delivery.completed_at = now


async def claim_delivery(delivery_id: uuid.UUID, *, release: bool = False) -> Claim | None:
    """Take the delivery for one attempt, or None when there is nothing to send now.

    `release` claims a held delivery of a webhook that was just activated.
    """
    settings = get_settings()
    async with unit_of_work() as session:
        found = await repository.delivery_to_attempt(session, delivery_id)
        if found is None:
            return None
        delivery, hook, event = found
        now = datetime.now(UTC)
        if release:
            if delivery.status != DeliveryStatus.held:
                return None
        elif delivery.status not in (DeliveryStatus.pending, DeliveryStatus.retrying):
            return None
        elif (
            delivery.next_attempt_at is not None and delivery.next_attempt_at > now + DUE_TOLERANCE
        ):
            return None  # not due yet, or another attempt holds the lease
        if hook.deleted_at is not None:
            _close(delivery, "the webhook was deleted", now)
            return None
        if hook.status == WebhookStatus.disabled:
            _close(delivery, "the webhook is disabled", now)
            return None
        if hook.status == WebhookStatus.paused:
            # Pause holds deliveries, retries included; activate sends them in event order.
            delivery.status = DeliveryStatus.held
            delivery.next_attempt_at = None
            return None
        attempt_number = delivery.attempt_count + 1
        series_attempt = attempt_number - delivery.schedule_offset
        trigger = AttemptTrigger.release if release else AttemptTrigger.scheduled
        if not release and delivery.schedule_offset > 0 and series_attempt == 1:
            trigger = AttemptTrigger.redelivery
        delivery.status = DeliveryStatus.pending
        delivery.next_attempt_at = (
            now + timedelta(seconds=settings.webhooks.timeout_seconds) + LEASE_MARGIN
        )
        return Claim(
            delivery_id=delivery.id,
            account_id=delivery.account_id,
            webhook_id=hook.id,
            attempt_number=attempt_number,
            series_attempt=series_attempt,
            trigger=trigger,
            url=hook.url,
            event_id=event.id,
            body=event_body(event),
            secrets=signing_secrets(settings, hook, now),
        )


async def send_claimed(claim: Claim) -> AttemptResult:
    settings = get_settings()
    # The guard runs at connect time, on the address actually connected to: the name may resolve
    # elsewhere than when the URL was saved (DNS rebinding), and there is no second lookup.
    return await send_delivery(
        guarded_client(webhook_policy(settings)),
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


async def record_attempt(claim: Claim, result: AttemptResult) -> Recorded | None:
    async with unit_of_work() as session:
        # The webhook is read without a lock: every delivery of a busy webhook records here, and
        # the health updates below are single conditional statements that tolerate each other.
        found = await repository.delivery_to_record(session, claim.delivery_id)
        if found is None:
            return None
        delivery, hook = found
        now = datetime.now(UTC)
        next_at: datetime | None = None
        retry_in: timedelta | None = None
        delivery.attempt_count = max(delivery.attempt_count, claim.attempt_number)
        delivery.last_status_code = result.response_status
        delivery.last_error = result.error
        gone = result.error is None and retry_schedule.should_disable_endpoint(
            result.response_status
        )
        if result.succeeded:
            delivery.status = DeliveryStatus.succeeded
            delivery.next_attempt_at = None
            delivery.completed_at = now
            if (
                hook.first_failure_at is not None
                or hook.last_success_at is None
                or now - hook.last_success_at > HEALTH_RESOLUTION
            ):
                await repository.mark_webhook_healthy(session, hook.id, now)
        else:
            delay = (
                _retry_delay(claim.series_attempt)
                if retry_schedule.is_retryable(result.response_status, result.error)
                else None
            )
            if delay is not None and not gone:
                next_at, retry_in = now + delay, delay
                delivery.status = DeliveryStatus.retrying
                delivery.next_attempt_at = next_at
            else:
                delivery.status = DeliveryStatus.failed
                delivery.next_attempt_at = None
                delivery.completed_at = now
            first_failure_at = hook.first_failure_at or now
            if hook.first_failure_at is None:
                await repository.mark_webhook_failing(session, hook.id, now)
            if gone:
                await _disable(session, hook, "the receiver answered 410 Gone", now)
            elif retry_schedule.should_disable(first_failure_at, now, hook.last_success_at):
                await _disable(
                    session,
                    hook,
                    f"every delivery failed for {retry_schedule.DISABLE_AFTER.days} days",
                    now,
                )
        session.add(
            WebhookAttempt(
                account_id=claim.account_id,
                delivery_id=claim.delivery_id,
                attempt_number=claim.attempt_number,
                request_headers=result.request_headers,
                response_status=result.response_status,
                response_headers=result.response_headers,
                response_body_excerpt=result.response_body_excerpt,
                duration_ms=result.duration_ms,
                error=result.error,
                next_attempt_at=next_at,
                trigger=claim.trigger,
                created_at=now,
            )
        )
        if retry_in is None:
            return Recorded(DeliveryStatus(delivery.status))
        return Recorded(DeliveryStatus(delivery.status), claim.attempt_number + 1, retry_in)


async def attempt_delivery(delivery_id: uuid.UUID, *, release: bool = False) -> Recorded | None:
    """Claim, send and record one attempt; None when the delivery was not due or not sendable.

    The caller (a job) queues the retry the answer asks for."""
    claim = await claim_delivery(delivery_id, release=release)
    if claim is None:
        return None
    result = await send_claimed(claim)
    return await record_attempt(claim, result)
