"""Request and response models of the product catalog (camelCase on the wire)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from ticaret.catalog.importing import values
from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.core.money import Money, known_currency
from ticaret.models import ImportSource, ImportStatus, ProductStatus, StockStatus

Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
AttributeValue = str | int | float | bool
Attributes = dict[str, AttributeValue]
Url = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=2048, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+\S*$"
    ),
]
CurrencyCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, min_length=3, max_length=3),
    Field(description="ISO 4217 code: TRY, USD, EUR, JPY, ...", examples=["TRY"]),
]

MONEY_NOTE = (
    'Amounts are decimal strings at the currency\'s minor unit (`"1299.90"` TRY, `"1500"` '
    "JPY); a price with more decimals than its currency has is refused, never rounded."
)


def _currency(value: str | None) -> str | None:
    if value is not None and not known_currency(value):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


def _attributes(value: Attributes | None) -> Attributes | None:
    if value is None:
        return None
    try:
        return values.attribute_map(value)
    except values.CellError as exc:
        raise ValueError(exc.message) from None


def _tags(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    try:
        return values.clean_tags(value)
    except values.CellError as exc:
        raise ValueError(exc.message) from None


class VariantIn(ApiModel):
    sku: Sku
    name: str | None = Field(default=None, max_length=300)
    attributes: Attributes = Field(default_factory=dict, description="color, size, ...")
    price: Money | None = Field(default=None, description="Null: the product's price.")
    compare_at_price: Money | None = None
    stock_quantity: int | None = Field(default=None, ge=0, le=values.MAX_STOCK)
    stock_status: StockStatus | None = Field(
        default=None, description="Default: from stockQuantity (0 is out_of_stock)."
    )

    _attributes = field_validator("attributes")(_attributes)


class VariantOut(ResponseModel):
    id: uuid.UUID
    sku: str
    name: str | None
    attributes: dict[str, Any]
    price: Money | None
    compare_at_price: Money | None
    stock_quantity: int | None
    stock_status: StockStatus
    position: int


class ImageIn(ApiModel):
    url: Url = Field(description="Where the image is; we store its address, not its bytes.")
    alt: str | None = Field(default=None, max_length=500)
    position: int | None = Field(
        default=None, ge=0, le=10_000, description="Order on the product; default: last."
    )
    width: int | None = Field(default=None, gt=0, le=100_000)
    height: int | None = Field(default=None, gt=0, le=100_000)
    content_type: str | None = Field(
        default=None, max_length=100, pattern=r"^[\w.+-]+/[\w.+-]+$", examples=["image/jpeg"]
    )


class ImageOut(ResponseModel):
    id: uuid.UUID
    url: str
    alt: str | None
    position: int
    width: int | None
    height: int | None
    content_type: str | None
    created_at: Timestamp


class ProductCreate(ApiModel):
    sku: Sku = Field(description="Unique among the account's products.")
    name: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=10_000)
    brand: str | None = Field(default=None, max_length=120)
    category: str | None = Field(default=None, max_length=200)
    attributes: Attributes = Field(
        default_factory=dict, description="color, size, material, ...: name → value."
    )
    price: Money | None = None
    currency: CurrencyCode | None = Field(
        default=None, description="Default: the catalog's default currency (TRY)."
    )
    compare_at_price: Money | None = Field(default=None, description="The struck-through price.")
    stock_quantity: int | None = Field(default=None, ge=0, le=values.MAX_STOCK)
    stock_status: StockStatus | None = Field(
        default=None, description="Default: from stockQuantity (0 is out_of_stock), else in_stock."
    )
    product_url: Url | None = None
    status: ProductStatus = ProductStatus.active
    tags: list[str] = Field(default_factory=list, max_length=values.MAX_TAGS)
    variants: list[VariantIn] = Field(default_factory=list, max_length=200)

    _currency = field_validator("currency")(_currency)
    _attributes = field_validator("attributes")(_attributes)
    _tags = field_validator("tags")(_tags)


class ProductUpdate(ApiModel):
    """Only the fields sent change; `variants` replaces the list (matched by sku)."""

    sku: Sku | None = None
    name: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=10_000)
    brand: str | None = Field(default=None, max_length=120)
    category: str | None = Field(default=None, max_length=200)
    attributes: Attributes | None = None
    price: Money | None = None
    currency: CurrencyCode | None = None
    compare_at_price: Money | None = None
    stock_quantity: int | None = Field(default=None, ge=0, le=values.MAX_STOCK)
    stock_status: StockStatus | None = None
    product_url: Url | None = None
    status: ProductStatus | None = None
    tags: list[str] | None = Field(default=None, max_length=values.MAX_TAGS)
    variants: list[VariantIn] | None = Field(default=None, max_length=200)
    entity_version: str | None = None

    _currency = field_validator("currency")(_currency)
    _attributes = field_validator("attributes")(_attributes)
    _tags = field_validator("tags")(_tags)


class ProductOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    sku: str
    name: str
    description: str | None
    brand: str | None
    category: str | None
    attributes: dict[str, Any]
    price: Money | None
    currency: str
    compare_at_price: Money | None
    stock_status: StockStatus
    stock_quantity: int | None
    product_url: str | None
    status: ProductStatus
    tags: list[str]
    variants: list[VariantOut]
    images: list[ImageOut] = Field(description="In position order.")
    score: float | None = Field(
        default=None, description="Search relevance in [0, 1] when listed with `q`."
    )
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


# Imports ------------------------------------------------------------------------------------

DecimalSeparator = Literal["auto", ",", "."]
DECIMAL_NOTE = (
    "How numbers are written: `,` (Turkish: 1.299,90), `.` (1,299.90) or `auto`: a value "
    "with both marks takes the last as the decimal mark; a lone comma is a decimal comma; a "
    "lone dot is a decimal point, except `1.299` in a `;`-separated CSV, where it groups "
    "thousands."
)
COLUMN_MAPPING_NOTE = (
    "Header (as written in the file) → field: `sku`, `name`, `description`, `brand`, "
    "`category`, `price`, `compareAtPrice`, `currency`, `stockQuantity`, `stockStatus`, "
    "`status`, `productUrl`, `tags`, `attributes` (a JSON object or `name: value; ...`) or "
    "`attributes.<name>`; null ignores the column. English and Turkish headers are recognised "
    "without it (`stok kodu`, `ürün adı`, `fiyat`, `stok`, `renk`, `beden`, ...)."
)


class ImportRequest(ApiModel):
    """JSON rows: each row an object whose keys are columns (field names or known headers)."""

    rows: list[dict[str, Any]] = Field(min_length=1, max_length=50_000)
    column_mapping: dict[str, str | None] = Field(
        default_factory=dict, description=COLUMN_MAPPING_NOTE
    )
    default_currency: CurrencyCode | None = Field(
        default=None, description="Currency of rows that name none (default TRY)."
    )
    decimal_separator: DecimalSeparator = Field(default="auto", description=DECIMAL_NOTE)

    _currency = field_validator("default_currency")(_currency)


class ImportErrorOut(ResponseModel):
    row: int = Field(description="Data row of the file, 1-based, the header not counted.")
    field: str | None = Field(description="The field (wire name), null for the whole row.")
    code: str
    message: str


class ImportOut(ResponseModel):
    import_id: uuid.UUID
    status: ImportStatus
    source: ImportSource
    filename: str | None
    total_rows: int | None = Field(
        description="Data rows: an estimate while queued or running (lines of a CSV, the "
        "sheet's size), exact once completed."
    )
    processed_rows: int
    created: int
    updated: int
    unchanged: int
    failed: int = Field(description="Rows refused (each reported in errors, up to the cap).")
    errors: list[ImportErrorOut] = Field(description="The first row errors, in row order.")
    error_total: int = Field(description="Every row error, also those past the cap.")
    errors_truncated: bool
    columns: dict[str, str] = Field(description="Field → the column it was read from.")
    ignored_columns: list[str]
    detected: dict[str, Any] = Field(
        description="What was found: encoding, delimiter, sheet, headerRow, decimalSeparator."
    )
    failure_reason: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
