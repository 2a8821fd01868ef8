"""The money of an order: every line priced by one rule, the totals summed from the lines.

The rule, as documented on the order schema so clients compute the same figures:

    lineSubtotal = unitPrice × quantity
    taxAmount    = round_half_up((lineSubtotal − discountAmount) × taxRate / 100)
    lineTotal    = lineSubtotal − discountAmount + taxAmount

and with `pricesIncludeTax` the tax is inside the price, extracted with the same rounding:

    taxAmount    = round_half_up((lineSubtotal − discountAmount) × taxRate / (100 + taxRate))
    lineTotal    = lineSubtotal − discountAmount

`discountAmount` is for the whole line, `taxRate` a percentage (20 is 20 %). Rounding is to the
currency's minor unit (2 digits for TRY/USD/EUR, 0 for JPY), halves away from zero, once per
line; totals are plain sums of the rounded lines:

    subtotal = Σ lineSubtotal, discountTotal = Σ discountAmount, taxTotal = Σ taxAmount,
    grandTotal = subtotal − discountTotal + taxTotal + shippingTotal
    (with pricesIncludeTax: grandTotal = subtotal − discountTotal + shippingTotal)
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ticaret.core.money import round_half_up

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# Wide enough that no intermediate product or quotient is rounded before the one rounding the
# rule asks for (amounts stay below 10^13, quantities below 10^6).
_EXACT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)


@dataclass(frozen=True)
class LineAmounts:
    line_subtotal: Decimal
    discount_amount: Decimal
    tax_amount: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    shipping_total: Decimal
    grand_total: Decimal


def price_line(
    unit_price: Decimal,
    quantity: int,
    discount_amount: Decimal,
    tax_rate: Decimal,
    currency: str,
    *,
    prices_include_tax: bool,
) -> LineAmounts:
    with decimal.localcontext(_EXACT):
        line_subtotal = round_half_up(unit_price * quantity, currency)
        taxable = line_subtotal - discount_amount
        if prices_include_tax:
            tax = round_half_up(taxable * tax_rate / (HUNDRED + tax_rate), currency)
            total = taxable
        else:
            tax = round_half_up(taxable * tax_rate / HUNDRED, currency)
            total = taxable + tax
    return LineAmounts(line_subtotal, discount_amount, tax, total)


def order_totals(
    lines: Iterable[LineAmounts], shipping_total: Decimal, *, prices_include_tax: bool
) -> Totals:
    subtotal = discount = tax = ZERO
    for line in lines:
        subtotal += line.line_subtotal
        discount += line.discount_amount
        tax += line.tax_amount
    grand = subtotal - discount + shipping_total + (ZERO if prices_include_tax else tax)
    return Totals(subtotal, discount, tax, shipping_total, grand)
