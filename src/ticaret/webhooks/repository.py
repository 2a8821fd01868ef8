"""SQL for webhooks, deliveries and attempts; every statement is scoped by account."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import written_in
from ticaret.core.events import relayed
from ticaret.core.ids import first_event_id_at, new_id
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
# Written into the SQL (not bound) where a statement must use the deliveries' partial indexes,
# `ix_webhook_deliveries_due` and `ix_webhook_deliveries_held`: see `written_in`.
_DUE = written_in(WebhookDelivery.status, DeliveryStatus.pending, DeliveryStatus.retrying)
_HELD = written_in(WebhookDelivery.status, DeliveryStatus.held)


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
                _HELD,
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
            Event.id >= first_event_id_at(since),
            Event.created_at < relayed_before,
            relayed(),
            Event.created_at >= since,
            receivable,
            ~done,
        )
        .order_by(Event.seq)
        .limit(limit)
    )
    return list(rows)


# Jobs: they hold ids of rows we wrote, so these look rows up by primary key alone. -----------


async def event(session: AsyncSession, event_id: str) -> Event | None:
    return await session.get(Event, event_id)


async def webhook_by_id(session: AsyncSession, webhook_id: uuid.UUID) -> Webhook | None:
    return await session.get(Webhook, webhook_id)


async def delivery_to_attempt(
    session: AsyncSession, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, Webhook, Event] | None:
    """In one round trip: the delivery (locked, skipped if another attempt holds it), its
    webhook and its event."""
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
    return None if row is None else row.tuple()


async def delivery_to_record(
    session: AsyncSession, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, Webhook] | None:
    row = (
        await session.execute(
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id == delivery_id)
            .with_for_update(of=WebhookDelivery)
        )
    ).first()
    return None if row is None else row.tuple()


async def disable_webhook(
    session: AsyncSession, webhook_id: uuid.UUID, reason: str, now: datetime
) -> bool:
    """False when it was disabled already (a concurrent attempt got there first)."""
    disabled = await session.scalar(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.status != WebhookStatus.disabled)
        .values(
            status=WebhookStatus.disabled,
            disabled_reason=reason,
            disabled_at=now,
            version=Webhook.version + 1,
        )
        .returning(Webhook.id)
        .execution_options(synchronize_session=False)
    )
    return disabled is not None


async def mark_webhook_healthy(session: AsyncSession, webhook_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id)
        .values(last_success_at=now, first_failure_at=None)
        .execution_options(synchronize_session=False)
    )


async def mark_webhook_failing(session: AsyncSession, webhook_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.first_failure_at.is_(None))
        .values(first_failure_at=now)
        .execution_options(synchronize_session=False)
    )


async def overdue_deliveries(
    session: AsyncSession, due_before: datetime, limit: int
) -> list[tuple[uuid.UUID, int]]:
    """Pending or retrying deliveries whose attempt is long overdue: (id, attempts so far)."""
    rows = await session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempt_count)
        .where(
            _DUE,
            WebhookDelivery.next_attempt_at < due_before,
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    return [(delivery_id, attempts) for delivery_id, attempts in rows.tuples()]


async def webhooks_with_unreleased_holds(
    session: AsyncSession, held_before: datetime
) -> list[uuid.UUID]:
    """Active webhooks that still hold deliveries: their release job never ran."""
    rows = await session.scalars(
        select(WebhookDelivery.webhook_id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            _HELD,
            WebhookDelivery.updated_at < held_before,
            Webhook.status == WebhookStatus.active,
            Webhook.deleted_at.is_(None),
        )
        .distinct()
    )
    return list(rows)


# Batches: a fan-out of many events, and attempts claimed and recorded many at a time. ---------
# The batch statements are Core statements on the tables, built once and run with a list of
# rows (executemany / insertmanyvalues): compiled once per process, not once per batch size.

_deliveries_table: Table = WebhookDelivery.__table__  # type: ignore[assignment]
_attempts_table: Table = WebhookAttempt.__table__  # type: ignore[assignment]
_fanouts_table: Table = WebhookFanout.__table__  # type: ignore[assignment]

_MARK_FANNED_OUT = (
    insert(_fanouts_table)
    .on_conflict_do_nothing(index_elements=["event_id"])
    .returning(_fanouts_table.c.event_id)
)
_INSERT_DELIVERIES = (
    insert(_deliveries_table)
    .on_conflict_do_nothing(constraint="uq_webhook_deliveries_webhook_event")
    .returning(
        _deliveries_table.c.id,
        _deliveries_table.c.status,
        _deliveries_table.c.event_id,
        _deliveries_table.c.webhook_id,
    )
)
_INSERT_ATTEMPTS = insert(_attempts_table)


async def events_by_ids(session: AsyncSession, event_ids: Sequence[str]) -> list[Event]:
    """Jobs hold ids of events we wrote: looked up by primary key alone, in outbox order."""
    if not event_ids:
        return []
    return list(
        await session.scalars(
            select(Event).where(Event.id.in_(list(event_ids))).order_by(Event.seq)
        )
    )


async def accounts_with_receiving_webhooks(
    session: AsyncSession, account_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    if not account_ids:
        return set()
    rows = await session.scalars(
        select(Webhook.account_id)
        .where(
            Webhook.account_id.in_(list(account_ids)),
            Webhook.deleted_at.is_(None),
            Webhook.status.in_((WebhookStatus.active, WebhookStatus.paused)),
        )
        .distinct()
    )
    return set(rows)


async def receiving_webhooks_of(
    session: AsyncSession, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Webhook]]:
    """`receiving_webhooks` of several accounts in one statement."""
    grouped: dict[uuid.UUID, list[Webhook]] = defaultdict(list)
    if not account_ids:
        return grouped
    rows = await session.scalars(
        select(Webhook).where(
            Webhook.account_id.in_(list(account_ids)),
            Webhook.deleted_at.is_(None),
            Webhook.status.in_((WebhookStatus.active, WebhookStatus.paused)),
        )
    )
    for hook in rows:
        grouped[hook.account_id].append(hook)
    return grouped


async def mark_fanned_out_many(session: AsyncSession, events: Sequence[Event]) -> set[str]:
    """Record these events as fanned out; returns those no earlier run had done."""
    if not events:
        return set()
    rows = [{"event_id": e.id, "account_id": e.account_id} for e in events]
    return set(await session.scalars(_MARK_FANNED_OUT, rows))


class CreatedDelivery(NamedTuple):
    id: uuid.UUID
    status: str
    event_id: str
    webhook_id: uuid.UUID


async def insert_deliveries_many(
    session: AsyncSession,
    targets: Sequence[tuple[Event, Webhook]],
    now: datetime,
    *,
    leased_until: datetime | None = None,
) -> list[CreatedDelivery]:
    """One delivery per (event, webhook), in one statement; existing ones are left alone.

    With `leased_until`, the pending ones are born claimed by the caller for their first
    attempt (due then, as a claim leaves them), so no other job or sweeper takes them meanwhile.
    """
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
            "next_attempt_at": None
            if hook.status == WebhookStatus.paused
            else (leased_until or now),
        }
        for event, hook in targets
    ]
    if not values:
        return []
    for row in values:
        row["id"] = new_id()
    return [
        CreatedDelivery(row[0], row[1], row[2], row[3])
        for row in await session.execute(_INSERT_DELIVERIES, values)
    ]


async def deliveries_to_attempt(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID]
) -> list[tuple[WebhookDelivery, Webhook, Event]]:
    """`delivery_to_attempt` for many: rows another attempt holds locked are skipped."""
    if not delivery_ids:
        return []
    rows = await session.execute(
        select(WebhookDelivery, Webhook, Event)
        .join(
            Webhook,
            (Webhook.id == WebhookDelivery.webhook_id)
            & (Webhook.account_id == WebhookDelivery.account_id),
        )
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id.in_(list(delivery_ids)))
        .order_by(WebhookDelivery.id)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def deliveries_to_record(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID]
) -> list[tuple[WebhookDelivery, Webhook]]:
    """`delivery_to_record` for many, locked in id order (two batches never deadlock)."""
    if not delivery_ids:
        return []
    rows = await session.execute(
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.id.in_(list(delivery_ids)))
        .order_by(WebhookDelivery.id)
        .with_for_update(of=WebhookDelivery)
    )
    return [(row[0], row[1]) for row in rows]


async def set_deliveries(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID], **values: Any
) -> None:
    """The same new values on several deliveries (claims, holds, closes): one statement."""
    if not delivery_ids:
        return
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(list(delivery_ids)))
        .values(**values, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )


_RECORD_DELIVERY = (
    update(_deliveries_table)
    .where(_deliveries_table.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        attempt_count=bindparam("b_attempt_count"),
        last_status_code=bindparam("b_last_status_code"),
        last_error=bindparam("b_last_error"),
        next_attempt_at=bindparam("b_next_attempt_at"),
        completed_at=bindparam("b_completed_at"),
        updated_at=func.now(),
    )
)


async def record_deliveries(session: AsyncSession, states: Sequence[dict[str, Any]]) -> None:
    """Each delivery's state after its attempt: one statement run for the whole batch.

    Keys: id, status, attempt_count, last_status_code, last_error, next_attempt_at,
    completed_at.
    """
    if not states:
        return
    await session.execute(
        _RECORD_DELIVERY, [{f"b_{key}": value for key, value in state.items()} for state in states]
    )


async def insert_attempts(session: AsyncSession, attempts: Sequence[dict[str, Any]]) -> None:
    """The batch's attempt rows in one statement."""
    if not attempts:
        return
    await session.execute(_INSERT_ATTEMPTS, list(attempts))
