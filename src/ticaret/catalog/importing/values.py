"""Cell values as product fields: numbers written the Turkish or the English way, stock and
product statuses in either language, tags, attributes, URLs.

Every reader takes what a CSV (text), an XLSX (typed cells) or a JSON row (JSON values) holds
and returns the field's value or raises `CellError` with a code and a message for the row's
error report. They run once per cell of every imported row, so they take the cheap path first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from ticaret.core.money import MoneyError, exact_amount, known_currency
from ticaret.models import ProductStatus, StockStatus

MAX_STOCK = 2**31 - 1
MAX_TAGS = 50
MAX_TAG_LENGTH = 60
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_LENGTH = 500


class CellError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def text_of(value: Any) -> str | None:
    """A cell as stripped text; None when empty. Typed XLSX cells are written plainly."""
    if value is None:
        return None
    if type(value) is str:
        text = value.strip()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, int | Decimal):
        text = str(value)
    elif isinstance(value, datetime):
        text = value.date().isoformat() if value.time() == time() else value.isoformat()
    elif isinstance(value, date | time):
        text = value.isoformat()
    elif isinstance(value, dict | list):
        raise CellError("invalid_value", "must be text, not a JSON object or list")
    else:
        text = str(value).strip()
    if not text:
        return None
    if "\x00" in text:
        raise CellError("invalid_text", "contains a NUL character")
    return text


def bounded_text(value: Any, limit: int) -> str | None:
    text = text_of(value)
    if text is not None and len(text) > limit:
        raise CellError("too_long", f"is longer than {limit} characters")
    return text


def text_reader(limit: int) -> Callable[[Any], str | None]:
    """`bounded_text` for one column: a text cell (every CSV cell) takes the short path."""

    def read(value: Any) -> str | None:
        if type(value) is str:
            text = value.strip()
            if not text:
                return None
            if "\x00" in text:
                raise CellError("invalid_text", "contains a NUL character")
            if len(text) > limit:
                raise CellError("too_long", f"is longer than {limit} characters")
            return text
        return bounded_text(value, limit)

    return read


# Numbers ------------------------------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_CURRENCY_MARKS = re.compile(r"(?i)^(?:tl|try|usd|eur|gbp)|(?:tl|try|usd|eur|gbp)$")
_NOISE = str.maketrans("", "", "₺$€£ \u00a0\u202f'")
_GROUPED = re.compile(r"-?\d{1,3}(?:[.,]\d{3})+")


class NumberFormat:
    """How the file writes decimals: `","` (Turkish: 1.299,90), `"."` (1,299.90) or `"auto"`.

    In auto, a value with both marks takes the last one as the decimal mark; a lone comma is a
    decimal comma (1299,90); a lone dot is a decimal point, except `1.299` (one dot, three
    digits) in a file whose fields are separated by `;` (a Turkish spreadsheet's CSV), where
    it groups thousands.
    """

    def __init__(self, decimal_mark: str = "auto", *, dot_groups_thousands: bool = False) -> None:
        self.decimal_mark = decimal_mark
        self.dot_groups_thousands = dot_groups_thousands

    def parse(self, value: Any) -> Decimal | None:
        if value is None:
            return None
        kind = type(value)
        if kind is int:
            return Decimal(value)
        if kind is float:
            if value != value or value in (float("inf"), float("-inf")):
                raise CellError("invalid_number", "is not a number")
            # The shortest repr of a spreadsheet's double is the number the shop typed.
            return Decimal(repr(value))
        if kind is Decimal:
            return value  # type: ignore[no-any-return]
        if kind is bool:
            raise CellError("invalid_number", "is not a number")
        text = text_of(value)
        if text is None:
            return None
        if (
            self.decimal_mark != ","
            and _PLAIN_NUMBER.fullmatch(text)
            and not (self.dot_groups_thousands and _is_dot_grouped(text))
        ):
            return Decimal(text)
        return Decimal(self._normalised(text))

    def _normalised(self, raw: str) -> str:
        text = _CURRENCY_MARKS.sub("", raw.translate(_NOISE)).strip()
        comma, dot = "," in text, "." in text
        if comma and dot:
            # The last mark is the decimal one; the other groups thousands.
            text = _ungroup(text, "." if text.rfind(",") > text.rfind(".") else ",", raw)
        elif comma:
            if self.decimal_mark == "." or text.count(",") > 1:
                text = _ungroup(text, ",", raw)
            else:
                text = text.replace(",", ".")
        elif dot and (
            self.decimal_mark == ","
            or text.count(".") > 1
            or (self.dot_groups_thousands and _is_dot_grouped(text))
        ):
            text = _ungroup(text, ".", raw)
        if not _PLAIN_NUMBER.fullmatch(text):
            raise CellError("invalid_number", f"{raw!r} is not a number")
        return text


def _is_dot_grouped(text: str) -> bool:
    head, _, tail = text.partition(".")
    return len(tail) == 3 and 1 <= len(head.lstrip("-")) <= 3


def _ungroup(text: str, separator: str, raw: str) -> str:
    """`text` without its thousands `separator`s (which must group by three), with the other
    mark, if any, as the decimal point."""
    decimal_mark = "," if separator == "." else "."
    whole, mark, fraction = (
        text.rpartition(decimal_mark)
        if decimal_mark in text
        else (
            "",
            "",
            text,
        )
    )
    if not mark:
        whole, fraction = fraction, ""
    if separator in whole and not _GROUPED.fullmatch(whole.replace(separator, ",")):
        raise CellError("invalid_number", f"{raw!r} is not a number")
    digits = whole.replace(separator, "")
    return f"{digits}.{fraction}" if mark else digits


# Distinct cell texts remembered per column reader: a catalog repeats its prices and
# quantities, and parsing `1.299,90` costs twenty times a lookup.
_MEMO_SIZE = 50_000


class AmountReader:
    """`amount` for one column of one file, remembering what each text cell gave."""

    def __init__(self, numbers: NumberFormat, what: str) -> None:
        self._numbers = numbers
        self._what = what
        self._known: dict[tuple[str, str], Decimal | None] = {}

    def __call__(self, value: Any, currency: str) -> Decimal | None:
        if type(value) is not str:
            return amount(value, self._numbers, currency, self._what)
        key = (value, currency)
        found = self._known.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        parsed = amount(value, self._numbers, currency, self._what)
        if len(self._known) >= _MEMO_SIZE:
            self._known.clear()
        self._known[key] = parsed
        return parsed


class WholeNumberReader:
    """`whole_number` for one column of one file; plain digits take the short path."""

    def __init__(self, numbers: NumberFormat) -> None:
        self._numbers = numbers

    def __call__(self, value: Any) -> int | None:
        if type(value) is str and value.isascii() and value.isdigit():
            number = int(value)
            if number > MAX_STOCK:
                raise CellError("too_large", "is too large")
            return number
        return whole_number(value, self._numbers)


_MISSING = object()


def amount(value: Any, numbers: NumberFormat, currency: str, what: str) -> Decimal | None:
    try:
        parsed = numbers.parse(value)
    except InvalidOperation:
        raise CellError("invalid_number", "is not a number") from None
    if parsed is None:
        return None
    if parsed < 0:
        raise CellError("negative", f"{what} cannot be negative")
    try:
        return exact_amount(parsed, currency, what=what)
    except MoneyError as exc:
        raise CellError("invalid_amount", str(exc)) from None


def whole_number(value: Any, numbers: NumberFormat) -> int | None:
    if type(value) is int:  # a typed spreadsheet cell: the common case, checked directly
        if value < 0:
            raise CellError("negative", "cannot be negative")
        if value > MAX_STOCK:
            raise CellError("too_large", "is too large")
        return value
    try:
        number = numbers.parse(value)
    except InvalidOperation:
        raise CellError("invalid_number", "is not a number") from None
    if number is None:
        return None
    if number != number.to_integral_value():
        raise CellError("not_whole", "must be a whole number")
    if number < 0:
        raise CellError("negative", "cannot be negative")
    if number > MAX_STOCK:
        raise CellError("too_large", "is too large")
    return int(number)


def currency_code(value: Any) -> str | None:
    text = text_of(value)
    if text is None:
        return None
    code = text.upper()
    if code == "TL":
        code = "TRY"
    if not known_currency(code):
        raise CellError("unknown_currency", f"{text!r} is not an ISO 4217 currency code")
    return code


# Choices ------------------------------------------------------------------------------------


def _folded(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.translate(_TURKISH_LOWER).lower())


_TURKISH_LOWER = str.maketrans("İIıŞşĞğÇçÖöÜü", "iiissggccoouu")

_STOCK_WORDS = {
    **{s.value: s.value for s in StockStatus},
    "instock": StockStatus.in_stock,
    "available": StockStatus.in_stock,
    "stokta": StockStatus.in_stock,
    "stokta_var": StockStatus.in_stock,
    "var": StockStatus.in_stock,
    "mevcut": StockStatus.in_stock,
    "low": StockStatus.low_stock,
    "az": StockStatus.low_stock,
    "azaldi": StockStatus.low_stock,
    "sinirli": StockStatus.low_stock,
    "sinirli_stok": StockStatus.low_stock,
    "outofstock": StockStatus.out_of_stock,
    "sold_out": StockStatus.out_of_stock,
    "yok": StockStatus.out_of_stock,
    "stokta_yok": StockStatus.out_of_stock,
    "tukendi": StockStatus.out_of_stock,
    "on_siparis": StockStatus.preorder,
    "onsiparis": StockStatus.preorder,
    "pre_order": StockStatus.preorder,
}

_STATUS_WORDS = {
    **{s.value: s.value for s in ProductStatus},
    "aktif": ProductStatus.active,
    "yayinda": ProductStatus.active,
    "satista": ProductStatus.active,
    "taslak": ProductStatus.draft,
    "pasif": ProductStatus.archived,
    "inactive": ProductStatus.archived,
    "arsiv": ProductStatus.archived,
    "arsivlendi": ProductStatus.archived,
    "arsivlenmis": ProductStatus.archived,
}


def stock_status(value: Any) -> str | None:
    text = text_of(value)
    if text is None:
        return None
    found = _STOCK_WORDS.get(_folded(text))
    if found is None:
        raise CellError(
            "invalid_choice", f"{text!r} is not a stock status ({', '.join(StockStatus)})"
        )
    return str(found)


def product_status(value: Any) -> str | None:
    text = text_of(value)
    if text is None:
        return None
    found = _STATUS_WORDS.get(_folded(text))
    if found is None:
        raise CellError("invalid_choice", f"{text!r} is not a status ({', '.join(ProductStatus)})")
    return str(found)


def stock_status_for(quantity: int) -> str:
    """The stock status a quantity implies when none is given with it."""
    return StockStatus.in_stock if quantity > 0 else StockStatus.out_of_stock


# Lists, maps, URLs --------------------------------------------------------------------------

_TAG_SEPARATORS = re.compile(r"[,;|]")


def clean_tags(values: list[str]) -> list[str]:
    tags: list[str] = []
    for raw in values:
        tag = raw.strip()
        if not tag or tag in tags:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise CellError("too_long", f"tag {tag[:20]!r}… is longer than {MAX_TAG_LENGTH}")
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise CellError("too_many", f"has more than {MAX_TAGS} tags")
    return tags


def tags(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise CellError("invalid_value", "tags must be text")
        return clean_tags(value)
    text = text_of(value)
    if text is None:
        return []
    return clean_tags(_TAG_SEPARATORS.split(text))


AttributeValue = str | int | float | bool


_attribute_text = text_reader(MAX_ATTRIBUTE_LENGTH)


def attribute_value(value: Any) -> AttributeValue | None:
    if type(value) is str:
        return _attribute_text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return bounded_text(value, MAX_ATTRIBUTE_LENGTH)


def attribute_map(value: Any) -> dict[str, AttributeValue]:
    """A whole attributes cell: a JSON object, or `renk: kırmızı; beden: M` pairs."""
    if value is None:
        return {}
    if isinstance(value, dict):
        raw: dict[str, Any] = value
    else:
        text = text_of(value)
        if text is None:
            return {}
        if text.startswith("{"):
            try:
                raw = json.loads(text)
            except ValueError:
                raise CellError("invalid_attributes", "is not a JSON object") from None
            if not isinstance(raw, dict):
                raise CellError("invalid_attributes", "is not a JSON object")
        else:
            raw = {}
            for pair in re.split(r"[;\n]", text):
                if not pair.strip():
                    continue
                key, mark, item = pair.partition(":") if ":" in pair else pair.partition("=")
                if not mark or not key.strip():
                    raise CellError(
                        "invalid_attributes", "write attributes as `name: value; name: value`"
                    )
                raw[key.strip()] = item.strip()
    attributes: dict[str, AttributeValue] = {}
    for key, item in raw.items():
        if not isinstance(key, str) or not key.strip() or len(key) > 100:
            raise CellError("invalid_attributes", "attribute names must be short text")
        if isinstance(item, dict | list):
            raise CellError("invalid_attributes", f"attribute {key!r} must be a single value")
        cleaned = attribute_value(item)
        if cleaned is not None and cleaned != "":
            attributes[key.strip()] = cleaned
    if len(attributes) > MAX_ATTRIBUTES:
        raise CellError("too_many", f"has more than {MAX_ATTRIBUTES} attributes")
    return attributes


_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def url(value: Any) -> str | None:
    text = bounded_text(value, 2048)
    if text is None:
        return None
    if not _URL.fullmatch(text):
        raise CellError("invalid_url", "must be an http(s) URL")
    return text
