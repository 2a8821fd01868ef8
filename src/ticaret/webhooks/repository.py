"""SQL for webhooks, deliveries and attempts; every statement is scoped by account."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import (
    DeliveryStatus,
    Event,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookFanout,
    WebhookStatus,
)

OPEN_STATUSES = (DeliveryStatus.pending, DeliveryStatus.held, DeliveryStatus.retrying)


async def webhooks_page(
    session: AsyncSession, account_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[Webhook]:
    stmt = select(Webhook).where(Webhook.account_id == account_id, Webhook.deleted_at.is_(None))
    if after is not None:
        stmt = stmt.where(Webhook.id < after)
    return list(await session.scalars(stmt.order_by(Webhook.id.desc()).limit(limit + 1)))


async def webhook(
    session: AsyncSession, account_id: uuid.UUID, webhook_id: uuid.UUID, *, for_update: bool = False
) -> Webhook | None:
    stmt = select(Webhook).where(
        Webhook.account_id == account_id, Webhook.id == webhook_id, Webhook.deleted_at.is_(None)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def receiving_webhooks(session: AsyncSession, account_id: uuid.UUID) -> list[Webhook]:
    """Webhooks that get deliveries: active ones, and paused ones (which hold them)."""
    return list(
        await session.scalars(
            select(Webhook).where(
                Webhook.account_id == account_id,
                Webhook.deleted_at.is_(None),
                Webhook.status.in_((WebhookStatus.active, WebhookStatus.paused)),
            )
        )
    )


async def insert_deliveries(
    session: AsyncSession, event: Event, targets: Sequence[Webhook], now: datetime
) -> list[tuple[uuid.UUID, str]]:
    """One delivery per target; rows that already exist are left alone (fan-out reruns)."""
    values: list[dict[str, Any]] = [
        {
            "account_id": event.account_id,
            "webhook_id": hook.id,
            "event_id": event.id,
            "event_seq": event.seq,
            "event_type": event.type,
            "status": DeliveryStatus.held
            if hook.status == WebhookStatus.paused
            else DeliveryStatus.pending,
            "next_attempt_at": None if hook.status == WebhookStatus.paused else now,
        }
        for hook in targets
    ]
    if not values:
        return []
    stmt = (
        insert(WebhookDelivery)
        .values(values)
        .on_conflict_do_nothing(constraint="uq_webhook_deliveries_webhook_event")
        .returning(WebhookDelivery.id, WebhookDelivery.status)
    )
    return [(row[0], row[1]) for row in await session.execute(stmt)]


async def deliveries_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    webhook_id: uuid.UUID,
    *,
    after: uuid.UUID | None,
    limit: int,
    status: DeliveryStatus | None,
    event_type: str | None,
    event_id: str | None,
) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(
        WebhookDelivery.account_id == account_id, WebhookDelivery.webhook_id == webhook_id
    )
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event_type is not None:
        stmt = stmt.where(WebhookDelivery.event_type == event_type)
    if event_id is not None:
        stmt = stmt.where(WebhookDelivery.event_id == event_id)
    if after is not None:
        stmt = stmt.where(WebhookDelivery.id < after)
    return list(await session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))


async def delivery(
    session: AsyncSession,
    account_id: uuid.UUID,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> WebhookDelivery | None:
    stmt = select(WebhookDelivery).where(
        WebhookDelivery.account_id == account_id,
        WebhookDelivery.webhook_id == webhook_id,
        WebhookDelivery.id == delivery_id,
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def attempts_by_delivery(
    session: AsyncSession, account_id: uuid.UUID, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    grouped: dict[uuid.UUID, list[WebhookAttempt]] = defaultdict(list)
    if not delivery_ids:
        return grouped
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(
            WebhookAttempt.account_id == account_id,
            WebhookAttempt.delivery_id.in_(delivery_ids),
        )
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.attempt_number)
    )
    for attempt in rows:
        grouped[attempt.delivery_id].append(attempt)
    return grouped


async def close_open_deliveries(
    session: AsyncSession, account_id: uuid.UUID, webhook_id: uuid.UUID, reason: str, now: datetime
) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.account_id == account_id,
            WebhookDelivery.webhook_id == webhook_id,
            WebhookDelivery.status.in_(OPEN_STATUSES),
        )
        .values(
            status=DeliveryStatus.failed, last_error=reason, next_attempt_at=None, completed_at=now
        )
        .execution_options(synchronize_session=False)
    )


async def held_delivery_ids(
    session: AsyncSession, account_id: uuid.UUID, webhook_id: uuid.UUID, limit: int
) -> list[uuid.UUID]:
    """Held deliveries of a webhook, oldest event first."""
    return list(
        await session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.account_id == account_id,
                WebhookDelivery.webhook_id == webhook_id,
                WebhookDelivery.status == DeliveryStatus.held,
            )
            .order_by(WebhookDelivery.event_seq)
            .limit(limit)
        )
    )


async def mark_fanned_out(session: AsyncSession, event: Event) -> bool:
    """Record that the event was fanned out; False when an earlier run already did."""
    stmt = (
        insert(WebhookFanout)
        .values(event_id=event.id, account_id=event.account_id)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(WebhookFanout.event_id)
    )
    return (await session.scalar(stmt)) is not None


def _first_event_id_at(moment: datetime) -> str:
    return f"evt_{int(moment.timestamp() * 1000):012x}" + "0" * 20


async def events_missing_fan_out(
    session: AsyncSession, *, relayed_before: datetime, since: datetime, limit: int
) -> list[str]:
    """Relayed events of accounts with webhooks whose fan-out never ran (Redis lost the job)."""
    # Only events some webhook would have received (it existed when the event happened).
    receivable = exists().where(
        Webhook.account_id == Event.account_id,
        Webhook.created_at <= Event.created_at,
        Webhook.deleted_at.is_(None),
        Webhook.status.in_((WebhookStatus.active, WebhookStatus.paused)),
    )
    done = exists().where(WebhookFanout.event_id == Event.id)
    rows = await session.scalars(
        select(Event.id)
        .where(
            # Event ids are "evt_" + UUIDv7 hex, time-ordered: a primary-key range scan.
            Event.id >= _first_event_id_at(since),
            Event.relayed_at < relayed_before,
            Event.created_at >= since,
            receivable,
            ~done,
        )
        .order_by(Event.seq)
        .limit(limit)
    )
    return list(rows)
