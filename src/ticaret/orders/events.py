"""Event types of orders."""

from __future__ import annotations

import uuid

from ticaret.core.events import EventPayload, event_type
from ticaret.core.money import Money
from ticaret.models import OrderStatus


class OrderRef(EventPayload):
    order_id: uuid.UUID
    order_no: str


class OrderCreated(OrderRef):
    customer_id: uuid.UUID
    status: OrderStatus
    currency: str
    grand_total: Money
    item_count: int
    source_channel: str | None


class OrderUpdated(OrderRef):
    changed: list[str]
    grand_total: Money


class OrderStatusChanged(OrderRef):
    from_status: OrderStatus
    to_status: OrderStatus
    reason: str | None


ORDER_CREATED = event_type("order.created", "An order was created (as a draft).", OrderCreated)
ORDER_UPDATED = event_type(
    "order.updated",
    "An order changed: `changed` names what (items, totals, shipping, payment, paymentStatus, "
    "fulfillmentStatus, notes, tags, metadata, contact, ...), `grandTotal` is the new total.",
    OrderUpdated,
)
ORDER_STATUS_CHANGED = event_type(
    "order.status_changed",
    "An order moved from one status to another (draft → confirmed → processing → shipped → "
    "delivered; canceled; refunded).",
    OrderStatusChanged,
)
ORDER_DELETED = event_type("order.deleted", "An order was deleted.", OrderRef)
