"""The product catalog: products with their variants and image metadata, and catalog imports
(with the uploaded file kept in the database until its job has read it)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ticaret.models.base import Base, IdMixin, TimestampMixin, VersionedMixin, one_of
from ticaret.models.core import ActorType


class ProductStatus(enum.StrEnum):
    active = "active"
    draft = "draft"
    archived = "archived"


class StockStatus(enum.StrEnum):
    in_stock = "in_stock"
    low_stock = "low_stock"
    out_of_stock = "out_of_stock"
    preorder = "preorder"


class ImportStatus(enum.StrEnum):
    queued = "queued"  # accepted (202), waiting for its job
    running = "running"
    completed = "completed"  # every row was handled (some may have failed on their own)
    failed = "failed"  # the import as a whole could not run (its file could not be read)


class ImportSource(enum.StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


# What search matches: the product's sku, name, brand, category, attribute values and its
# variants' skus and attribute values, folded (`catalog_fold`: lower case, accents and Turkish
# letters off) so "KIRMIZI ÇANTA" finds "kırmızı çanta" and "kirmizi canta". Both functions are
# created by the catalog migration.
SEARCH_TEXT = (
    "catalog_fold(sku || ' ' || name || ' ' || coalesce(brand, '') || ' ' || "
    "coalesce(category, '') || ' ' || catalog_attribute_text(attributes) || ' ' || variant_terms)"
)


class Product(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        # A sku names one live product; a deleted product's sku can be used again.
        Index(
            "uq_products_account_sku",
            "account_id",
            "sku",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_products_account_id_desc",
            "account_id",
            text("id DESC"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # The account first (btree_gin): a search reads only its own account's matches.
        Index(
            "ix_products_account_search",
            "account_id",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        # Most products (imports) have no tags: leaving them out keeps the index off their
        # writes. The tag filter repeats the predicate so the planner can use it.
        Index(
            "ix_products_tags",
            "tags",
            postgresql_using="gin",
            postgresql_where=text("tags <> '{}'"),
        ),
        one_of("status", ProductStatus),
        one_of("stock_status", StockStatus),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("compare_at_price >= 0", name="compare_at_price_not_negative"),
        CheckConstraint("stock_quantity >= 0", name="stock_quantity_not_negative"),
    )

    # Indexed by the two account-first indexes above.
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    sku: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    brand: Mapped[str | None] = mapped_column(String(120))
    category: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # NUMERIC without a fixed scale: an amount keeps its currency's scale (1299.90, 1500 JPY).
    price: Mapped[Decimal | None] = mapped_column(Numeric)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    compare_at_price: Mapped[Decimal | None] = mapped_column(Numeric)
    stock_status: Mapped[str] = mapped_column(
        String(20), nullable=False, default=StockStatus.in_stock
    )
    stock_quantity: Mapped[int | None] = mapped_column(Integer)
    product_url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=ProductStatus.active)
    tags: Mapped[list[str]] = mapped_column(
        ARRAY(String(60)), nullable=False, default=list, server_default="{}"
    )
    # The variants' skus and attribute values, kept here so search covers them.
    variant_terms: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    search_text: Mapped[str] = mapped_column(Text, Computed(SEARCH_TEXT, persisted=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProductVariant(IdMixin, TimestampMixin, Base):
    __tablename__ = "product_variants"
    __table_args__ = (
        Index("uq_product_variants_account_sku", "account_id", "sku", unique=True),
        Index("ix_product_variants_product_position", "product_id", "position"),
        one_of("stock_status", StockStatus),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("compare_at_price >= 0", name="compare_at_price_not_negative"),
        CheckConstraint("stock_quantity >= 0", name="stock_quantity_not_negative"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False
    )
    sku: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str | None] = mapped_column(String(300))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # Null: the product's price.
    price: Mapped[Decimal | None] = mapped_column(Numeric)
    compare_at_price: Mapped[Decimal | None] = mapped_column(Numeric)
    stock_status: Mapped[str] = mapped_column(
        String(20), nullable=False, default=StockStatus.in_stock
    )
    stock_quantity: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ProductImage(IdMixin, Base):
    """Where an image is and what it shows; the bytes stay wherever the shop keeps them."""

    __tablename__ = "product_images"
    __table_args__ = (
        Index("ix_product_images_product_position", "product_id", "position"),
        CheckConstraint("width > 0", name="width_positive"),
        CheckConstraint("height > 0", name="height_positive"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False
    )
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    alt: Mapped[str | None] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class CatalogImport(IdMixin, TimestampMixin, Base):
    """One import: its options, what was found in the file, and its progress and outcome.

    A job writes one chunk of rows and its counters in the same transaction, so a job that
    runs again resumes after the last chunk it committed and the counts stay exact.
    """

    __tablename__ = "catalog_imports"
    __table_args__ = (
        Index(
            "ix_catalog_imports_open",
            "updated_at",
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        one_of("status", ImportStatus),
        one_of("source", ImportSource),
        one_of("actor_type", ActorType),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=ImportStatus.queued)
    source: Mapped[str] = mapped_column(String(10), nullable=False)
    filename: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # What the request asked for (column mapping, sheet, delimiter, ...).
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # What we found: encoding, delimiter, sheet, header row, the column each field came from.
    detected: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # Data rows in the file: an estimate while queued or running, exact once completed.
    total_rows: Mapped[int | None] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The data row (1-based, as in errors) the last committed chunk ended on: a job that runs
    # again starts after it.
    checkpoint_row: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The first row errors ({row, field, code, message}); `error_total` counts all of them.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    error_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # Job runs that started on it; an import that keeps failing stops being retried.
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    actor_type: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CatalogImportFile(Base):
    """An uploaded import file, in pieces, until its job has read it: the API and the worker
    need not share a disk, and a restart between the upload and the job loses nothing."""

    __tablename__ = "catalog_import_files"

    import_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_imports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
