"""catalog: products, variants, image metadata, imports (and their uploaded files), search

Revision ID: 0008
Revises: 0013
Create Date: 2026-12-01 01:19:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Search folds text the same way on both sides: lower case, accents off (unaccent), and the
# Turkish dotted/dotless i made plain i. unaccent maps ı→i and İ→I, but translate() first keeps
# that true with a custom rules file, and again after lower() because a Turkish collation
# lowers I to ı. The explicit dictionary makes the call immutable (usable in an index).
FOLD = """
CREATE FUNCTION catalog_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT translate(lower(public.unaccent('public.unaccent'::regdictionary,
        translate(value, 'ıİ', 'iI'))), 'ı', 'i') $$
"""

ATTRIBUTE_TEXT = """
CREATE FUNCTION catalog_attribute_text(attributes jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT coalesce(string_agg(value, ' '), '') FROM jsonb_each_text(
        CASE WHEN jsonb_typeof(attributes) = 'object' THEN attributes ELSE '{}'::jsonb END) $$
"""

SEARCH_TEXT = (
    "catalog_fold(sku || ' ' || name || ' ' || coalesce(brand, '') || ' ' || "
    "coalesce(category, '') || ' ' || catalog_attribute_text(attributes) || ' ' || variant_terms)"
)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def _account(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["accounts.id"],
        name=op.f(f"fk_{table}_account_id_accounts"),
        ondelete="CASCADE",
    )


STOCK = "stock_status IN ('in_stock', 'low_stock', 'out_of_stock', 'preorder')"


def _amount_checks(table: str) -> list[sa.CheckConstraint]:
    return [
        sa.CheckConstraint(STOCK, name=op.f(f"ck_{table}_stock_status")),
        sa.CheckConstraint("price >= 0", name=op.f(f"ck_{table}_price_not_negative")),
        sa.CheckConstraint(
            "compare_at_price >= 0", name=op.f(f"ck_{table}_compare_at_price_not_negative")
        ),
        sa.CheckConstraint(
            "stock_quantity >= 0", name=op.f(f"ck_{table}_stock_quantity_not_negative")
        ),
    ]


def upgrade() -> None:
    # Both ship with PostgreSQL (contrib) and are trusted: a database owner may create them.
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    op.execute(FOLD)
    op.execute(ATTRIBUTE_TEXT)

    op.create_table(
        "products",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("brand", sa.String(length=120), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("price", sa.Numeric(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("compare_at_price", sa.Numeric(), nullable=True),
        sa.Column("stock_status", sa.String(length=20), nullable=False),
        sa.Column("stock_quantity", sa.Integer(), nullable=True),
        sa.Column("product_url", sa.String(length=2048), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "tags", postgresql.ARRAY(sa.String(length=60)), server_default="{}", nullable=False
        ),
        sa.Column("variant_terms", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "search_text", sa.Text(), sa.Computed(SEARCH_TEXT, persisted=True), nullable=False
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'draft', 'archived')", name=op.f("ck_products_status")
        ),
        *_amount_checks("products"),
        _account("products"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.create_index(
        "uq_products_account_sku",
        "products",
        ["account_id", "sku"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_products_account_id_desc",
        "products",
        ["account_id", sa.literal_column("id DESC")],
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_products_search",
        "products",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_products_tags",
        "products",
        ["tags"],
        postgresql_using="gin",
        postgresql_where=sa.text("tags <> '{}'"),
    )

    op.create_table(
        "product_variants",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("price", sa.Numeric(), nullable=True),
        sa.Column("compare_at_price", sa.Numeric(), nullable=True),
        sa.Column("stock_status", sa.String(length=20), nullable=False),
        sa.Column("stock_quantity", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        *_amount_checks("product_variants"),
        _account("product_variants"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_variants_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
    )
    op.create_index(op.f("ix_product_variants_account_id"), "product_variants", ["account_id"])
    op.create_index(
        "ix_product_variants_product_position", "product_variants", ["product_id", "position"]
    )
    op.create_index(
        "uq_product_variants_account_sku", "product_variants", ["account_id", "sku"], unique=True
    )

    op.create_table(
        "product_images",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("alt", sa.String(length=500), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("height > 0", name=op.f("ck_product_images_height_positive")),
        sa.CheckConstraint("width > 0", name=op.f("ck_product_images_width_positive")),
        _account("product_images"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_images_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_images")),
    )
    op.create_index(op.f("ix_product_images_account_id"), "product_images", ["account_id"])
    op.create_index(
        "ix_product_images_product_position", "product_images", ["product_id", "position"]
    )

    op.create_table(
        "catalog_imports",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("options", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("detected", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("checkpoint_row", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("unchanged_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("errors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error_total", sa.Integer(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "actor_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_catalog_imports_actor_type"),
        ),
        sa.CheckConstraint(
            "source IN ('json', 'csv', 'xlsx')", name=op.f("ck_catalog_imports_source")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'completed', 'failed')",
            name=op.f("ck_catalog_imports_status"),
        ),
        _account("catalog_imports"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_imports")),
    )
    op.create_index(op.f("ix_catalog_imports_account_id"), "catalog_imports", ["account_id"])
    op.create_index(
        "ix_catalog_imports_open",
        "catalog_imports",
        ["updated_at"],
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )

    op.create_table(
        "catalog_import_files",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        _account("catalog_import_files"),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["catalog_imports.id"],
            name=op.f("fk_catalog_import_files_import_id_catalog_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_catalog_import_files")),
    )
    op.create_index(
        op.f("ix_catalog_import_files_account_id"), "catalog_import_files", ["account_id"]
    )


def downgrade() -> None:
    op.drop_table("catalog_import_files")
    op.drop_table("catalog_imports")
    op.drop_table("product_images")
    op.drop_table("product_variants")
    op.drop_table("products")
    op.execute("DROP FUNCTION catalog_attribute_text(jsonb)")
    op.execute("DROP FUNCTION catalog_fold(text)")
    # The extensions stay: other objects may use them, and keeping them is harmless.
