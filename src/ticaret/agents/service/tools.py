"""The functions an agent may call, as OpenAI function tools.

Each tool is a pydantic model of its arguments (its JSON schema is what the model sees, and
what the model sends is validated against it before anything runs) and a function that answers
a JSON-able dict. A tool that fails (arguments that do not fit, a product that does not exist,
a conversation with no customer) answers the model with `{"error": {code, message}}` and the
run goes on: the model can correct itself or tell the customer.

Tools act through the other domains' own services (catalog search, orders, the CRM), in the
account of the run, as the actor `ai` with the run's id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.agents.service import conversations as conversation_port
from ticaret.catalog.repository import products as products_repository
from ticaret.catalog.repository.products import ProductFilters
from ticaret.catalog.service.products import product_views
from ticaret.catalog.service.search import search_products as catalog_search
from ticaret.core.errors import AppError
from ticaret.core.events import Actor
from ticaret.core.money import format_decimal
from ticaret.crm.repository import customers as customers_repository
from ticaret.models import AiAgent, AiAgentRun, Order, Product, ProductStatus
from ticaret.models.agents import AgentTool
from ticaret.orders import repository as orders_repository
from ticaret.orders.errors import DuplicateOrder
from ticaret.orders.repository import OrderFilters
from ticaret.orders.schemas import OrderCreate, OrderItemIn, OrderOut, OrderSource
from ticaret.orders.service import create_order, order_views
from ticaret.settings import get_settings


class ToolFailed(Exception):
    """A tool's answer to the model that it could not do what was asked."""

    code = "tool_failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoCustomer(ToolFailed):
    code = "no_customer"


class ProductMissing(ToolFailed):
    code = "product_not_found"


class OrderMissing(ToolFailed):
    code = "order_not_found"


@dataclass
class ToolContext:
    session: AsyncSession
    account_id: uuid.UUID
    agent: AiAgent
    run: AiAgentRun
    conversation: conversation_port.ConversationView
    # Which call of the run this is ("<step position>:<index in the step>"): the key a tool
    # with a side effect makes it idempotent with, so one call never acts twice.
    call_key: str = ""

    @property
    def actor(self) -> Actor:
        return Actor("ai", str(self.run.id))


class Arguments(BaseModel):
    # The model's JSON names are the schema's own (snake_case, as function parameters are
    # usually written); nothing undeclared is accepted.
    model_config = ConfigDict(extra="forbid")


class SearchProducts(Arguments):
    """Search the shop's catalog (name, sku, brand, category, attributes such as colour or
    size); typos and Turkish letters are tolerated. Best matches first."""

    query: str = Field(min_length=1, max_length=200, description="What the customer wants.")
    limit: int = Field(default=5, ge=1, le=10)


class ProductRef(Arguments):
    product_id: uuid.UUID | None = Field(default=None, description="From search_products.")
    sku: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _one(self) -> ProductRef:
        if (self.product_id is None) == (self.sku is None):
            raise ValueError("give product_id or sku (one of them)")
        return self


class GetProduct(ProductRef):
    """One product with its price, stock, variants (sizes, colours) and description."""


class CheckStock(ProductRef):
    """Whether a product (and each of its variants) is in stock, and how many are left."""


class OrderLine(Arguments):
    product_id: uuid.UUID
    quantity: int = Field(default=1, ge=1, le=1000)
    variant_note: str | None = Field(
        default=None, max_length=500, description="Size, colour, ... as the customer said it."
    )


class CreateOrderDraft(Arguments):
    """Create a draft order for the customer of this conversation (a person confirms it
    later). Use product ids from search_products."""

    items: list[OrderLine] = Field(min_length=1, max_length=20)
    notes: str | None = Field(default=None, max_length=2000)


class GetOrderStatus(Arguments):
    """The status of one of this customer's orders (the latest one when no number is given)."""

    order_no: str | None = Field(default=None, max_length=40, description="E.g. TS-000123.")


class LookupCustomer(Arguments):
    """The CRM customer this conversation is with (name, phones, emails, city)."""


class HandoffToHuman(Arguments):
    """Hand the conversation to the team: the AI stops answering it. Use when the customer
    asks for a person, or when you cannot help with confidence."""

    reason: str = Field(min_length=1, max_length=500)


