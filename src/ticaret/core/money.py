"""Money: `Decimal` end to end, rounded to each currency's minor unit, half-up.

Amounts travel as JSON strings (`"1299.90"`, `"1500"` for JPY) so no client parses them into a
binary float; requests may also send JSON numbers, which are read through their decimal text.
The database keeps them in `NUMERIC` columns. Catalog prices and order lines share these rules.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

# ISO 4217 codes by the digits of their minor unit.
_ZERO_DIGITS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DIGITS = "BHD IQD JOD KWD LYD OMR TND"
_TWO_DIGITS = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR "
    "LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD "
    "PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWL"
)
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_TWO_DIGITS.split(), 2),
    **dict.fromkeys(_ZERO_DIGITS.split(), 0),
    **dict.fromkeys(_THREE_DIGITS.split(), 3),
}

# Largest amount we store: well inside NUMERIC, and beyond any real price or order.
MAX_AMOUNT = Decimal("1e13")

_QUANTA = {digits: Decimal(1).scaleb(-digits) for digits in range(5)}


class MoneyError(ValueError):
    """An amount or currency that cannot be used; the message says why, for a 422."""


def known_currency(code: str) -> bool:
    return code in CURRENCY_EXPONENTS


def minor_units(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"{currency!r} is not an ISO 4217 currency code") from None


def round_half_up(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded to the currency's minor unit, halves away from zero (1.005 → 1.01)."""
    return amount.quantize(_QUANTA[minor_units(currency)], rounding=ROUND_HALF_UP)


def exact_amount(amount: Decimal, currency: str, *, what: str = "amount") -> Decimal:
    """`amount` at the currency's scale, refusing digits the currency does not have.

    A price is what the shop typed; rounding it silently would change it.
    """
    if not amount.is_finite():
        raise MoneyError(f"{what} must be a number")
    if abs(amount) >= MAX_AMOUNT:
        raise MoneyError(f"{what} is too large")
    digits = minor_units(currency)
    scaled = amount.quantize(_QUANTA[digits], rounding=ROUND_HALF_UP)
    if scaled != amount:
        raise MoneyError(
            f"{what} has more decimals than {currency} allows ({digits})"
            if digits
            else f"{what} must be a whole number in {currency}"
        )
    return scaled


def format_decimal(value: Decimal) -> str:
    """Plain notation, never an exponent: `1E+2` is written `100`."""
    return format(value, "f")


def _decimal_input(value: Any) -> Any:
    # A JSON number arrives as a float; its shortest repr is the decimal text the client sent.
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        stripped = value.strip()
        try:
            return Decimal(stripped)
        except InvalidOperation:
            raise ValueError("must be a decimal number such as 1299.90") from None
    return value


_SERIALIZE = PlainSerializer(format_decimal, return_type=str, when_used="json")

Money = Annotated[
    Decimal,
    BeforeValidator(_decimal_input),
    _SERIALIZE,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?\d+(\.\d+)?$",
            "examples": ["1299.90"],
            "description": "A decimal amount as a string, at the currency's minor unit "
            "(2 digits for TRY/USD/EUR, 0 for JPY). JSON numbers are accepted on input.",
        }
    ),
]
"""An amount of money on the wire: a decimal string."""

Percentage = Annotated[
    Decimal,
    BeforeValidator(_decimal_input),
    PlainSerializer(lambda v: format_decimal(v.normalize()), return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d+(\.\d+)?$",
            "examples": ["20"],
            "description": "A percentage as a decimal string: `20` means 20 %.",
        }
    ),
]
