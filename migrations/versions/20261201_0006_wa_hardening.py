"""wa hardening: session shares as offers, operations of unknown outcome, early acks, the
console's replay order, and chats split by JID spelling merged

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0007"
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
        sa.UniqueConstraint("session_id", "message_id", "ack", name="uq_wa_early_acks_message_ack"),
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


# A copy of `wa.repository.chats.MERGE_STATEMENTS` as it was when this revision was written.
MERGE_STATEMENTS = (
    # Messages both chats hold: labels move to the kept copy, then the copy goes.
    """UPDATE wa_message_labels l SET message_id = keep.id
       FROM wa_messages dup JOIN wa_messages keep
         ON keep.session_id = dup.session_id AND keep.message_id = dup.message_id
       WHERE dup.session_id = :s AND dup.remote_jid = :from_jid AND keep.remote_jid = :to_jid
         AND l.message_id = dup.id
         AND NOT EXISTS (SELECT 1 FROM wa_message_labels x
                         WHERE x.message_id = keep.id AND x.label_id = l.label_id)""",
    # CRM message assignments likewise (an account's assignment of the kept copy wins).
    """UPDATE crm_message_assignments a SET message_pk = keep.id
       FROM wa_messages dup JOIN wa_messages keep
         ON keep.session_id = dup.session_id AND keep.message_id = dup.message_id
       WHERE dup.session_id = :s AND dup.remote_jid = :from_jid AND keep.remote_jid = :to_jid
         AND a.message_pk = dup.id
         AND NOT EXISTS (SELECT 1 FROM crm_message_assignments x
                         WHERE x.message_pk = keep.id AND x.account_id = a.account_id)""",
    """DELETE FROM wa_messages dup USING wa_messages keep
       WHERE dup.session_id = :s AND dup.remote_jid = :from_jid
         AND keep.session_id = :s AND keep.remote_jid = :to_jid
         AND keep.message_id = dup.message_id""",
    "UPDATE wa_messages SET remote_jid = :to_jid WHERE session_id = :s AND remote_jid = :from_jid",
    # The chat: folded into the one under `to`, or renamed when there is none.
    """UPDATE wa_chats t SET
         last_message_preview = CASE WHEN f.last_message_at IS NOT NULL AND
           (t.last_message_at IS NULL OR f.last_message_at > t.last_message_at)
           THEN f.last_message_preview ELSE t.last_message_preview END,
         last_message_from_me = CASE WHEN f.last_message_at IS NOT NULL AND
           (t.last_message_at IS NULL OR f.last_message_at > t.last_message_at)
           THEN f.last_message_from_me ELSE t.last_message_from_me END,
         last_message_at = GREATEST(t.last_message_at, f.last_message_at),
         unread_count = t.unread_count + f.unread_count,
         name = COALESCE(t.name, f.name),
         alt_jid = COALESCE(t.alt_jid, CAST(:alt_jid AS varchar)),
         archived = t.archived AND f.archived,
         updated_at = now()
       FROM wa_chats f
       WHERE t.session_id = :s AND t.remote_jid = :to_jid
         AND f.session_id = :s AND f.remote_jid = :from_jid""",
    """UPDATE wa_chat_labels l SET chat_id = t.id
       FROM wa_chats f, wa_chats t
       WHERE f.session_id = :s AND f.remote_jid = :from_jid
         AND t.session_id = :s AND t.remote_jid = :to_jid AND l.chat_id = f.id
         AND NOT EXISTS (SELECT 1 FROM wa_chat_labels x
                         WHERE x.chat_id = t.id AND x.label_id = l.label_id)""",
    # CRM chat assignments follow the chat (an account's assignment of the kept chat wins).
    """UPDATE crm_chat_assignments a SET chat_id = t.id
       FROM wa_chats f, wa_chats t
       WHERE f.session_id = :s AND f.remote_jid = :from_jid
         AND t.session_id = :s AND t.remote_jid = :to_jid AND a.chat_id = f.id
         AND NOT EXISTS (SELECT 1 FROM crm_chat_assignments x
                         WHERE x.chat_id = t.id AND x.account_id = a.account_id)""",
    """UPDATE crm_chat_assignments SET remote_jid = :to_jid
       WHERE session_id = :s AND remote_jid = :from_jid""",
    """UPDATE crm_message_assignments SET remote_jid = :to_jid
       WHERE session_id = :s AND remote_jid = :from_jid""",
    """UPDATE wa_chats SET remote_jid = :to_jid,
         alt_jid = COALESCE(alt_jid, CAST(:alt_jid AS varchar)), updated_at = now()
       WHERE session_id = :s AND remote_jid = :from_jid
         AND NOT EXISTS (SELECT 1 FROM wa_chats t
                         WHERE t.session_id = :s AND t.remote_jid = :to_jid)""",
    "DELETE FROM wa_chats WHERE session_id = :s AND remote_jid = :from_jid",
    # The contact likewise.
    """UPDATE wa_contacts t SET
         lid = COALESCE(t.lid, f.lid, CAST(:alt_jid AS varchar)),
         phone = COALESCE(t.phone, f.phone), name = COALESCE(t.name, f.name),
         push_name = COALESCE(t.push_name, f.push_name),
         profile_pic_url = COALESCE(t.profile_pic_url, f.profile_pic_url), updated_at = now()
       FROM wa_contacts f
       WHERE t.session_id = :s AND t.jid = :to_jid AND f.session_id = :s AND f.jid = :from_jid""",
    """UPDATE wa_contacts SET jid = :to_jid, lid = COALESCE(lid, CAST(:alt_jid AS varchar)),
         updated_at = now()
       WHERE session_id = :s AND jid = :from_jid
         AND NOT EXISTS (SELECT 1 FROM wa_contacts t WHERE t.session_id = :s AND t.jid = :to_jid)""",
    "DELETE FROM wa_contacts WHERE session_id = :s AND jid = :from_jid",
)

# One spelling per phone JID: `@c.us` is `@s.whatsapp.net`, a device suffix (`:12`) goes.
CANONICAL = (
    "regexp_replace(regexp_replace({col}, '^([^@:]+):[0-9]+@(s\\.whatsapp\\.net|c\\.us|lid)$', "
    "'\\1@\\2'), '@c\\.us$', '@s.whatsapp.net')"
)
SPLIT = "({col} ~ '@c\\.us$' OR {col} ~ '^[^@:]+:[0-9]+@(s\\.whatsapp\\.net|c\\.us|lid)$')"


def merge_split_chats() -> None:
    """One person, one chat: chats, messages and contacts filed under another spelling of the
    same JID (`@c.us`, a device suffix) or under a LID whose phone is known are merged."""
    conn = op.get_bind()
    spellings = conn.execute(
        sa.text(
            "SELECT DISTINCT session_id, jid FROM ("  # noqa: S608 - constants only
            f"SELECT session_id, remote_jid AS jid FROM wa_chats WHERE {SPLIT.format(col='remote_jid')} "
            f"UNION SELECT session_id, remote_jid FROM wa_messages WHERE {SPLIT.format(col='remote_jid')} "
            f"UNION SELECT session_id, jid FROM wa_contacts WHERE {SPLIT.format(col='jid')}"
            ") AS split ORDER BY 1, 2"
        )
    ).all()
    for session_id, jid in spellings:
        to_jid = conn.execute(sa.text(f"SELECT {CANONICAL.format(col=':j')}"), {"j": jid}).scalar()
        _merge(conn, session_id, jid, to_jid, None)
    lids = conn.execute(
        sa.text(
            "SELECT session_id, remote_jid, "  # noqa: S608 - constants only
            f"{CANONICAL.format(col='alt_jid')} FROM wa_chats "
            "WHERE remote_jid LIKE '%@lid' AND (alt_jid LIKE '%@s.whatsapp.net' OR alt_jid LIKE '%@c.us') "
            "UNION SELECT session_id, jid, phone || '@s.whatsapp.net' FROM wa_contacts "
            "WHERE jid LIKE '%@lid' AND phone ~ '^[0-9]+$' ORDER BY 1, 2"
        )
    ).all()
    for session_id, lid, phone in lids:
        _merge(conn, session_id, lid, phone, lid)
    for table, columns in (
        ("wa_messages", ("participant", "sender_jid", "sender_jid_resolved")),
        ("wa_chats", ("alt_jid",)),
    ):
        for column in columns:
            conn.execute(
                sa.text(
                    f"UPDATE {table} SET {column} = {CANONICAL.format(col=column)} "  # noqa: S608
                    f"WHERE {SPLIT.format(col=column)}"
                )
            )


def _merge(
    conn: sa.Connection, session_id: object, from_jid: str, to_jid: str, alt: str | None
) -> None:
    if from_jid == to_jid:
        return
    params = {"s": session_id, "from_jid": from_jid, "to_jid": to_jid, "alt_jid": alt}
    for statement in MERGE_STATEMENTS:
        conn.execute(sa.text(statement), params)


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
