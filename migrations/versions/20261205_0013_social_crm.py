"""Pages and Instagram accounts in the CRM: inbox links of both, identities linked by the
inbox rule, and the per-asset message index a customer's timeline reads

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _replace_check(table: str, column: str, values: Sequence[str]) -> None:
    name = op.f(f"ck_{table}_{column}")
    op.drop_constraint(name, table, type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(name, table, f"{column} IN ({listed})")


def upgrade() -> None:
    _replace_check("crm_inbox_links", "channel", ["whatsapp", "messenger", "instagram"])
    _replace_check("crm_identities", "source", ["manual", "phone", "merge", "integration", "inbox"])
    op.create_index(
        "ix_meta_messages_asset_timeline",
        "meta_messages",
        ["asset_id", sa.literal_column("source_timestamp DESC"), sa.literal_column("id DESC")],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_meta_messages_asset_timeline", table_name="meta_messages")
    op.execute("DELETE FROM crm_identities WHERE source = 'inbox'")
    op.execute("DELETE FROM crm_inbox_links WHERE channel <> 'whatsapp'")
    _replace_check("crm_identities", "source", ["manual", "phone", "merge", "integration"])
    _replace_check("crm_inbox_links", "channel", ["whatsapp"])
