"""Which product field each column of an import file fills.

Headers are recognised in English or Turkish, whatever their case, accents or punctuation
(`Stok Kodu`, `STOK_KODU` and `stok kodu` are the same header). A request may map headers
itself (`columnMapping`), which wins over the names we know. Columns that name an attribute
(`renk`, `beden`, `attr:kumaş`) fill `attributes`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Wire name (as in the product schema and `columnMapping`) -> field.
FIELDS: dict[str, str] = {
    "sku": "sku",
    "name": "name",
    "description": "description",
    "brand": "brand",
    "category": "category",
    "price": "price",
    "compareAtPrice": "compare_at_price",
    "currency": "currency",
    "stockQuantity": "stock_quantity",
    "stockStatus": "stock_status",
    "status": "status",
    "productUrl": "product_url",
    "tags": "tags",
    "attributes": "attributes",
}
ATTRIBUTE_PREFIX = "attributes."

_TURKISH = str.maketrans("ıİşŞğĞçÇöÖüÜ", "iIsSgGcCoOuU")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def header_key(header: str) -> str:
    """`Ürün Adı` -> `urun_adi`: case, accents, Turkish letters and punctuation folded."""
    text = unicodedata.normalize("NFKD", header.translate(_TURKISH))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _NOT_WORD.sub("_", text).strip("_")


def _aliases(field: str, *names: str) -> dict[str, str]:
    return {header_key(name): field for name in names}


# Header names we recognise, folded with `header_key`.
KNOWN_HEADERS: dict[str, str] = {
    **_aliases(
        "sku",
        "sku",
        "stock code",
        "stok kodu",
        "stokkodu",
        "urun kodu",
        "ürün kodu",
        "product code",
        "product sku",
        "model kodu",
        "kod",
        "code",
    ),
    **_aliases(
        "name",
        "name",
        "product name",
        "title",
        "product title",
        "ürün adı",
        "ürün ismi",
        "urun",
        "ürün",
        "ad",
        "adı",
        "isim",
        "başlık",
    ),
    **_aliases("description", "description", "açıklama", "ürün açıklaması", "detay", "details"),
    **_aliases("brand", "brand", "marka", "üretici", "manufacturer"),
    **_aliases("category", "category", "kategori", "kategori adı", "product type", "ürün tipi"),
    **_aliases(
        "price",
        "price",
        "unit price",
        "sale price",
        "fiyat",
        "satış fiyatı",
        "birim fiyat",
        "fiyatı",
    ),
    **_aliases(
        "compare_at_price",
        "compare at price",
        "compareatprice",
        "list price",
        "old price",
        "liste fiyatı",
        "eski fiyat",
        "piyasa fiyatı",
    ),
    **_aliases("currency", "currency", "para birimi", "döviz", "döviz cinsi"),
    **_aliases(
        "stock_quantity",
        "stock",
        "stock quantity",
        "stockquantity",
        "quantity",
        "qty",
        "inventory",
        "stok",
        "stok adedi",
        "stok miktarı",
        "adet",
        "miktar",
    ),
    **_aliases("stock_status", "stock status", "stockstatus", "availability", "stok durumu"),
    **_aliases("status", "status", "durum", "yayın durumu", "ürün durumu"),
    **_aliases(
        "product_url",
        "url",
        "product url",
        "producturl",
        "link",
        "ürün linki",
        "ürün url",
        "bağlantı",
    ),
    **_aliases("tags", "tags", "tag", "etiketler", "etiket"),
    **_aliases("attributes", "attributes", "özellikler", "nitelikler"),
    **_aliases("attributes.color", "color", "colour", "renk"),
    **_aliases("attributes.size", "size", "beden", "numara", "ölçü"),
    **_aliases("attributes.material", "material", "malzeme", "kumaş", "materyal"),
    **_aliases("attributes.gender", "gender", "cinsiyet"),
    **_aliases("attributes.model", "model"),
    **_aliases("attributes.pattern", "pattern", "desen"),
    **_aliases("attributes.barcode", "barcode", "barkod", "ean", "gtin"),
    **_aliases("attributes.weight", "weight", "ağırlık"),
}

# `attr:kumaş`, `attribute.fit`, `özellik:yaka tipi` name an attribute of their own.
_ATTRIBUTE_HEADER = re.compile(r"^(?:attr|attribute|attributes|ozellik|nitelik)[:._ ]+(.+)$")


class ColumnError(ValueError):
    """The file's columns cannot be imported; `code` and the message go into the 422."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    field: str  # a key of FIELDS' values
    attribute: str | None = None  # for field == "attributes": one attribute, or the whole map


