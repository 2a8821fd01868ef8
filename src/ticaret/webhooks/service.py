"""Webhook endpoints of an account: settings, lifecycle, delivery history, tests, redelivery."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.core.events import D, EventType, emit
from ticaret.core.security import secret_box
from ticaret.core.versioning import check_version
from ticaret.models import (
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookStatus,
)
from ticaret.settings import Settings
from ticaret.webhooks import repository
from ticaret.webhooks.errors import (
    DeliveryHeld,
    DeliveryInProgress,
    DeliveryNotFound,
    TestNotCreated,
    UnsafeWebhookTarget,
    WebhookDisabled,
    WebhookNotFound,
)
from ticaret.webhooks.events import (
    WEBHOOK_ACTIVATED,
    WEBHOOK_CREATED,
    WEBHOOK_DELETED,
    WEBHOOK_PAUSED,
    WEBHOOK_TEST,
    WEBHOOK_UPDATED,
    WebhookActivated,
    WebhookCreated,
    WebhookRef,
    WebhookTest,
    WebhookUpdated,
)
from ticaret.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)
from ticaret.webhooks.signing import generate_secret
from ticaret.webhooks.tasks import (
    release_held_deliveries,
    release_job_id,
    schedule_delivery,
    webhooks_changed,
)
from ticaret.webhooks.url_guard import UnsafeWebhookUrl, check_target_url


def webhook_out(hook: Webhook) -> WebhookOut:
    return WebhookOut.model_validate(hook)


def _with_secret(hook: Webhook, secret: str | None) -> WebhookWithSecret:
    return from_row(WebhookWithSecret, hook, secret=secret)


def delivery_out(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryOut:
    return from_row(
        DeliveryOut, delivery, attempts=[AttemptOut.model_validate(a) for a in attempts]
    )


async def _checked_url(settings: Settings, url: str) -> str:
    try:
        await check_target_url(url, allow_private=settings.webhooks.allow_private_targets)
    except UnsafeWebhookUrl as exc:
        raise UnsafeWebhookTarget(
            f"This URL cannot receive webhooks: {exc}.",
            details={"fields": [{"path": "url", "message": str(exc)}]},
        ) from exc
    return url


async def _webhook_or_404(
    session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID, *, for_update: bool = False
) -> Webhook:
    hook = await repository.webhook(session, ctx.account_id, webhook_id, for_update=for_update)
    if hook is None:
        raise WebhookNotFound()
    return hook


def _record(ctx: AccountContext, session: AsyncSession, type: EventType[D], data: D) -> None:
    """The audit trail: who changed a webhook, as an event (never its URL or secret)."""
    emit(session, type, data, account_id=ctx.account_id, actor=ctx.actor)


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
    await session.flush()
    webhooks_changed(session, ctx.account_id)
    _record(ctx, session, WEBHOOK_CREATED, WebhookCreated(webhook_id=hook.id, events=hook.events))
    return _with_secret(hook, secret)


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
    check_version(hook, expected_version)
    changed: list[str] = []
    if body.url is not None and body.url != hook.url:
        hook.url = await _checked_url(settings, body.url)
        changed.append("url")
    if body.events is not None and body.events != hook.events:
        hook.events = body.events
        changed.append("events")
    if "description" in body.model_fields_set and body.description != hook.description:
        hook.description = body.description
        changed.append("description")
    secret: str | None = None
    if body.rotate_secret:
        changed.append("secret")
        secret = generate_secret()
        hook.previous_secret_encrypted = hook.secret_encrypted
        hook.previous_secret_expires_at = datetime.now(UTC) + timedelta(
            seconds=settings.webhooks.rotation_grace_seconds
        )
        hook.secret_encrypted = secret_box(settings).encrypt(secret)
    if changed:
        await session.flush()
        _record(ctx, session, WEBHOOK_UPDATED, WebhookUpdated(webhook_id=hook.id, changed=changed))
    return _with_secret(hook, secret)


async def delete_webhook(session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID) -> None:
    hook = await _webhook_or_404(session, ctx, webhook_id, for_update=True)
    now = datetime.now(UTC)
    hook.deleted_at = now
    await repository.close_open_deliveries(
        session, ctx.account_id, hook.id, "the webhook was deleted", now
    )
    await session.flush()
    _record(ctx, session, WEBHOOK_DELETED, WebhookRef(webhook_id=hook.id))


async def pause_webhook(
    session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID
) -> WebhookOut:
    hook = await _webhook_or_404(session, ctx, webhook_id, for_update=True)
    if hook.status == WebhookStatus.disabled:
        raise WebhookDisabled("This webhook is disabled; activate it instead of pausing it.")
    if hook.status == WebhookStatus.active:
        hook.status = WebhookStatus.paused
        await session.flush()
        _record(ctx, session, WEBHOOK_PAUSED, WebhookRef(webhook_id=hook.id))
    return webhook_out(hook)


async def activate_webhook(
    session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID
) -> WebhookOut:
    hook = await _webhook_or_404(session, ctx, webhook_id, for_update=True)
    if hook.status != WebhookStatus.active:
        webhooks_changed(session, ctx.account_id)
        _record(
            ctx,
            session,
            WEBHOOK_ACTIVATED,
            WebhookActivated(webhook_id=hook.id, previous_status=WebhookStatus(hook.status)),
        )
        hook.status = WebhookStatus.active
        hook.disabled_reason = None
        hook.disabled_at = None
        # A fresh start: the five-day failure clock begins again.
        hook.first_failure_at = None
        await session.flush()
        # Held deliveries go out in event order, one at a time, from a single job.
        release_held_deliveries.options(
            job_id=release_job_id(hook.id, hook.entity_version)
        ).after_commit(session, str(hook.id))
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
        raise DeliveryNotFound()
    attempts = await repository.attempts_by_delivery(session, ctx.account_id, [delivery.id])
    return delivery_out(delivery, attempts.get(delivery.id, []))


async def send_test_event(
    session: AsyncSession, ctx: AccountContext, webhook_id: uuid.UUID
) -> DeliveryOut:
    hook = await _webhook_or_404(session, ctx, webhook_id)
    if hook.status == WebhookStatus.disabled:
        raise WebhookDisabled("Activate this webhook before testing it.")
    event = emit(
        session,
        WEBHOOK_TEST,
        WebhookTest(webhook_id=hook.id, message="A test event sent from Ticaret."),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    await session.flush()
    # Created here (not by the fan-out job) so the caller gets the delivery to follow;
    # the fan-out of this event then finds it already there.
    created = await repository.insert_deliveries_many(session, [(event, hook)], datetime.now(UTC))
    if not created:
        raise TestNotCreated()
    delivery_id, status = created[0].id, created[0].status
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
        raise DeliveryNotFound()
    if hook.status == WebhookStatus.disabled:
        raise WebhookDisabled("Activate this webhook before redelivering.")
    if delivery.status == DeliveryStatus.held:
        raise DeliveryHeld()
    if delivery.status == DeliveryStatus.pending:
        raise DeliveryInProgress()
    # A new retry series: attempts are numbered on, history is kept.
    delivery.status = DeliveryStatus.pending
    delivery.schedule_offset = delivery.attempt_count
    delivery.next_attempt_at = datetime.now(UTC)
    delivery.completed_at = None
    await session.flush()
    schedule_delivery(session, delivery.id, delivery.attempt_count + 1, fresh_job=True)
    attempts = await repository.attempts_by_delivery(session, ctx.account_id, [delivery.id])
    return delivery_out(delivery, attempts.get(delivery.id, []))
