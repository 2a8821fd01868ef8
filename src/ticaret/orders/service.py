"""Orders: creating them (from the API, later from an AI analysis's draft), their lines and money,
their status machine, and reading them.

`create_order` takes an account id and an actor rather than a request's context, so the AI
domain can call it with an operator-approved draft:

    order = await create_order(session, settings, account_id, Actor("ai", analysis_id),
                               OrderCreate(customer_id=..., items=[OrderItemIn(product_id=...,
                               quantity=2, variant_note="38 beden")], source=OrderSource(...)))
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.catalog.repository import products as products_repository
from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.core.events import Actor, emit
from ticaret.core.money import MoneyError, exact_amount, format_decimal
from ticaret.core.versioning import check_version
from ticaret.crm.repository import contacts as crm_contacts
from ticaret.crm.repository import customers as crm_customers
from ticaret.crm.schemas.common import ContactBrief, CustomerBrief
from ticaret.crm.service.contacts import contact_summary
from ticaret.crm.service.customers import customer_summary
from ticaret.models import (
    EDITABLE,
    TRANSITIONS,
    Order,
    OrderEvent,
    OrderItem,
    OrderStatus,
    PaymentStatus,
    Product,
    ProductStatus,
    Role,
)
from ticaret.orders import repository
from ticaret.orders.errors import (
    CurrencyMismatch,
    DuplicateOrder,
    InvalidOrderLine,
    InvalidTransition,
    OrderEmpty,
    OrderItemNotFound,
    OrderNotEditable,
    OrderNotFound,
    ProductNotFound,
    ProductUnavailable,
)
from ticaret.orders.events import (
    ORDER_CREATED,
    ORDER_DELETED,
    ORDER_STATUS_CHANGED,
    ORDER_UPDATED,
    OrderCreated,
    OrderRef,
    OrderStatusChanged,
    OrderUpdated,
)
from ticaret.orders.pricing import LineAmounts, order_totals, price_line
from ticaret.orders.repository import OrderFilters
from ticaret.orders.schemas import (
    OrderCreate,
    OrderItemIn,
    OrderItemOut,
    OrderItemUpdate,
    OrderOut,
    OrderSourceOut,
    OrderUpdate,
    StatusChange,
    StatusChangeOut,
)
from ticaret.settings import Settings


def _field_error(path: str, message: str) -> dict[str, Any]:
    return {"fields": [{"path": path, "message": message}]}


# Reading ------------------------------------------------------------------------------------


def _source(order: Order) -> OrderSourceOut | None:
    if order.source_channel is None and order.source_message_id is None:
        return None
    return OrderSourceOut(
        channel=order.source_channel,
        source_type=order.source_type,
        source_id=order.source_id,
        thread_id=order.source_thread_id,
        message_id=order.source_message_id,
    )


def _item_out(item: OrderItem) -> OrderItemOut:
    return from_row(OrderItemOut, item, metadata=item.extra)


async def order_views(
    session: AsyncSession, account_id: uuid.UUID, orders: Sequence[Order]
) -> list[OrderOut]:
    ids = [o.id for o in orders]
    items = await repository.items_of(session, account_id, ids)
    history = await repository.history_of(session, account_id, ids)
    customers = await crm_customers.customers_by_id(
        session, account_id, [o.customer_id for o in orders]
    )
    contacts = await crm_contacts.contacts_by_id(
        session, account_id, [o.contact_id for o in orders if o.contact_id is not None]
    )
    return [
        from_row(
            OrderOut,
            o,
            customer=_brief(CustomerBrief, customers.get(o.customer_id)),
            contact=_brief(ContactBrief, contacts.get(o.contact_id) if o.contact_id else None),
            source=_source(o),
            metadata=o.extra,
            items=[_item_out(i) for i in items.get(o.id, [])],
            status_history=[StatusChangeOut.model_validate(e) for e in history.get(o.id, [])],
        )
        for o in orders
    ]


B = TypeVar("B", CustomerBrief, ContactBrief)


def _brief(model: type[B], row: object | None) -> B | None:
    return model.model_validate(row) if row is not None else None


async def _view(session: AsyncSession, order: Order) -> OrderOut:
    return (await order_views(session, order.account_id, [order]))[0]


async def _live(
    session: AsyncSession, account_id: uuid.UUID, order_id: uuid.UUID, *, for_update: bool = False
) -> Order:
    order = await repository.order(session, account_id, order_id, for_update=for_update)
    if order is None:
        raise OrderNotFound()
    return order


async def list_orders(
    session: AsyncSession, ctx: AccountContext, filters: OrderFilters, page: PageParams
) -> Page[OrderOut]:
    fetched = await repository.orders_page(
        session, ctx.account_id, filters, after=page.after_id(), limit=page.limit
    )
    kept, cursor, more = build_page(fetched, page.limit, lambda o: [o.id])
    return Page[OrderOut](
        rows=await order_views(session, ctx.account_id, kept), next_cursor=cursor, has_more=more
    )


async def customer_orders(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID,
    filters: OrderFilters,
    page: PageParams,
) -> Page[OrderOut]:
    await customer_summary(session, ctx.account_id, customer_id)
    return await list_orders(session, ctx, replace(filters, customer_id=customer_id), page)


async def get_order(session: AsyncSession, ctx: AccountContext, order_id: uuid.UUID) -> OrderOut:
    return await _view(session, await _live(session, ctx.account_id, order_id))


# Lines --------------------------------------------------------------------------------------


def _exact(value: Decimal, currency: str, path: str) -> Decimal:
    if value < 0:
        raise InvalidOrderLine(
            f"{path} cannot be negative.", details=_field_error(path, "negative")
        )
    try:
        return exact_amount(value, currency, what=path)
    except MoneyError as exc:
        raise InvalidOrderLine(f"{exc}.", details=_field_error(path, str(exc))) from None


def _snapshot(product: Product) -> dict[str, Any]:
    """The product as the order saw it: later edits of the product do not change old orders."""
    return {
        "id": str(product.id),
        "sku": product.sku,
        "name": product.name,
        "brand": product.brand,
        "category": product.category,
        "attributes": product.attributes,
        "price": None if product.price is None else format_decimal(product.price),
        "currency": product.currency,
        "stockStatus": product.stock_status,
        "productUrl": product.product_url,
        "entityVersion": product.entity_version,
    }


def _amounts(item: OrderItem, prices_include_tax: bool) -> LineAmounts:
    return price_line(
        item.unit_price,
        item.quantity,
        item.discount_amount,
        item.tax_rate,
        item.currency,
        prices_include_tax=prices_include_tax,
    )


def _apply_amounts(item: OrderItem, prices_include_tax: bool, path: str) -> None:
    subtotal = item.unit_price * item.quantity
    if item.discount_amount > subtotal:
        raise InvalidOrderLine(
            "The discount is larger than the line.",
            details=_field_error(f"{path}.discountAmount", "larger than unitPrice × quantity"),
        )
    amounts = _amounts(item, prices_include_tax)
    item.line_subtotal = amounts.line_subtotal
    item.tax_amount = amounts.tax_amount
    item.line_total = amounts.line_total


def _new_line(
    order: Order,
    body: OrderItemIn,
    product: Product | None,
    position: int,
    path: str,
) -> OrderItem:
    if product is not None and product.status == ProductStatus.archived:
        raise ProductUnavailable(details=_field_error(f"{path}.productId", "archived"))
    currency = body.currency or (product.currency if product is not None else order.currency)
    if currency != order.currency:
        raise CurrencyMismatch(
            f"This order is in {order.currency}; the line is in {currency}.",
            details=_field_error(f"{path}.currency", f"must be {order.currency}"),
        )
    unit_price = body.unit_price if body.unit_price is not None else None
    if unit_price is None and product is not None:
        unit_price = product.price
    if unit_price is None:
        raise InvalidOrderLine(
            "The line needs a unitPrice (the product has no price).",
            details=_field_error(f"{path}.unitPrice", "required"),
        )
    name = body.name or (product.name if product is not None else None)
    if not name:
        raise InvalidOrderLine(
            "A line without a product needs a name.",
            details=_field_error(f"{path}.name", "required"),
        )
    item = OrderItem(
        account_id=order.account_id,
        order_id=order.id,
        position=position,
        product_id=product.id if product is not None else None,
        sku=body.sku or (product.sku if product is not None else None),
        name=name,
        variant_note=body.variant_note,
        unit_price=_exact(unit_price, currency, f"{path}.unitPrice"),
        currency=currency,
        quantity=body.quantity,
        discount_amount=_exact(body.discount_amount, currency, f"{path}.discountAmount"),
        tax_rate=body.tax_rate,
        product_snapshot=_snapshot(product) if product is not None else None,
        extra=dict(body.metadata),
    )
    _apply_amounts(item, order.prices_include_tax, path)
    return item


async def _products(
    session: AsyncSession, account_id: uuid.UUID, lines: Sequence[OrderItemIn], paths: list[str]
) -> dict[uuid.UUID, Product]:
    wanted = [line.product_id for line in lines if line.product_id is not None]
    found = await products_repository.products_by_id(session, account_id, wanted)
    for line, path in zip(lines, paths, strict=True):
        if line.product_id is not None and line.product_id not in found:
            raise ProductNotFound(details=_field_error(f"{path}.productId", "not found"))
    return found


def _shipping_total(order: Order) -> Decimal:
    amount = order.shipping.get("amount")
    return Decimal(amount) if amount is not None else Decimal(0)


async def _recompute(session: AsyncSession, order: Order) -> list[OrderItem]:
    """Re-price every line and the totals (same transaction as the change that needs it)."""
    await session.flush()
    items = (await repository.items_of(session, order.account_id, [order.id])).get(order.id, [])
    lines = []
    for index, item in enumerate(items):
        _apply_amounts(item, order.prices_include_tax, f"items.{index}")
        lines.append(_amounts(item, order.prices_include_tax))
    totals = order_totals(
        lines, _shipping_total(order), prices_include_tax=order.prices_include_tax
    )
    order.subtotal = totals.subtotal
    order.discount_total = totals.discount_total
    order.tax_total = totals.tax_total
    order.shipping_total = totals.shipping_total
    order.grand_total = totals.grand_total
    return items


def _editable(order: Order) -> None:
    if order.status not in EDITABLE:
        raise OrderNotEditable(
            f"This order is {order.status}; lines change only while it is draft or confirmed.",
            details={"status": order.status},
        )


def _shipping_json(order_currency: str, shipping: Any, path: str) -> dict[str, Any]:
    if shipping is None:
        return {}
    data: dict[str, Any] = shipping.model_dump(mode="json", by_alias=True, exclude_none=True)
    if shipping.amount is not None:
        data["amount"] = format_decimal(_exact(shipping.amount, order_currency, f"{path}.amount"))
    return data


# Writing ------------------------------------------------------------------------------------


def _record_status(
    session: AsyncSession,
    order: Order,
    from_status: str | None,
    to_status: str,
    actor: Actor,
    reason: str | None,
) -> None:
    session.add(
        OrderEvent(
            account_id=order.account_id,
            order_id=order.id,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            actor_type=actor.type,
            actor_id=actor.id,
        )
    )


async def _check_parties(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
) -> None:
    """The CRM's own answers: 404 for a customer or contact this account does not have, 422
    for a contact of another customer."""
    await customer_summary(session, account_id, customer_id)
    if contact_id is not None:
        await contact_summary(session, account_id, contact_id, customer_id)


async def create_order(
    session: AsyncSession,
    settings: Settings,
    account_id: uuid.UUID,
    actor: Actor,
    body: OrderCreate,
) -> OrderOut:
    await _check_parties(session, account_id, body.customer_id, body.contact_id)
    paths = [f"items.{index}" for index in range(len(body.items))]
    products = await _products(session, account_id, body.items, paths)
    source = body.source
    if source is not None and source.message_id is not None and not body.allow_duplicate:
        key = f"{source.channel}:{source.source_id}:{source.message_id}"
        await repository.lock_source(session, account_id, key)
        existing = await repository.order_from_message(
            session, account_id, source.channel, source.source_id, source.message_id
        )
        if existing is not None:
            raise DuplicateOrder(
                details={"orderId": str(existing.id), "orderNo": existing.order_no}
            )
    # Default: the first line's currency (its own, or its product's), else the shop's.
    currency = body.currency
    if currency is None and body.items:
        first = body.items[0]
        product = products.get(first.product_id) if first.product_id else None
        currency = first.currency or (product.currency if product is not None else None)
    currency = currency or settings.orders.default_currency
    # Last before the write: the counter stays locked until this transaction commits.
    number = await repository.next_order_number(session, account_id)
    order = Order(
        account_id=account_id,
        order_no=f"{settings.orders.number_prefix}{number:0{settings.orders.number_digits}d}",
        customer_id=body.customer_id,
        contact_id=body.contact_id,
        status=OrderStatus.draft,
        currency=currency,
        prices_include_tax=body.prices_include_tax,
        source_channel=source.channel if source else None,
        source_type=source.source_type if source else None,
        source_id=source.source_id if source else None,
        source_thread_id=source.thread_id if source else None,
        source_message_id=source.message_id if source else None,
        shipping=_shipping_json(currency, body.shipping, "shipping"),
        payment=body.payment.model_dump(mode="json", by_alias=True, exclude_none=True)
        if body.payment
        else {},
        notes=body.notes,
        tags=list(body.tags),
        extra=dict(body.metadata),
        created_by_type=actor.type,
        created_by_id=actor.id,
    )
    session.add(order)
    await session.flush()
    for position, (line, path) in enumerate(zip(body.items, paths, strict=True)):
        product = products.get(line.product_id) if line.product_id else None
        session.add(_new_line(order, line, product, position, path))
    await _recompute(session, order)
    _record_status(session, order, None, OrderStatus.draft, actor, None)
    await session.flush()
    emit(
        session,
        ORDER_CREATED,
        OrderCreated(
            order_id=order.id,
            order_no=order.order_no,
            customer_id=order.customer_id,
            status=OrderStatus.draft,
            currency=order.currency,
            grand_total=order.grand_total,
            item_count=len(body.items),
            source_channel=order.source_channel,
        ),
        account_id=account_id,
        actor=actor,
    )
    return await _view(session, order)


def _updated(session: AsyncSession, order: Order, actor: Actor, changed: list[str]) -> None:
    emit(
        session,
        ORDER_UPDATED,
        OrderUpdated(
            order_id=order.id,
            order_no=order.order_no,
            changed=changed,
            grand_total=order.grand_total,
        ),
        account_id=order.account_id,
        actor=actor,
    )


async def update_order(
    session: AsyncSession,
    ctx: AccountContext,
    order_id: uuid.UUID,
    body: OrderUpdate,
    expected_version: str | None,
) -> OrderOut:
    order = await _live(session, ctx.account_id, order_id, for_update=True)
    check_version(order, expected_version)
    sent = body.model_fields_set
    changed: list[str] = []
    reprice = False
    if "contact_id" in sent and body.contact_id != order.contact_id:
        await _check_parties(session, ctx.account_id, order.customer_id, body.contact_id)
        order.contact_id = body.contact_id
        changed.append("contactId")
    if body.currency is not None and body.currency != order.currency:
        _editable(order)
        items = (await repository.items_of(session, ctx.account_id, [order.id])).get(order.id)
        if items:
            raise CurrencyMismatch(
                "An order's currency changes only while it has no lines.",
                details=_field_error("currency", f"the lines are in {order.currency}"),
            )
        order.currency = body.currency
        changed.append("currency")
    if body.prices_include_tax is not None and body.prices_include_tax != order.prices_include_tax:
        _editable(order)
        order.prices_include_tax = body.prices_include_tax
        changed.append("pricesIncludeTax")
        reprice = True
    if "shipping" in sent:
        shipping = _shipping_json(order.currency, body.shipping, "shipping")
        if shipping != order.shipping:
            order.shipping = shipping
            changed.append("shipping")
            reprice = True
    if "payment" in sent:
        payment = (
            body.payment.model_dump(mode="json", by_alias=True, exclude_none=True)
            if body.payment
            else {}
        )
        if payment != order.payment:
            order.payment = payment
            changed.append("payment")
    for name, wire in (
        ("payment_status", "paymentStatus"),
        ("fulfillment_status", "fulfillmentStatus"),
        ("notes", "notes"),
        ("tags", "tags"),
    ):
        value = getattr(body, name)
        if (
            name in sent
            and (value is not None or name == "notes")
            and value != getattr(order, name)
        ):
            setattr(order, name, value)
            changed.append(wire)
    if body.metadata is not None and body.metadata != order.extra:
        order.extra = dict(body.metadata)
        changed.append("metadata")
    if not changed:
        return await _view(session, order)
    if reprice:
        await _recompute(session, order)
        changed.append("totals")
    order.updated_at = datetime.now(UTC)
    await session.flush()
    _updated(session, order, ctx.actor, changed)
    return await _view(session, order)


async def delete_order(session: AsyncSession, ctx: AccountContext, order_id: uuid.UUID) -> None:
    order = await _live(session, ctx.account_id, order_id, for_update=True)
    # A draft is the agent's own work in progress; anything further is the shop's record.
    if order.status != OrderStatus.draft:
        ctx.require(Role.admin)
    order.deleted_at = datetime.now(UTC)
    await session.flush()
    emit(
        session,
        ORDER_DELETED,
        OrderRef(order_id=order.id, order_no=order.order_no),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )


async def _item_change_done(session: AsyncSession, ctx: AccountContext, order: Order) -> OrderOut:
    await _recompute(session, order)
    order.updated_at = datetime.now(UTC)
    await session.flush()
    _updated(session, order, ctx.actor, ["items", "totals"])
    return await _view(session, order)


async def add_item(
    session: AsyncSession,
    ctx: AccountContext,
    order_id: uuid.UUID,
    body: OrderItemIn,
    expected_version: str | None,
) -> OrderOut:
    order = await _live(session, ctx.account_id, order_id, for_update=True)
    check_version(order, expected_version)
    _editable(order)
    products = await _products(session, ctx.account_id, [body], ["item"])
    product = products.get(body.product_id) if body.product_id else None
    position = await repository.next_position(session, ctx.account_id, order.id)
    session.add(_new_line(order, body, product, position, "item"))
    return await _item_change_done(session, ctx, order)


async def _item(
    session: AsyncSession, ctx: AccountContext, order: Order, item_id: uuid.UUID
) -> OrderItem:
    items = (await repository.items_of(session, ctx.account_id, [order.id])).get(order.id, [])
    for item in items:
        if item.id == item_id:
            return item
    raise OrderItemNotFound()


async def update_item(
    session: AsyncSession,
    ctx: AccountContext,
    order_id: uuid.UUID,
    item_id: uuid.UUID,
    body: OrderItemUpdate,
    expected_version: str | None,
) -> OrderOut:
    order = await _live(session, ctx.account_id, order_id, for_update=True)
    check_version(order, expected_version)
    item = await _item(session, ctx, order, item_id)
    _editable(order)
    sent = body.model_fields_set
    for name in ("sku", "variant_note"):
        if name in sent:
            setattr(item, name, getattr(body, name))
    if body.name is not None:
        item.name = body.name
    if body.unit_price is not None:
        item.unit_price = _exact(body.unit_price, item.currency, "unitPrice")
    if body.discount_amount is not None:
        item.discount_amount = _exact(body.discount_amount, item.currency, "discountAmount")
    if body.quantity is not None:
        item.quantity = body.quantity
    if body.tax_rate is not None:
        item.tax_rate = body.tax_rate
    if body.metadata is not None:
        item.extra = dict(body.metadata)
    return await _item_change_done(session, ctx, order)


async def delete_item(
    session: AsyncSession,
    ctx: AccountContext,
    order_id: uuid.UUID,
    item_id: uuid.UUID,
    expected_version: str | None,
) -> OrderOut:
    order = await _live(session, ctx.account_id, order_id, for_update=True)
    check_version(order, expected_version)
    item = await _item(session, ctx, order, item_id)
    _editable(order)
    await session.delete(item)
    return await _item_change_done(session, ctx, order)


async def change_status(
    session: AsyncSession, ctx: AccountContext, order_id: uuid.UUID, body: StatusChange
) -> OrderOut:
    order = await _live(session, ctx.account_id, order_id, for_update=True)
    check_version(order, body.entity_version)
    current = OrderStatus(order.status)
    allowed = TRANSITIONS[current]
    if body.status not in allowed:
        names = sorted(status.value for status in allowed)
        raise InvalidTransition(
            f"An order that is {current} can move to {', '.join(names) or 'no other status'}, "
            f"not {body.status}.",
            details={"from": current.value, "to": body.status.value, "allowed": names},
        )
    if body.status == OrderStatus.confirmed:
        items = (await repository.items_of(session, ctx.account_id, [order.id])).get(order.id)
        if not items:
            raise OrderEmpty()
    order.status = body.status
    if body.status == OrderStatus.refunded and order.payment_status != PaymentStatus.unpaid:
        order.payment_status = PaymentStatus.refunded
    _record_status(session, order, current, body.status, ctx.actor, body.reason)
    await session.flush()
    emit(
        session,
        ORDER_STATUS_CHANGED,
        OrderStatusChanged(
            order_id=order.id,
            order_no=order.order_no,
            from_status=current,
            to_status=body.status,
            reason=body.reason,
        ),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    return await _view(session, order)