@dataclass(frozen=True)
class ColumnPlan:
    columns: tuple[Column, ...]
    ignored: tuple[str, ...]

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(column.field for column in self.columns)

    @property
    def creates(self) -> bool:
        """A file with names can create products; one without only updates existing skus."""
        return "name" in self.fields

    @property
    def replaces_attributes(self) -> bool:
        """A whole `attributes` column replaces them; attribute columns merge into them."""
        return any(c.field == "attributes" and c.attribute is None for c in self.columns)

    def describe(self) -> dict[str, str]:
        """Where each field came from: {"sku": "Stok Kodu", "attributes.color": "Renk"}."""
        wire = {field: name for name, field in FIELDS.items()}
        described: dict[str, str] = {}
        for column in self.columns:
            name = wire[column.field]
            if column.attribute is not None:
                name = f"{ATTRIBUTE_PREFIX}{column.attribute}"
            described[name] = column.header
        return described


def _target(wire_name: str) -> tuple[str, str | None]:
    """A mapping target (`price`, `attributes.color`) as (field, attribute)."""
    if wire_name.startswith(ATTRIBUTE_PREFIX) and len(wire_name) > len(ATTRIBUTE_PREFIX):
        return "attributes", wire_name[len(ATTRIBUTE_PREFIX) :]
    if wire_name in FIELDS:
        return FIELDS[wire_name], None
    raise ColumnError(
        "invalid_column_mapping",
        f"{wire_name!r} is not a product field; use one of {', '.join(FIELDS)} "
        f"or attributes.<name>",
    )


def _known(header: str) -> tuple[str, str | None] | None:
    key = header_key(header)
    if not key:
        return None
    known = KNOWN_HEADERS.get(key)
    if known is not None:
        if known.startswith(ATTRIBUTE_PREFIX):
            return "attributes", known[len(ATTRIBUTE_PREFIX) :]
        return known, None
    named = _ATTRIBUTE_HEADER.match(key)
    if named:
        return "attributes", named.group(1)
    return None


def cell_header(value: object) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _override_for(header: str, overrides: Mapping[str, str | None]) -> tuple[bool, str | None]:
    if header in overrides:
        return True, overrides[header]
    return False, None


def maps_sku(cells: Sequence[object], overrides: Mapping[str, str | None]) -> bool:
    """Whether this row could be the header: one of its cells names the sku column."""
    for cell in cells:
        header = cell_header(cell)
        if not header:
            continue
        overridden, target = _override_for(header, overrides)
        if overridden:
            if target == "sku":
                return True
            continue
        known = _known(header)
        if known is not None and known[0] == "sku":
            return True
    return False


def plan_columns(cells: Sequence[object], overrides: Mapping[str, str | None]) -> ColumnPlan:
    """The plan for a header row. `overrides` maps a header (as written in the file) to a
    field's wire name, or to null to ignore the column."""
    for wire_name in overrides.values():
        if wire_name is not None:
            _target(wire_name)
    columns: list[Column] = []
    ignored: list[str] = []
    taken: dict[tuple[str, str | None], str] = {}
    for index, cell in enumerate(cells):
        header = cell_header(cell)
        if not header:
            continue
        overridden, wire_name = _override_for(header, overrides)
        if overridden:
            if wire_name is None:
                ignored.append(header)
                continue
            target: tuple[str, str | None] | None = _target(wire_name)
        else:
            target = _known(header)
        if target is None:
            ignored.append(header)
            continue
        if target in taken:
            raise ColumnError(
                "duplicate_column",
                f"Columns {taken[target]!r} and {header!r} both fill "
                f"{_wire(target)}; map one of them to null in columnMapping.",
            )
        taken[target] = header
        columns.append(Column(index, header, target[0], target[1]))
    if ("sku", None) not in taken:
        raise ColumnError(
            "missing_sku_column",
            "The file has no sku column (sku, stok kodu, ürün kodu, ...); name it with "
            "columnMapping.",
        )
    return ColumnPlan(tuple(columns), tuple(ignored))


def _wire(target: tuple[str, str | None]) -> str:
    field, attribute = target
    if attribute is not None:
        return f"{ATTRIBUTE_PREFIX}{attribute}"
    return next(name for name, f in FIELDS.items() if f == field)
