"""outbox pending: the events still to relay in a narrow table of their own

The relay marked every event it published with `relayed_at`: an UPDATE that rewrote the whole
event row (its JSON payload included) and, as a non-HOT update, an entry in each of its five
indexes, about a tenth of PostgreSQL's time per inbound message. Now a statement-level trigger
adds each inserted event's id to `outbox_pending` in the inserting statement, the relay deletes
those rows, and the sweeper reads what is left. Events that were waiting at upgrade time move
over as they are; `relayed_at` and its partial index go. So does `ix_events_account_seq`, which
no query has read since the console replays by (account, xid, seq) (0006): one index fewer to
write for each of the three or four events of an inbound message.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-12 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_pending",
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_outbox_pending")),
    )
    # A statement-level trigger: one INSERT per inserting statement (an `emit_many` of a
    # hundred events adds its hundred rows at once), whatever wrote the events.
    op.execute(
        """
        CREATE FUNCTION outbox_pending_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO outbox_pending (event_id, created_at)
          SELECT id, created_at FROM inserted_events;
          RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER events_outbox_pending AFTER INSERT ON events
        REFERENCING NEW TABLE AS inserted_events
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_pending_add()
        """
    )
    op.execute(
        "INSERT INTO outbox_pending (event_id, created_at) "
        "SELECT id, created_at FROM events WHERE relayed_at IS NULL"
    )
    op.drop_index(
        "ix_events_unrelayed", table_name="events", postgresql_where=sa.text("relayed_at IS NULL")
    )
    op.drop_column("events", "relayed_at")
    op.drop_index("ix_events_account_seq", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_account_seq", "events", ["account_id", "seq"], unique=False)
    op.add_column("events", sa.Column("relayed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE events SET relayed_at = now() "
        "WHERE NOT EXISTS (SELECT FROM outbox_pending p WHERE p.event_id = events.id)"
    )
    op.create_index(
        "ix_events_unrelayed",
        "events",
        ["seq"],
        unique=False,
        postgresql_where=sa.text("relayed_at IS NULL"),
    )
    op.execute("DROP TRIGGER events_outbox_pending ON events")
    op.execute("DROP FUNCTION outbox_pending_add()")
    op.drop_table("outbox_pending")
