"""Webhook endpoints of an account: settings, lifecycle, delivery history, tests, redelivery."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.core.errors import Conflict, NotFound, ValidationFailed, VersionConflict
from ticaret.core.events import emit
from ticaret.core.queue import enqueue_after_commit
from ticaret.core.security import secret_box
from ticaret.models import (
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookStatus,
)
from ticaret.settings import Settings
from ticaret.webhooks import repository
from ticaret.webhooks.delivery import schedule_delivery
from ticaret.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)
from ticaret.webhooks.signing import generate_secret
from ticaret.webhooks.tasks import RELEASE_JOB
from ticaret.webhooks.url_guard import UnsafeWebhookUrl, check_target_url


def webhook_out(hook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        account_id=hook.account_id,
        url=hook.url,
        description=hook.description,
        events=list(hook.events),
        status=WebhookStatus(hook.status),
        disabled_reason=hook.disabled_reason,
        disabled_at=hook.disabled_at,
        failing_since=hook.first_failure_at,
        last_success_at=hook.last_success_at,
        previous_secret_expires_at=hook.previous_secret_expires_at,
        created_at=hook.created_at,
        updated_at=hook.updated_at,
        entity_version=hook.entity_version,
    )


def _with_secret(hook: Webhook, secret: str | None) -> WebhookWithSecret:
    return WebhookWithSecret(**webhook_out(hook).model_dump(), secret=secret)


def attempt_out(attempt: WebhookAttempt) -> AttemptOut:
    return AttemptOut.model_validate(attempt)


def delivery_out(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        status=DeliveryStatus(delivery.status),
        attempt_count=delivery.attempt_count,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
        completed_at=delivery.completed_at,
        attempts=[attempt_out(a) for a in attempts],
    )


async def _checked_url(settings: Settings, url: str) -> str:
    try:
        await check_target_url(url, allow_private=settings.webhooks.allow_private_targets)
    except UnsafeWebhookUrl as exc:
        raise ValidationFailed(
            f"This URL cannot receive webhooks: {exc}.",
            code="unsafe_webhook_url",
            details={"fields": [{"path": "url", "message": str(exc)}]},
        ) from exc
    return url


async def _webhook_or_404(
    session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID, *, for_update: bool = False
) -> Webhook:
    hook = await repository.webhook(session, ctx.account_id, webhook_id, for_update=for_update)
    if hook is None:
        raise NotFound("Webhook not found.")
    return hook


async def _refreshed(session: AsyncSession, hook: Webhook) -> Webhook:
    await session.flush()
    await session.refresh(hook)
    return hook


async def list_webhooks(
    session: AsyncSession, ctx: AccountContext, page: PageParams
) -> Page[WebhookOut]:
    fetched = await repository.webhooks_page(session, ctx.account_id, page.after_id(), page.limit)
    kept, cursor, more = build_page(fetched, page.limit, lambda w: [w.id])
    return Page[WebhookOut](rows=[webhook_out(w) for w in kept], next_cursor=cursor, has_more=more)


async def create_webhook(
    session: AsyncSession, settings: Settings, ctx: AccountContext, body: WebhookCreate
) -> WebhookWithSecret:
    url = await _checked_url(settings, body.url)
    secret = generate_secret()
    hook = Webhook(
        account_id=ctx.account_id,
        url=url,
        description=body.description,
        events=body.events,
        status=WebhookStatus.active,
        secret_encrypted=secret_box(settings).encrypt(secret),
    )
    session.add(hook)
    return _with_secret(await _refreshed(session, hook), secret)


async def get_webhook(
    session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID
) -> WebhookOut:
    return webhook_out(await _webhook_or_404(session, ctx, webhook_id))


async def update_webhook(
    session: AsyncSession,
    settings: Settings,
    ctx: AccountContext,
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    expected_version: str | None,
) -> WebhookWithSecret:
    hook = await _webhook_or_404(session, ctx, webhook_id, for_update=True)
    if expected_version is not None and expected_version != hook.entity_version:
        raise VersionConflict(details={"currentEntityVersion": hook.entity_version})
    if body.url is not None and body.url != hook.url:
        hook.url = await _checked_url(settings, body.url)
    if body.events is not None:
        hook.events = body.events
    if "description" in body.model_fields_set:
        hook.description = body.description
    secret: str | None = None
    if body.rotate_secret:
        secret = generate_secret()
        hook.previous_secret_encrypted = hook.secret_encrypted
        hook.previous_secret_expires_at = datetime.now(UTC) + timedelta(
            seconds=settings.webhooks.rotation_grace_seconds
        )
        hook.secret_encrypted = secret_box(settings).encrypt(secret)
    if session.is_modified(hook):
        hook = await _refreshed(session, hook)
    return _with_secret(hook, secret)


async def delete_webhook(session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID) -> None:
    hook = await _webhook_or_404(session, ctx, webhook_id, for_update=True)
    now = datetime.now(UTC)
    hook.deleted_at = now
    await repository.close_open_deliveries(
        session, ctx.account_id, hook.id, "the webhook was deleted", now
    )
    await session.flush()


async def pause_webhook(
    session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID
) -> WebhookOut:
    hook = await _webhook_or_404(session, ctx, webhook_id, for_update=True)
    if hook.status == WebhookStatus.disabled:
        raise Conflict(
            "This webhook is disabled; activate it instead of pausing it.",
            code="webhook_disabled",
        )
    if hook.status == WebhookStatus.active:
        hook.status = WebhookStatus.paused
        hook = await _refreshed(session, hook)
    return webhook_out(hook)


async def activate_webhook(
    session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID
) -> WebhookOut:
    hook = await _webhook_or_404(session, ctx, webhook_id, for_update=True)
    if hook.status != WebhookStatus.active:
        hook.status = WebhookStatus.active
        hook.disabled_reason = None
        hook.disabled_at = None
        # A fresh start: the five-day failure clock begins again.
        hook.first_failure_at = None
        hook = await _refreshed(session, hook)
        # Held deliveries go out in event order, one at a time, from a single job.
        enqueue_after_commit(
            session,
            RELEASE_JOB,
            str(hook.id),
            job_id=f"{RELEASE_JOB}:{hook.id}:{hook.entity_version}",
        )
    return webhook_out(hook)


async def list_deliveries(
    session: AsyncSession,
    ctx: AccountContext,
    webhook_id: uuid.UUID,
    page: PageParams,
    *,
    status: DeliveryStatus | None,
    event_type: str | None,
    event_id: str | None,
) -> Page[DeliveryOut]:
    await _webhook_or_404(session, ctx, webhook_id)
    fetched = await repository.deliveries_page(
        session,
        ctx.account_id,
        webhook_id,
        after=page.after_id(),
        limit=page.limit,
        status=status,
        event_type=event_type,
        event_id=event_id,
    )
    kept, cursor, more = build_page(fetched, page.limit, lambda d: [d.id])
    attempts = await repository.attempts_by_delivery(session, ctx.account_id, [d.id for d in kept])
    return Page[DeliveryOut](
        rows=[delivery_out(d, attempts.get(d.id, [])) for d in kept],
        next_cursor=cursor,
        has_more=more,
    )


async def get_delivery(
    session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryOut:
    delivery = await repository.delivery(session, ctx.account_id, webhook_id, delivery_id)
    if delivery is None:
        raise NotFound("Delivery not found.")
    attempts = await repository.attempts_by_delivery(session, ctx.account_id, [delivery.id])
    return delivery_out(delivery, attempts.get(delivery.id, []))


async def send_test_event(
    session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID
) -> DeliveryOut:
    hook = await _webhook_or_404(session, ctx, webhook_id)
    if hook.status == WebhookStatus.disabled:
        raise Conflict("Activate this webhook before testing it.", code="webhook_disabled")
    event = emit(
        session,
        account_id=ctx.account_id,
        type="webhook.test",
        data={"webhookId": str(hook.id), "message": "A test event sent from Ticaret."},
        actor=ctx.actor,
    )
    await session.flush()
    await session.refresh(event)
    # Created here (not by the fan-out job) so the caller gets the delivery to follow;
    # the fan-out of this event then finds it already there.
    created = await repository.insert_deliveries(session, event, [hook], datetime.now(UTC))
    if not created:
        raise Conflict("The test delivery could not be created.", code="test_not_created")
    delivery_id, status = created[0]
    if status == DeliveryStatus.pending:
        schedule_delivery(session, delivery_id, 1)
    delivery = await repository.delivery(session, ctx.account_id, hook.id, delivery_id)
    assert delivery is not None
    return delivery_out(delivery, [])


async def redeliver(
    session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryOut:
    hook = await _webhook_or_404(session, ctx, webhook_id)
    delivery = await repository.delivery(
        session, ctx.account_id, webhook_id, delivery_id, for_update=True
    )
    if delivery is None:
        raise NotFound("Delivery not found.")
    if hook.status == WebhookStatus.disabled:
        raise Conflict("Activate this webhook before redelivering.", code="webhook_disabled")
    if delivery.status == DeliveryStatus.held:
        raise Conflict(
            "This delivery is held while the webhook is paused; activate the webhook to send it.",
            code="delivery_held",
        )
    if delivery.status == DeliveryStatus.pending:
        raise Conflict("This delivery is being attempted right now.", code="delivery_in_progress")
    # A new retry series: attempts are numbered on, history is kept.
    delivery.status = DeliveryStatus.pending
    delivery.schedule_offset = delivery.attempt_count
    delivery.next_attempt_at = datetime.now(UTC)
    delivery.completed_at = None
    await session.flush()
    await session.refresh(delivery)
    schedule_delivery(session, delivery.id, delivery.attempt_count + 1, fresh_job=True)
    attempts = await repository.attempts_by_delivery(session, ctx.account_id, [delivery.id])
    return delivery_out(delivery, attempts.get(delivery.id, []))
