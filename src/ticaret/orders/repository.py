"""SQL for orders, their lines and status history; every statement is scoped by account."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.crm.repository.timeline import Position, after
from ticaret.models import (
    FulfillmentStatus,
    Order,
    OrderCounter,
    OrderEvent,
    OrderItem,
    OrderStatus,
    PaymentStatus,
)


@dataclass(frozen=True)
class OrderFilters:
    status: OrderStatus | None = None
    payment_status: PaymentStatus | None = None
    fulfillment_status: FulfillmentStatus | None = None
    customer_id: uuid.UUID | None = None
    order_no: str | None = None


async def next_order_number(session: AsyncSession, account_id: uuid.UUID) -> int:
    """The account's next order number. The counter row stays locked until the caller's
    transaction ends, so concurrent orders of one account take their numbers one after the
    other (never the same one); call it last, just before the order is written. A rolled-back
    order gives its number back; unique numbers, not gap-free ones, are the promise."""
    number = await session.scalar(
        insert(OrderCounter)
        .values(account_id=account_id, last_number=1)
        .on_conflict_do_update(
            index_elements=[OrderCounter.account_id],
            set_={"last_number": OrderCounter.last_number + 1},
        )
        .returning(OrderCounter.last_number)
    )
    assert number is not None
    return int(number)


async def lock_source(session: AsyncSession, account_id: uuid.UUID, message_key: str) -> None:
    """Serialise order creation from one message until this transaction ends, so two
    concurrent requests cannot both find no order and both make one."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"{account_id}:{message_key}", 0)))
    )


async def order_from_message(
    session: AsyncSession,
    account_id: uuid.UUID,
    channel: str | None,
    source_id: str | None,
    message_id: str,
) -> Order | None:
    stmt = select(Order).where(
        Order.account_id == account_id,
        Order.source_message_id == message_id,
        Order.deleted_at.is_(None),
        Order.source_channel.is_not_distinct_from(channel),
        Order.source_id.is_not_distinct_from(source_id),
    )
    return await session.scalar(stmt.order_by(Order.id).limit(1))


async def order(
    session: AsyncSession, account_id: uuid.UUID, order_id: uuid.UUID, *, for_update: bool = False
) -> Order | None:
    stmt = select(Order).where(
        Order.account_id == account_id, Order.id == order_id, Order.deleted_at.is_(None)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


def _filtered(account_id: uuid.UUID, filters: OrderFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [
        Order.account_id == account_id,
        Order.deleted_at.is_(None),
    ]
    if filters.status is not None:
        clauses.append(Order.status == filters.status)
    if filters.payment_status is not None:
        clauses.append(Order.payment_status == filters.payment_status)
    if filters.fulfillment_status is not None:
        clauses.append(Order.fulfillment_status == filters.fulfillment_status)
    if filters.customer_id is not None:
        clauses.append(Order.customer_id == filters.customer_id)
    if filters.order_no is not None:
        clauses.append(Order.order_no.ilike(f"%{_escaped(filters.order_no)}%", escape="\\"))
    return clauses


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def orders_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    filters: OrderFilters,
    *,
    after: uuid.UUID | None,
    limit: int,
) -> list[Order]:
    stmt = select(Order).where(*_filtered(account_id, filters))
    if after is not None:
        stmt = stmt.where(Order.id < after)
    return list(await session.scalars(stmt.order_by(Order.id.desc()).limit(limit + 1)))


async def items_of(
    session: AsyncSession, account_id: uuid.UUID, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[OrderItem]]:
    grouped: dict[uuid.UUID, list[OrderItem]] = defaultdict(list)
    if order_ids:
        rows = await session.scalars(
            select(OrderItem)
            .where(OrderItem.account_id == account_id, OrderItem.order_id.in_(order_ids))
            .order_by(OrderItem.order_id, OrderItem.position, OrderItem.id)
        )
        for row in rows:
            grouped[row.order_id].append(row)
    return grouped


async def history_of(
    session: AsyncSession, account_id: uuid.UUID, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[OrderEvent]]:
    grouped: dict[uuid.UUID, list[OrderEvent]] = defaultdict(list)
    if order_ids:
        rows = await session.scalars(
            select(OrderEvent)
            .where(OrderEvent.account_id == account_id, OrderEvent.order_id.in_(order_ids))
            .order_by(OrderEvent.order_id, OrderEvent.created_at, OrderEvent.id)
        )
        for row in rows:
            grouped[row.order_id].append(row)
    return grouped


async def next_position(session: AsyncSession, account_id: uuid.UUID, order_id: uuid.UUID) -> int:
    highest = await session.scalar(
        select(func.max(OrderItem.position)).where(
            OrderItem.account_id == account_id, OrderItem.order_id == order_id
        )
    )
    return 0 if highest is None else int(highest) + 1


async def customer_orders_from(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    position: Position | None,
    limit: int,
) -> list[Order]:
    """For the CRM timeline: the customer's live orders newest first (by creation), after a
    position of the feed, through the customer's own order index."""
    return list(
        await session.scalars(
            select(Order)
            .where(
                Order.account_id == account_id,
                Order.customer_id == customer_id,
                Order.deleted_at.is_(None),
                after(Order.created_at, Order.id, "order", position),
            )
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(limit)
        )
    )


async def item_counts(
    session: AsyncSession, account_id: uuid.UUID, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not order_ids:
        return {}
    rows = await session.execute(
        select(OrderItem.order_id, func.count())
        .where(OrderItem.account_id == account_id, OrderItem.order_id.in_(order_ids))
        .group_by(OrderItem.order_id)
    )
    return {row[0]: int(row[1]) for row in rows}