Handler = Callable[[ToolContext, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Tool:
    name: AgentTool
    arguments: type[Arguments]
    handler: Handler

    def spec(self) -> dict[str, Any]:
        schema = self.arguments.model_json_schema()
        schema.pop("title", None)
        schema.pop("description", None)
        return {
            "type": "function",
            "function": {
                "name": self.name.value,
                "description": " ".join((self.arguments.__doc__ or "").split()),
                "parameters": schema,
            },
        }


def _money(value: Decimal | None) -> str | None:
    return format_decimal(value) if value is not None else None


def _product_brief(product: Product) -> dict[str, Any]:
    return {
        "product_id": str(product.id),
        "sku": product.sku,
        "name": product.name,
        "price": _money(product.price),
        "currency": product.currency,
        "stock_status": product.stock_status,
        "stock_quantity": product.stock_quantity,
    }


async def _search_products(ctx: ToolContext, args: SearchProducts) -> dict[str, Any]:
    matches = await catalog_search(
        ctx.session,
        ctx.account_id,
        args.query,
        filters=ProductFilters(status=ProductStatus.active),
        limit=args.limit,
    )
    return {
        "products": [
            {**_product_brief(match.product), "score": round(match.score, 3)} for match in matches
        ]
    }


async def _product(ctx: ToolContext, ref: ProductRef) -> Product:
    if ref.product_id is not None:
        product = await products_repository.product(ctx.session, ctx.account_id, ref.product_id)
    else:
        assert ref.sku is not None
        product = await products_repository.product_with_sku(ctx.session, ctx.account_id, ref.sku)
    if product is None or product.status != ProductStatus.active:
        raise ProductMissing("No product of this shop has this id or sku.")
    return product


async def _get_product(ctx: ToolContext, args: GetProduct) -> dict[str, Any]:
    product = await _product(ctx, args)
    (view,) = await product_views(ctx.session, ctx.account_id, [product])
    return {
        **_product_brief(product),
        "description": view.description,
        "brand": view.brand,
        "category": view.category,
        "attributes": view.attributes,
        "variants": [
            {
                "sku": variant.sku,
                "name": variant.name,
                "attributes": variant.attributes,
                "price": _money(variant.price),
                "stock_status": variant.stock_status,
                "stock_quantity": variant.stock_quantity,
            }
            for variant in view.variants
        ],
    }


async def _check_stock(ctx: ToolContext, args: CheckStock) -> dict[str, Any]:
    product = await _product(ctx, args)
    variants = await products_repository.variants_of(ctx.session, ctx.account_id, [product.id])
    return {
        "product_id": str(product.id),
        "sku": product.sku,
        "stock_status": product.stock_status,
        "stock_quantity": product.stock_quantity,
        "variants": [
            {
                "sku": variant.sku,
                "attributes": variant.attributes,
                "stock_status": variant.stock_status,
                "stock_quantity": variant.stock_quantity,
            }
            for variant in variants.get(product.id, [])
        ],
    }


def _customer_of(ctx: ToolContext) -> uuid.UUID:
    if ctx.conversation.customer_id is None:
        raise NoCustomer(
            "This conversation is not linked to a CRM customer; ask a person to link it."
        )
    return ctx.conversation.customer_id


def _order_brief(order: Order) -> dict[str, Any]:
    return {
        "order_id": str(order.id),
        "order_no": order.order_no,
        "status": order.status,
        "payment_status": order.payment_status,
        "fulfillment_status": order.fulfillment_status,
        "grand_total": _money(order.grand_total),
        "currency": order.currency,
    }


def _draft_result(order: OrderOut) -> dict[str, Any]:
    return {
        "order_id": str(order.id),
        "order_no": order.order_no,
        "status": order.status.value,
        "grand_total": format_decimal(order.grand_total),
        "currency": order.currency,
        "items": [
            {
                "sku": item.sku,
                "name": item.name,
                "quantity": item.quantity,
                "line_total": format_decimal(item.line_total),
            }
            for item in order.items
        ],
    }


async def _create_order_draft(ctx: ToolContext, args: CreateOrderDraft) -> dict[str, Any]:
    # The orders service's duplicate check (an advisory lock on the source, then a lookup)
    # keyed by the run and the call: two workers on one run, or a run taken up again, can
    # never make two orders for one call of the model.
    source = OrderSource(
        channel="ai_agent",
        source_type="conversation",
        source_id=str(ctx.agent.id),
        thread_id=str(ctx.conversation.id),
        message_id=f"run:{ctx.run.id}:{ctx.call_key}" if ctx.call_key else None,
    )
    try:
        order = await create_order(
            ctx.session,
            get_settings(),
            ctx.account_id,
            ctx.actor,
            OrderCreate(
                customer_id=_customer_of(ctx),
                items=[
                    OrderItemIn(
                        product_id=line.product_id,
                        quantity=line.quantity,
                        variant_note=line.variant_note,
                    )
                    for line in args.items
                ],
                notes=args.notes,
                source=source,
            ),
        )
    except DuplicateOrder as exc:
        # This very call made it already: its order is the answer.
        made = await orders_repository.order(
            ctx.session, ctx.account_id, uuid.UUID(exc.details["orderId"])
        )
        if made is None:  # pragma: no cover - found under the lock a moment ago
            raise
        (existing,) = await order_views(ctx.session, ctx.account_id, [made])
        return _draft_result(existing)
    return _draft_result(order)


async def _get_order_status(ctx: ToolContext, args: GetOrderStatus) -> dict[str, Any]:
    # Only this customer's orders: a chat must not read another customer's order by number.
    orders = await orders_repository.orders_page(
        ctx.session,
        ctx.account_id,
        OrderFilters(customer_id=_customer_of(ctx), order_no=args.order_no),
        after=None,
        limit=1,
    )
    exact = [o for o in orders if args.order_no is None or o.order_no == args.order_no]
    if not exact:
        raise OrderMissing("This customer has no order with this number.")
    return _order_brief(exact[0])


async def _lookup_customer(ctx: ToolContext, args: LookupCustomer) -> dict[str, Any]:
    # Only the conversation's own customer: whoever writes in a chat must not be able to read
    # other customers' details through the model (by phone, name, ...).
    customer = await customers_repository.customer(ctx.session, ctx.account_id, _customer_of(ctx))
    if customer is None:
        raise NoCustomer("This conversation's customer was deleted from the CRM.")
    return {
        "customer_id": str(customer.id),
        "title": customer.title,
        "phones": list(customer.phones),
        "emails": list(customer.emails),
        "city": customer.city,
    }


async def _handoff_to_human(ctx: ToolContext, args: HandoffToHuman) -> dict[str, Any]:
    await conversation_port.hand_off(
        ctx.session, ctx.conversation, ctx.agent, ctx.run, reason=args.reason
    )
    ctx.run.handed_off = True
    return {
        "handed_off": True,
        "group_id": str(ctx.agent.handoff_group_id) if ctx.agent.handoff_group_id else None,
        "note": "The team takes over; tell the customer a person will answer soon.",
    }


def _tool(name: AgentTool, arguments: type[Arguments], handler: Any) -> Tool:
    return Tool(name, arguments, handler)


TOOLS: dict[str, Tool] = {
    tool.name.value: tool
    for tool in (
        _tool(AgentTool.search_products, SearchProducts, _search_products),
        _tool(AgentTool.get_product, GetProduct, _get_product),
        _tool(AgentTool.check_stock, CheckStock, _check_stock),
        _tool(AgentTool.create_order_draft, CreateOrderDraft, _create_order_draft),
        _tool(AgentTool.get_order_status, GetOrderStatus, _get_order_status),
        _tool(AgentTool.lookup_customer, LookupCustomer, _lookup_customer),
        _tool(AgentTool.handoff_to_human, HandoffToHuman, _handoff_to_human),
    )
}


# Built once: a JSON schema from pydantic costs milliseconds, and every model call sends them.
_SPECS = {name: tool.spec() for name, tool in TOOLS.items()}


def tool_specs(enabled: list[str]) -> list[dict[str, Any]]:
    return [_SPECS[name] for name in enabled if name in _SPECS]


@dataclass(frozen=True)
class CallOutcome:
    arguments: Any  # parsed JSON, or the raw text when it was not JSON
    result: dict[str, Any]
    error: bool

    def as_tool_message(self, call_id: str) -> dict[str, Any]:
        return {
            "role": "tool",
            "tool_call_id": call_id,
            "content": json.dumps(self.result, ensure_ascii=False, default=str),
        }


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _validation_problem(exc: ValidationError) -> str:
    parts = []
    for problem in exc.errors()[:5]:
        where = ".".join(str(p) for p in problem["loc"]) or "arguments"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)


def not_run(raw: str, message: str) -> CallOutcome:
    try:
        parsed: Any = json.loads(raw) if raw.strip() else {}
    except ValueError:
        parsed = raw
    return CallOutcome(parsed, _error("not_run", message), True)


async def call_tool(ctx: ToolContext, enabled: list[str], name: str, raw: str) -> CallOutcome:
    """Run one function call; whatever goes wrong becomes an error result for the model."""
    try:
        parsed: Any = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return CallOutcome(raw, _error("invalid_arguments", "The arguments are not JSON."), True)
    tool = TOOLS.get(name)
    if tool is None or name not in enabled:
        return CallOutcome(
            parsed, _error("unknown_tool", f"There is no function named {name!r}."), True
        )
    try:
        arguments = tool.arguments.model_validate(parsed)
    except ValidationError as exc:
        return CallOutcome(parsed, _error("invalid_arguments", _validation_problem(exc)), True)
    # A savepoint: a tool that fails half-way leaves nothing of its work behind, and the run's
    # transaction stays usable.
    savepoint = await ctx.session.begin_nested()
    try:
        result = await tool.handler(ctx, arguments)
    except ToolFailed as exc:
        await savepoint.rollback()
        return CallOutcome(parsed, _error(exc.code, exc.message), True)
    except AppError as exc:
        await savepoint.rollback()
        return CallOutcome(parsed, _error(exc.error_code, exc.message), True)
    await savepoint.commit()
    return CallOutcome(parsed, result, False)
