"""Throughput: the inbox drain's claim reads waiting items of one source and scope in order.

Revision ID: 0012
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # `process_batch`: WHERE source = ? AND scope = ? AND status = 'received'
    # ORDER BY received_at, id ... FOR UPDATE SKIP LOCKED.
    op.create_index(
        "ix_inbox_items_waiting",
        "inbox_items",
        ["source", "scope", "received_at", "id"],
        postgresql_where=sa.text("status = 'received'"),
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_items_waiting", table_name="inbox_items")
