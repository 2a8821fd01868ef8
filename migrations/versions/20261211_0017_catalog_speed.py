"""catalog speed: the search trigram index leads with the account

A search looks among one account's products, but the trigram index held every account's: a
word common in other catalogs made the index hand over (and the heap scan read and discard)
their matches first, hundreds of thousands of rows for a word such as "model". With the
account as the index's first column (btree_gin), the index itself keeps only the account's.

Revision ID: 0017
Revises: 0011
Create Date: 2026-12-11 00:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Ships with PostgreSQL (contrib) and is trusted: a database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA public")
    op.create_index(
        "ix_products_account_search",
        "products",
        ["account_id", "search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_products_search", table_name="products")


def downgrade() -> None:
    op.create_index(
        "ix_products_search",
        "products",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_products_account_search", table_name="products")
