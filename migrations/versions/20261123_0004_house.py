"""house: one inbound inbox for every source, catalogue CHECKs on status and kind columns

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:00:00

- `inbox_items` replaces `wa_inbox_events`: every WhatsApp row moves over (source "wa", scope
  the session id, same ids so queued jobs still find their row), then the old table goes.
- Status and kind columns get CHECK constraints from the code's catalogues. Where a column has
  a catch-all value (message type `unknown`, operation status `failed`, ...), rows outside the
  catalogue are moved to it first. Elsewhere the constraint is added NOT VALID and validated
  only when every row passes, so this migration cannot fail on existing data: new rows are
  checked either way, and a warning names a table whose old rows need a look.
"""

# ruff: noqa: S608 (statements are built from the constants below, never from input)
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR_TYPES = ("user", "api_account", "system", "ai")
INBOX_STATUSES = ("received", "processed", "ignored", "failed")
# (table, column, values, catch-all for rows outside the catalogue or None)
CHECKS: list[tuple[str, str, tuple[str, ...] | tuple[int, ...], str | None]] = [
    ("events", "actor_type", ACTOR_TYPES, None),
    ("outgoing_emails", "status", ("pending", "sent", "logged", "failed"), "'failed'"),
    ("webhook_attempts", "trigger", ("scheduled", "redelivery", "release"), None),
    ("wa_sessions", "status", ("stopped", "starting", "scan_qr", "working", "failed"), "'failed'"),
    ("wa_session_shares", "created_by_type", ACTOR_TYPES, None),
    ("wa_chats", "type", ("individual", "group", "broadcast", "newsletter"), None),
    ("wa_messages", "chat_type", ("individual", "group", "broadcast", "newsletter"), None),
    (
        "wa_messages",
        "type",
        (
            "text",
            "image",
            "video",
            "audio",
            "voice",
            "document",
            "sticker",
            "location",
            "contacts",
            "reaction",
            "poll",
            "unknown",
        ),
        "'unknown'",
    ),
    ("wa_messages", "status", (-1, 0, 1, 2, 3, 4), None),
    ("wa_labels", "status", ("active", "archived"), "'active'"),
    ("wa_label_history", "action", ("created", "updated", "deleted", "added", "removed"), None),
    ("wa_label_history", "target_type", ("label", "chat", "message"), None),
    ("wa_label_history", "actor_type", ACTOR_TYPES, None),
    (
        "wa_message_operations",
        "action",
        ("send_text", "send_media", "reply", "react", "edit", "delete", "forward", "read"),
        None,
    ),
    ("wa_message_operations", "status", ("queued", "sending", "sent", "failed"), "'failed'"),
    ("wa_message_operations", "actor_type", ACTOR_TYPES, None),
]


def _in_list(values: tuple[str, ...] | tuple[int, ...]) -> str:
    return ", ".join(str(v) if isinstance(v, int) else f"'{v}'" for v in values)


def _add_check(
    table: str, column: str, values: tuple[str, ...] | tuple[int, ...], fallback: str | None
) -> None:
    name = f"ck_{table}_{column}"
    allowed = _in_list(values)
    if fallback is not None:
        op.execute(f"UPDATE {table} SET {column} = {fallback} WHERE {column} NOT IN ({allowed})")
    elif column == "status" and table == "wa_messages":
        # Acks only move on WAHA's scale; clamp anything outside it.
        op.execute(f"UPDATE {table} SET status = LEAST(GREATEST(status, -1), 4)")
    op.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} IN ({allowed})) NOT VALID"
    )
    op.execute(
        f"""
        DO $$
        BEGIN
            ALTER TABLE {table} VALIDATE CONSTRAINT {name};
        EXCEPTION WHEN check_violation THEN
            RAISE WARNING '{table}.{column} has rows outside the catalogue; {name} checks new rows only';
        END $$;
        """
    )


def upgrade() -> None:
    op.create_table(
        "inbox_items",
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("raw_body", sa.Text(), nullable=True),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            f"status IN ({_in_list(INBOX_STATUSES)})", name=op.f("ck_inbox_items_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_items")),
        sa.UniqueConstraint("source", "scope", "external_id", name="uq_inbox_items_source_key"),
    )
    op.create_index(
        "ix_inbox_items_received",
        "inbox_items",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("status = 'received'"),
    )
    # Same ids: a processing job queued before the upgrade still finds its row.
    op.execute(
        f"""
        INSERT INTO inbox_items (id, source, scope, external_id, event_type, payload, raw_body,
                                 headers, status, error, attempts, received_at, processed_at)
        SELECT id, 'wa', session_id::text, external_key, event_type, payload, raw_body, headers,
               CASE WHEN status IN ({_in_list(INBOX_STATUSES)}) THEN status ELSE 'failed' END,
               error, attempts, received_at, processed_at
        FROM wa_inbox_events
        """
    )
    op.drop_index(
        "ix_wa_inbox_events_received",
        table_name="wa_inbox_events",
        postgresql_where=sa.text("status = 'received'"),
    )
    op.drop_table("wa_inbox_events")
    for table, column, values, fallback in CHECKS:
        _add_check(table, column, values, fallback)


def downgrade() -> None:
    for table, column, _, _ in reversed(CHECKS):
        op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
    op.create_table(
        "wa_inbox_events",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("external_key", sa.String(length=300), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("raw_body", sa.Text(), nullable=True),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_wa_inbox_events_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_inbox_events")),
        sa.UniqueConstraint("session_id", "external_key", name="uq_wa_inbox_events_session_key"),
    )
    op.create_index(
        "ix_wa_inbox_events_received",
        "wa_inbox_events",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("status = 'received'"),
    )
    op.execute(
        """
        INSERT INTO wa_inbox_events (id, session_id, external_key, event_type, payload, raw_body,
                                     headers, status, error, attempts, received_at, processed_at)
        SELECT i.id, s.id, i.external_id, i.event_type, i.payload, i.raw_body, i.headers,
               i.status, i.error, i.attempts, i.received_at, i.processed_at
        FROM inbox_items i JOIN wa_sessions s ON s.id::text = i.scope
        WHERE i.source = 'wa'
        """
    )
    op.drop_index(
        "ix_inbox_items_received",
        table_name="inbox_items",
        postgresql_where=sa.text("status = 'received'"),
    )
    op.drop_table("inbox_items")
