"""The raw baseline of the inbox drain: what asyncpg and PostgreSQL do for the same inbound
WhatsApp messages when nothing else runs, for `wa_inbound_bench --e2e` to compare with.

One process (uvloop), no ORM, no arq: it claims up to 100 waiting `inbox_items` of the
WhatsApp source (`FOR UPDATE SKIP LOCKED`), reads each WAHA `message` call with orjson, and in
one transaction upserts the contacts (one statement), inserts the messages (one statement,
`ON CONFLICT DO NOTHING`), upserts the chats with their unread count and last message (one
statement), inserts one event per message and one per chat (one statement) and marks the items
processed (one statement). It does less than the worker (no relay to Redis, no consumers, no
group, ack, edit or `@lid` rules, no sanitizing of names), so the ratio against it is a floor.

    python -m bench.raw_inbound_drain   # TICARET_DATABASE_URL names the database
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import uvloop

BATCH = 100

CLAIM = """
SELECT id, payload FROM inbox_items
WHERE source = 'wa' AND status = 'received'
ORDER BY received_at, id LIMIT $1 FOR UPDATE SKIP LOCKED
"""
SESSION = "SELECT id, account_id FROM wa_sessions WHERE provider_session_id = $1"
CONTACTS = """
INSERT INTO wa_contacts (id, session_id, jid, phone, push_name, is_group, created_at, updated_at)
SELECT c.id, $1, c.jid, c.phone, c.push_name, false, now(), now()
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) AS c(id, jid, phone, push_name)
ON CONFLICT (session_id, jid) DO UPDATE
SET push_name = EXCLUDED.push_name, updated_at = now()
WHERE wa_contacts.push_name IS DISTINCT FROM EXCLUDED.push_name
"""
MESSAGES = """
INSERT INTO wa_messages (
    id, session_id, remote_jid, message_id, provider_message_id, from_me, sender_jid,
    sender_jid_resolved, sender_phone, sender_name, push_name, chat_type, type, text, mentions,
    has_media, reactions, status, receipt, is_forwarded, edited, deleted_for_me,
    deleted_for_everyone, source_timestamp, version, created_at, updated_at
)
SELECT m.id, $1, m.jid, m.message_id, m.provider_id, false, m.jid, m.jid, m.phone, m.push_name,
    m.push_name, 'individual', 'text', m.text, '[]', false, '{}', 2, '{}', false, false, false,
    false, m.at, 1, now(), now()
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::timestamptz[]) AS m(id, jid, message_id, provider_id, phone, push_name, text, at)
ON CONFLICT (session_id, remote_jid, message_id) DO NOTHING
RETURNING id, remote_jid
"""
CHATS = """
INSERT INTO wa_chats (
    id, session_id, remote_jid, type, name, last_message_at, last_message_preview,
    last_message_from_me, unread_count, archived, created_at, updated_at
)
SELECT c.id, $1, c.jid, 'individual', c.name, c.at, c.preview, false, c.unread, false, now(), now()
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::int[])
    AS c(id, jid, name, at, preview, unread)
ON CONFLICT (session_id, remote_jid) DO UPDATE
SET unread_count = wa_chats.unread_count + EXCLUDED.unread_count,
    last_message_at = greatest(wa_chats.last_message_at, EXCLUDED.last_message_at),
    last_message_preview = EXCLUDED.last_message_preview,
    last_message_from_me = false,
    name = coalesce(wa_chats.name, EXCLUDED.name),
    updated_at = now()
"""
EVENTS = """
INSERT INTO events (id, account_id, type, actor_type, actor_id, provider_session_id, data,
    created_at)
SELECT e.id, $1, e.type, 'system', NULL, $2, e.data, now()
FROM unnest($3::text[], $4::text[], $5::jsonb[]) AS e(id, type, data)
"""
PROCESSED = """
UPDATE inbox_items SET status = 'processed', processed_at = now(), attempts = attempts + 1
WHERE id = ANY($1::uuid[])
"""


async def _codecs(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind,
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


def _event_id() -> str:
    return f"evt_{secrets.token_hex(12)}"


async def drain_batch(conn: asyncpg.Connection, sessions: dict[str, tuple[Any, Any]]) -> int:
    async with conn.transaction():
        items = await conn.fetch(CLAIM, BATCH)
        if not items:
            return 0
        by_session: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            call = item["payload"]
            if call.get("event") == "message":
                by_session.setdefault(call["session"], []).append(call["payload"])
        for psid, calls in by_session.items():
            if psid not in sessions:
                row = await conn.fetchrow(SESSION, psid)
                sessions[psid] = (row["id"], row["account_id"])
            session_id, account_id = sessions[psid]
            await _apply(conn, session_id, account_id, psid, calls)
        await conn.execute(PROCESSED, [item["id"] for item in items])
        return len(items)


async def _apply(
    conn: asyncpg.Connection,
    session_id: uuid.UUID,
    account_id: uuid.UUID,
    psid: str,
    calls: list[dict[str, Any]],
) -> None:
    rows = []
    for message in calls:
        jid = message["from"]
        rows.append(
            (
                uuid.uuid4(),
                jid,
                message["id"].rsplit("_", 1)[-1],
                message["id"],
                jid.split("@", 1)[0],
                (message.get("_data") or {}).get("notifyName"),
                message.get("body"),
                datetime.fromtimestamp(message["timestamp"], UTC),
            )
        )
    people = {row[1]: row for row in rows}
    await conn.execute(
        CONTACTS,
        session_id,
        [uuid.uuid4() for _ in people],
        list(people),
        [row[4] for row in people.values()],
        [row[5] for row in people.values()],
    )
    columns = list(zip(*rows, strict=True))
    inserted = await conn.fetch(MESSAGES, session_id, *map(list, columns))
    new = {record["id"] for record in inserted}
    chats: dict[str, list[Any]] = {}
    for row in rows:
        if row[0] in new:
            chat = chats.setdefault(row[1], [uuid.uuid4(), row[1], row[5], row[7], row[6], 0])
            chat[3], chat[4], chat[5] = max(chat[3], row[7]), (row[6] or "")[:300], chat[5] + 1
    if chats:
        await conn.execute(CHATS, session_id, *map(list, zip(*chats.values(), strict=True)))
    events = [
        (
            _event_id(),
            "wa.message.received",
            {"id": str(row[0]), "remoteJid": row[1], "text": row[6]},
        )
        for row in rows
        if row[0] in new
    ] + [
        (_event_id(), "wa.chat.updated", {"remoteJid": jid, "unreadCount": chat[5]})
        for jid, chat in chats.items()
    ]
    if events:
        await conn.execute(EVENTS, account_id, psid, *map(list, zip(*events, strict=True)))


async def main() -> None:
    url = os.environ["TICARET_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    await _codecs(conn)
    sessions: dict[str, tuple[Any, Any]] = {}
    while True:
        if not await drain_batch(conn, sessions):
            await asyncio.sleep(0.05)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # the bench stops it with SIGINT
        uvloop.run(main())
