"""The errors of orders, each with its fixed code."""

from __future__ import annotations

from ticaret.core.errors import Conflict, NotFound, ValidationFailed


class OrderNotFound(NotFound):
    code = "order_not_found"
    default_message = "Order not found."


class OrderItemNotFound(NotFound):
    code = "order_item_not_found"
    default_message = "Order item not found."


class ProductNotFound(NotFound):
    code = "product_not_found"
    default_message = "Product not found."


class ProductUnavailable(ValidationFailed):
    code = "product_unavailable"
    default_message = "The product is archived; it cannot be ordered."


class CurrencyMismatch(ValidationFailed):
    code = "currency_mismatch"
    default_message = "An order has one currency; this line is in another."


class InvalidOrderLine(ValidationFailed):
    """A line that passes the schema but not the money rules (more decimals than the currency
    has, a discount larger than the line, no price to use)."""


class OrderEmpty(ValidationFailed):
    code = "order_empty"
    default_message = "An order without lines cannot be confirmed."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = "The order cannot move to this status."


class OrderNotEditable(Conflict):
    code = "order_not_editable"
    default_message = (
        "Lines, currency and tax mode change only while the order is draft or confirmed."
    )


class DuplicateOrder(Conflict):
    code = "duplicate_order"
    default_message = (
        "An order was already made from this message; send allowDuplicate: true to make another."
    )
