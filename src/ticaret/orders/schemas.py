"""Request and response models of orders (camelCase on the wire; amounts as decimal strings)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from ticaret.catalog.importing import values
from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.core.money import Money, Percentage, known_currency
from ticaret.crm.schemas.common import ContactBrief, CustomerBrief
from ticaret.models import FulfillmentStatus, OrderStatus, PaymentStatus

CurrencyCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=3, max_length=3)
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
MAX_ITEMS = 200
MAX_QUANTITY = 1_000_000

MONEY_RULE = (
    'Amounts are decimal strings at the currency\'s minor unit (`"1299.90"`; JPY has none). '
    "One currency per order. Each line: `lineSubtotal = unitPrice × quantity`; "
    "`discountAmount` is the discount for the whole line; `taxRate` is a percentage (20 means "
    "20 %); `taxAmount = round_half_up((lineSubtotal − discountAmount) × taxRate / 100)`; "
    "`lineTotal = lineSubtotal − discountAmount + taxAmount`. With `pricesIncludeTax` the tax "
    "is inside the price: `taxAmount = round_half_up((lineSubtotal − discountAmount) × taxRate "
    "/ (100 + taxRate))` and `lineTotal = lineSubtotal − discountAmount`. Rounding is to the "
    "currency's minor unit, halves away from zero (1.005 → 1.01), once per line. Totals sum "
    "the rounded lines: `subtotal = Σ lineSubtotal`, `discountTotal = Σ discountAmount`, "
    "`taxTotal = Σ taxAmount`, `grandTotal = subtotal − discountTotal + taxTotal + "
    "shippingTotal` (without `taxTotal` when prices include tax). Totals are recomputed in the "
    "transaction of every line change."
)
# The rule itself is applied in `orders/pricing.py` (its docstring shows it as formulas).


def _currency(value: str | None) -> str | None:
    if value is not None and not known_currency(value):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


def _tags(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    try:
        return values.clean_tags(value)
    except values.CellError as exc:
        raise ValueError(exc.message) from None


def _rate(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0 or value > 100:
        raise ValueError("must be a percentage from 0 to 100")
    if value != value.quantize(Decimal("0.0001")):
        raise ValueError("has more than 4 decimals")
    return value


class OrderSource(ApiModel):
    """Where the order came from: a channel and the conversation and message in it."""

    channel: str = Field(
        max_length=40,
        pattern=r"^[a-z][a-z0-9_]*$",
        examples=["provider_whatsapp"],
        description="provider_whatsapp, meta, instagram, manual, api, ...",
    )
    source_type: ShortText | None = Field(default=None, max_length=40)
    source_id: ShortText | None = Field(
        default=None, description="The inbox: a WhatsApp session, a Page, an Instagram account."
    )
    thread_id: ShortText | None = Field(default=None, description="The chat or thread.")
    message_id: ShortText | None = Field(
        default=None, description="The message the order was made from (duplicate check)."
    )


class ShippingInfo(ApiModel):
    recipient_name: ShortText | None = None
    phone: str | None = Field(default=None, max_length=40)
    address_line1: str | None = Field(default=None, max_length=300)
    address_line2: str | None = Field(default=None, max_length=300)
    district: ShortText | None = None
    city: ShortText | None = None
    postal_code: str | None = Field(default=None, max_length=20)
    country_code: str | None = Field(default=None, min_length=2, max_length=2)
    method: str | None = Field(default=None, max_length=100, examples=["Yurtiçi Kargo"])
    tracking_number: str | None = Field(default=None, max_length=100)
    amount: Money | None = Field(default=None, description="Becomes the order's shippingTotal.")
    notes: str | None = Field(default=None, max_length=1000)


class PaymentInfo(ApiModel):
    method: str | None = Field(
        default=None, max_length=40, examples=["cash_on_delivery", "bank_transfer", "card"]
    )
    reference: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=1000)


class OrderItemIn(ApiModel):
    """A line: a catalog product (its sku, name, price and currency are the defaults, and a
    snapshot of it is kept), or a free-text line with a name and a unitPrice."""

    product_id: uuid.UUID | None = None
    sku: str | None = Field(default=None, max_length=100)
    name: str | None = Field(default=None, min_length=1, max_length=300)
    unit_price: Money | None = Field(default=None, description="Default: the product's price.")
    currency: CurrencyCode | None = Field(
        default=None, description="Must be the order's currency (default: it)."
    )
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    discount_amount: Money = Field(default=Decimal(0), description="For the whole line.")
    tax_rate: Percentage = Field(default=Decimal(0), description="A percentage: 20 is 20 %.")
    variant_note: str | None = Field(default=None, max_length=500, examples=["38 beden, kırmızı"])
    metadata: dict[str, Any] = Field(default_factory=dict)

    _currency = field_validator("currency")(_currency)
    _rate = field_validator("tax_rate")(_rate)


class OrderItemUpdate(ApiModel):
    sku: str | None = Field(default=None, max_length=100)
    name: str | None = Field(default=None, min_length=1, max_length=300)
    unit_price: Money | None = None
    quantity: int | None = Field(default=None, ge=1, le=MAX_QUANTITY)
    discount_amount: Money | None = None
    tax_rate: Percentage | None = None
    variant_note: str | None = Field(default=None, max_length=500)
    metadata: dict[str, Any] | None = None
    entity_version: str | None = Field(
        default=None, description="The order's entityVersion the change was based on."
    )

    _rate = field_validator("tax_rate")(_rate)


class OrderCreate(ApiModel):
    """The published create-order request, plus currency, tax mode and source."""

    customer_id: uuid.UUID = Field(description="The CRM customer (firma) the order is for.")
    contact_id: uuid.UUID | None = Field(default=None, description="A contact of that customer.")
    items: list[OrderItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    currency: CurrencyCode | None = Field(
        default=None, description="Default: the first product line's currency, else TRY."
    )
    prices_include_tax: bool = False
    shipping: ShippingInfo | None = None
    payment: PaymentInfo | None = None
    source: OrderSource | None = None
    notes: str | None = Field(default=None, max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=values.MAX_TAGS)
    metadata: dict[str, Any] = Field(default_factory=dict)
    allow_duplicate: bool = Field(
        default=False,
        description="Make an order even if one was already made from source.messageId.",
    )

    _currency = field_validator("currency")(_currency)
    _tags = field_validator("tags")(_tags)


class OrderUpdate(ApiModel):
    """Only the fields sent change. `currency` and `pricesIncludeTax` re-price the lines, so
    they change only while the order is draft or confirmed."""

    contact_id: uuid.UUID | None = None
    currency: CurrencyCode | None = None
    prices_include_tax: bool | None = None
    shipping: ShippingInfo | None = None
    payment: PaymentInfo | None = None
    payment_status: PaymentStatus | None = None
    fulfillment_status: FulfillmentStatus | None = None
    notes: str | None = Field(default=None, max_length=5000)
    tags: list[str] | None = Field(default=None, max_length=values.MAX_TAGS)
    metadata: dict[str, Any] | None = None
    entity_version: str | None = None

    _currency = field_validator("currency")(_currency)
    _tags = field_validator("tags")(_tags)


class StatusChange(ApiModel):
    status: OrderStatus
    reason: str | None = Field(default=None, max_length=500)
    entity_version: str | None = None


class OrderItemOut(ResponseModel):
    id: uuid.UUID
    position: int
    product_id: uuid.UUID | None
    sku: str | None
    name: str
    variant_note: str | None
    unit_price: Money
    currency: str
    quantity: int
    discount_amount: Money
    tax_rate: Percentage
    tax_amount: Money
    line_subtotal: Money
    line_total: Money
    product_snapshot: dict[str, Any] | None = Field(
        description="The product as it was when the line was added (null for free text)."
    )
    metadata: dict[str, Any]


class StatusChangeOut(ResponseModel):
    from_status: OrderStatus | None = Field(description="Null on the creation row.")
    to_status: OrderStatus
    reason: str | None
    actor_type: str
    actor_id: str | None
    created_at: Timestamp


class OrderSourceOut(ResponseModel):
    channel: str | None
    source_type: str | None
    source_id: str | None
    thread_id: str | None
    message_id: str | None


class OrderOut(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={"description": f"An order of a CRM customer. {MONEY_RULE}"}
    )

    id: uuid.UUID
    account_id: uuid.UUID
    order_no: str = Field(examples=["TS-000123"])
    customer_id: uuid.UUID
    customer: CustomerBrief | None = Field(description="Null once the customer is deleted.")
    contact_id: uuid.UUID | None
    contact: ContactBrief | None
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    currency: str
    prices_include_tax: bool
    subtotal: Money
    discount_total: Money
    tax_total: Money
    shipping_total: Money
    grand_total: Money
    source: OrderSourceOut | None
    shipping: dict[str, Any]
    payment: dict[str, Any]
    notes: str | None
    tags: list[str]
    metadata: dict[str, Any]
    items: list[OrderItemOut] = Field(description="In the order they were added.")
    status_history: list[StatusChangeOut] = Field(description="Oldest first.")
    created_by_type: str
    created_by_id: str | None
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str
