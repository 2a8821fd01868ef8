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

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import unit_of_work
from ticaret.core.events import Actor, emit, event_payload
from ticaret.core.http import guarded_client
from ticaret.core.queue import enqueue_after_commit
from ticaret.core.security import secret_box
from ticaret.models import (
    DeliveryStatus,
    Event,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookStatus,
)
from ticaret.settings import Settings, get_settings
from ticaret.webhooks import retry_schedule
from ticaret.webhooks.sender import AttemptResult, send_delivery
from ticaret.webhooks.url_guard import webhook_policy

logger = logging.getLogger("ticaret.webhooks")

DELIVER_JOB = "deliver_webhook"
# A job may start a little before its row's due time (clock skew between worker and database).
DUE_TOLERANCE = timedelta(seconds=2)
# Beyond the request timeout, room for the DNS check and recording the attempt.
LEASE_MARGIN = timedelta(seconds=30)
# lastSuccessAt is refreshed at most this often while healthy: one write per delivery would make
# every delivery of a busy webhook queue on the same row.
HEALTH_RESOLUTION = timedelta(seconds=60)


def deliver_job_id(delivery_id: uuid.UUID | str, attempt_number: int) -> str:
    # One arq job per attempt: the next attempt can be queued while this one's job still exists.
    return f"{DELIVER_JOB}:{delivery_id}:{attempt_number}"


def schedule_delivery(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    attempt_number: int,
    defer_by: timedelta | None = None,
    *,
    fresh_job: bool = False,
) -> None:
    """Queue the attempt once the session commits.

    `fresh_job` gives the job a unique id, for a redelivery that must not wait behind a retry
    already queued for the same attempt number (that one finds nothing due when it runs).
    """
    job_id = deliver_job_id(delivery_id, attempt_number)
    if fresh_job:
        job_id += f":{uuid.uuid4().hex[:12]}"
    enqueue_after_commit(
        session,
        DELIVER_JOB,
        str(delivery_id),
        job_id=job_id,
        defer_by=defer_by,
    )


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
    trigger: str
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
        # One round trip: the delivery (locked), its webhook and its event.
        row = (
            await session.execute(
                select(WebhookDelivery, Webhook, Event)
                .join(
                    Webhook,
                    (Webhook.id == WebhookDelivery.webhook_id)
                    & (Webhook.account_id == WebhookDelivery.account_id),
                )
                .join(Event, Event.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.id == delivery_id)
                .with_for_update(of=WebhookDelivery, skip_locked=True)
            )
        ).first()
        if row is None:
            return None
        delivery, hook, event = row.tuple()
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
        trigger = "release" if release else "scheduled"
        if not release and delivery.schedule_offset > 0 and series_attempt == 1:
            trigger = "redelivery"
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
    disabled = await session.scalar(
        update(Webhook)
        .where(Webhook.id == hook.id, Webhook.status != WebhookStatus.disabled)
        .values(
            status=WebhookStatus.disabled,
            disabled_reason=reason,
            disabled_at=now,
            version=Webhook.version + 1,
        )
        .returning(Webhook.id)
        .execution_options(synchronize_session=False)
    )
    if disabled is None:
        return  # a concurrent attempt disabled it (and announced it) first
    emit(
        session,
        account_id=hook.account_id,
        type="webhook.disabled",
        # No URL: it may carry a token, and viewers watch events in the console.
        data={"webhookId": str(hook.id), "reason": reason},
        actor=Actor.system(),
    )
    logger.warning("webhook %s disabled: %s", hook.id, reason)


async def record_attempt(claim: Claim, result: AttemptResult) -> DeliveryStatus | None:
    async with unit_of_work() as session:
        # The webhook is read without a lock: every delivery of a busy webhook records here, and
        # the health updates below are single conditional statements that tolerate each other.
        row = (
            await session.execute(
                select(WebhookDelivery, Webhook)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.id == claim.delivery_id)
                .with_for_update(of=WebhookDelivery)
            )
        ).first()
        if row is None:
            return None
        delivery, hook = row.tuple()
        now = datetime.now(UTC)
        next_at: datetime | None = None
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
                await session.execute(
                    update(Webhook)
                    .where(Webhook.id == hook.id)
                    .values(last_success_at=now, first_failure_at=None)
                    .execution_options(synchronize_session=False)
                )
        else:
            delay = (
                _retry_delay(claim.series_attempt)
                if retry_schedule.is_retryable(result.response_status, result.error)
                else None
            )
            if delay is not None and not gone:
                next_at = now + delay
                delivery.status = DeliveryStatus.retrying
                delivery.next_attempt_at = next_at
                schedule_delivery(session, delivery.id, claim.attempt_number + 1, delay)
            else:
                delivery.status = DeliveryStatus.failed
                delivery.next_attempt_at = None
                delivery.completed_at = now
            first_failure_at = hook.first_failure_at or now
            if hook.first_failure_at is None:
                await session.execute(
                    update(Webhook)
                    .where(Webhook.id == hook.id, Webhook.first_failure_at.is_(None))
                    .values(first_failure_at=now)
                    .execution_options(synchronize_session=False)
                )
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
        return DeliveryStatus(delivery.status)


async def attempt_delivery(
    delivery_id: uuid.UUID, *, release: bool = False
) -> DeliveryStatus | None:
    """Claim, send and record one attempt; None when the delivery was not due or not sendable."""
    claim = await claim_delivery(delivery_id, release=release)
    if claim is None:
        return None
    result = await send_claimed(claim)
    return await record_attempt(claim, result)
