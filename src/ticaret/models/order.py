"""Orders of CRM customers: the order, its lines (each with a snapshot of the product as it was
when the line was added), its status history, and the per-account order number counter."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ticaret.models.base import Base, IdMixin, TimestampMixin, VersionedMixin, one_of
from ticaret.models.core import ActorType


class OrderStatus(enum.StrEnum):
    draft = "draft"
    confirmed = "confirmed"
    processing = "processing"
    shipped = "shipped"
    delivered = "delivered"
    canceled = "canceled"
    refunded = "refunded"


class PaymentStatus(enum.StrEnum):
    unpaid = "unpaid"
    partially_paid = "partially_paid"
    paid = "paid"
    refunded = "refunded"


class FulfillmentStatus(enum.StrEnum):
    unfulfilled = "unfulfilled"
    partial = "partial"
    fulfilled = "fulfilled"


# Where an order may go from each status; everything else is refused (409 invalid_transition).
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.draft: frozenset({OrderStatus.confirmed, OrderStatus.canceled}),
    OrderStatus.confirmed: frozenset({OrderStatus.processing, OrderStatus.canceled}),
    OrderStatus.processing: frozenset({OrderStatus.shipped, OrderStatus.canceled}),
    OrderStatus.shipped: frozenset({OrderStatus.delivered}),
    OrderStatus.delivered: frozenset({OrderStatus.refunded}),
    OrderStatus.canceled: frozenset(),
    OrderStatus.refunded: frozenset(),
}
# Lines can be added, changed and removed only while the order is still being put together.
EDITABLE = frozenset({OrderStatus.draft, OrderStatus.confirmed})

_LIVE = text("deleted_at IS NULL")


class OrderCounter(Base):
    """The last order number given out in an account (advanced in a transaction of its own)."""

    __tablename__ = "order_counters"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Order(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "order_no", name="uq_orders_account_order_no"),
        Index("ix_orders_account_live", "account_id", text("id DESC"), postgresql_where=_LIVE),
        Index(
            "ix_orders_customer_live",
            "account_id",
            "customer_id",
            text("id DESC"),
            postgresql_where=_LIVE,
        ),
        # An order made from a message: the duplicate check looks it up by its source.
        Index(
            "ix_orders_source_message",
            "account_id",
            "source_message_id",
            postgresql_where=text("deleted_at IS NULL AND source_message_id IS NOT NULL"),
        ),
        one_of("status", OrderStatus),
        one_of("payment_status", PaymentStatus),
        one_of("fulfillment_status", FulfillmentStatus),
        one_of("created_by_type", ActorType),
        CheckConstraint("shipping_total >= 0", name="shipping_total_not_negative"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    order_no: Mapped[str] = mapped_column(String(30), nullable=False)
    # No cascade: customers are soft-deleted, and an order outlives its customer record (NO
    # ACTION still lets an account's deletion take both in one statement).
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crm_customers.id"), nullable=False)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crm_contacts.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=OrderStatus.draft)
    payment_status: Mapped[str] = mapped_column(
        String(20), nullable=False, default=PaymentStatus.unpaid
    )
    fulfillment_status: Mapped[str] = mapped_column(
        String(20), nullable=False, default=FulfillmentStatus.unfulfilled
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Recomputed from the lines in the transaction that changes them (orders/pricing.py).
    subtotal: Mapped[Decimal] = mapped_column(Numeric, nullable=False, default=Decimal(0))
    discount_total: Mapped[Decimal] = mapped_column(Numeric, nullable=False, default=Decimal(0))
    tax_total: Mapped[Decimal] = mapped_column(Numeric, nullable=False, default=Decimal(0))
    shipping_total: Mapped[Decimal] = mapped_column(Numeric, nullable=False, default=Decimal(0))
    grand_total: Mapped[Decimal] = mapped_column(Numeric, nullable=False, default=Decimal(0))
    # Where the order came from: a channel (provider_whatsapp, meta, instagram, manual, api)
    # and the conversation and message in it.
    source_channel: Mapped[str | None] = mapped_column(String(40))
    source_type: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[str | None] = mapped_column(String(200))
    source_thread_id: Mapped[str | None] = mapped_column(String(200))
    source_message_id: Mapped[str | None] = mapped_column(String(200))
    shipping: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    payment: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(
        ARRAY(String(60)), nullable=False, default=list, server_default="{}"
    )
    # `metadata` is the declarative base's own attribute; the column keeps the wire name.
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, nullable=False, default=dict)
    created_by_type: Mapped[str] = mapped_column(String(20), nullable=False)
    created_by_id: Mapped[str | None] = mapped_column(String(64))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OrderItem(IdMixin, TimestampMixin, Base):
    __tablename__ = "order_items"
    __table_args__ = (
        Index("ix_order_items_order_position", "order_id", "position"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint(
            "discount_amount >= 0 AND discount_amount <= line_subtotal", name="discount_in_line"
        ),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate_percentage"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # Null for a free-text line; the product may be edited or deleted later, the snapshot stays.
    product_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL")
    )
    sku: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    variant_note: Mapped[str | None] = mapped_column(String(500))
    unit_price: Mapped[Decimal] = mapped_column(Numeric, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    discount_amount: Mapped[Decimal] = mapped_column(Numeric, nullable=False)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric, nullable=False)
    tax_amount: Mapped[Decimal] = mapped_column(Numeric, nullable=False)
    line_subtotal: Mapped[Decimal] = mapped_column(Numeric, nullable=False)
    line_total: Mapped[Decimal] = mapped_column(Numeric, nullable=False)
    product_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, nullable=False, default=dict)


class OrderEvent(IdMixin, Base):
    """An order's status history: who moved it from where to where, when, and why."""

    __tablename__ = "order_events"
    __table_args__ = (
        Index("ix_order_events_order", "order_id", "created_at"),
        one_of("to_status", OrderStatus),
        one_of("actor_type", ActorType),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    # Null on the row that records the order's creation.
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_type: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
