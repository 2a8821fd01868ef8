"""`/orders`, their lines and status, and `/crm/customers/{customerId}/orders`."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.responses import JSONResponse

from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.idempotency import Idempotent
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.models import FulfillmentStatus, OrderStatus, PaymentStatus
from ticaret.orders import service
from ticaret.orders.repository import OrderFilters
from ticaret.orders.schemas import (
    MONEY_RULE,
    OrderCreate,
    OrderItemIn,
    OrderItemUpdate,
    OrderOut,
    OrderUpdate,
    StatusChange,
)
from ticaret.settings import Settings, get_settings

router = APIRouter(tags=["Orders"])

AppSettings = Annotated[Settings, Depends(get_settings)]
OrderId = Annotated[uuid.UUID, Path(alias="orderId")]
# Not `itemId`: that name is the CRM checklist item's on every route it appears in.
OrderItemId = Annotated[uuid.UUID, Path(alias="orderItemId")]
CustomerId = Annotated[uuid.UUID, Path(alias="customerId")]


def order_filters(
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
    payment_status: Annotated[PaymentStatus | None, Query(alias="paymentStatus")] = None,
    fulfillment_status: Annotated[
        FulfillmentStatus | None, Query(alias="fulfillmentStatus")
    ] = None,
    order_no: Annotated[
        str | None, Query(alias="orderNo", max_length=30, description="Part of the order number.")
    ] = None,
) -> OrderFilters:
    return OrderFilters(
        status=order_status,
        payment_status=payment_status,
        fulfillment_status=fulfillment_status,
        order_no=order_no,
    )


Filters = Annotated[OrderFilters, Depends(order_filters)]


@router.get(
    "/orders",
    summary="List orders, newest first",
    description="Account siparişlerini listeler.",
    response_model=Envelope[Page[OrderOut]],
    responses=error_responses(400, 401, 403, 422),
)
async def list_orders(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    filters: Filters,
    customer_id: Annotated[uuid.UUID | None, Query(alias="customerId")] = None,
) -> Envelope[Page[OrderOut]]:
    if customer_id is not None:
        filters = dataclasses.replace(filters, customer_id=customer_id)
    return ok(await service.list_orders(session, ctx, filters, page))


@router.post(
    "/orders",
    summary="Create an order for a CRM customer (a draft)",
    description="CRM firmaya bağlı sipariş oluşturur. Agents and above. Product lines take the "
    "product's sku, name, price and currency (and keep a snapshot of it); free-text lines need "
    "a name and a unitPrice. With `source.messageId`, a second order from the same message is "
    "a 409 `duplicate_order` unless `allowDuplicate`. Repeating a request with the same "
    f"`Idempotency-Key` returns the first answer.\n\n{MONEY_RULE}",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[OrderOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def create_order(
    body: OrderCreate,
    ctx: Agent,
    session: DbSession,
    idempotency: Idempotent,
    settings: AppSettings,
) -> Envelope[OrderOut] | JSONResponse:
    async def create() -> Envelope[OrderOut]:
        return ok(await service.create_order(session, settings, ctx.account_id, ctx.actor, body))

    return await idempotency.run(session, ctx.account_id, create, status_code=201)


@router.get(
    "/orders/{orderId}",
    summary="Get an order with its lines and status history",
    description="Sipariş detayını getirir.",
    response_model=Envelope[OrderOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_order(order_id: OrderId, ctx: Viewer, session: DbSession) -> Envelope[OrderOut]:
    return ok(await service.get_order(session, ctx, order_id))


@router.patch(
    "/orders/{orderId}",
    summary="Update an order (contact, shipping, payment, statuses of payment and fulfilment, "
    "notes, tags, metadata; currency and tax mode while editable)",
    description="Sipariş bilgilerini günceller. Only the fields sent change; "
    "`shipping.amount` and `pricesIncludeTax` recompute the totals. The order status moves "
    "through `POST /orders/{orderId}/status`.",
    response_model=Envelope[OrderOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def update_order(
    order_id: OrderId,
    body: OrderUpdate,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[OrderOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_order(session, ctx, order_id, body, version))


@router.delete(
    "/orders/{orderId}",
    summary="Delete an order (soft); a draft by an agent, any other by an admin",
    description="Siparişi soft-delete eder.",
    response_model=Envelope[dict[str, bool]],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_order(
    order_id: OrderId, ctx: Agent, session: DbSession
) -> Envelope[dict[str, bool]]:
    await service.delete_order(session, ctx, order_id)
    return ok({"deleted": True})


@router.post(
    "/orders/{orderId}/items",
    summary="Add a line (draft or confirmed orders); answers the whole order",
    description=f"Siparişe kalem ekler. {MONEY_RULE}",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[OrderOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def add_item(
    order_id: OrderId,
    body: OrderItemIn,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[OrderOut]:
    version = expected_version(None, if_match)
    return ok(await service.add_item(session, ctx, order_id, body, version))


@router.patch(
    "/orders/{orderId}/items/{orderItemId}",
    summary="Change a line (draft or confirmed orders); answers the whole order",
    description="Sipariş kalemini günceller. `entityVersion` (or `If-Match`) is the order's.",
    response_model=Envelope[OrderOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def update_item(
    order_id: OrderId,
    item_id: OrderItemId,
    body: OrderItemUpdate,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[OrderOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_item(session, ctx, order_id, item_id, body, version))


@router.delete(
    "/orders/{orderId}/items/{orderItemId}",
    summary="Remove a line (draft or confirmed orders); answers the whole order",
    description="Sipariş kalemini siler.",
    response_model=Envelope[OrderOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def delete_item(
    order_id: OrderId,
    item_id: OrderItemId,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[OrderOut]:
    version = expected_version(None, if_match)
    return ok(await service.delete_item(session, ctx, order_id, item_id, version))


@router.post(
    "/orders/{orderId}/status",
    summary="Move an order to another status",
    description="Sipariş durumunu değiştirir. draft → confirmed → processing → shipped → "
    "delivered; canceled from draft, confirmed or processing; refunded from delivered (which "
    "also marks a paid order's payment refunded). Any other move is a 409 "
    "`invalid_transition` whose `details.allowed` lists the statuses it could move to. A draft "
    "needs a line to be confirmed. Each move is kept in `statusHistory` (who, from, to, when, "
    "reason) and emits `order.status_changed`.",
    response_model=Envelope[OrderOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def change_status(
    order_id: OrderId, body: StatusChange, ctx: Agent, session: DbSession
) -> Envelope[OrderOut]:
    return ok(await service.change_status(session, ctx, order_id, body))


@router.get(
    "/crm/customers/{customerId}/orders",
    summary="A CRM customer's orders, newest first",
    description="CRM firma siparişlerini listeler.",
    response_model=Envelope[Page[OrderOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def customer_orders(
    customer_id: CustomerId, ctx: Viewer, session: DbSession, page: Paging, filters: Filters
) -> Envelope[Page[OrderOut]]:
    return ok(await service.customer_orders(session, ctx, customer_id, filters, page))
