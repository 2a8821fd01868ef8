"""Migrations against a database of their own: the house revision moves real rows, and the
migrated schema is the one the models describe."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.helpers import Servers
from ticaret.cli import _alembic_config
from ticaret.core.db import to_async_url
from ticaret.models import Base

DATABASE = "ticaret_migrations_test"


@pytest.fixture
async def scratch(servers: Servers) -> AsyncIterator[str]:
    """An empty database next to the test one, dropped afterwards."""
    admin = create_async_engine(to_async_url(servers.database_url), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    url = make_url(servers.database_url).set(database=DATABASE).render_as_string(False)
    try:
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        await admin.dispose()


async def _migrate(url: str, action: str, revision: str) -> None:
    # Alembic's env runs its own event loop; give it a thread.
    await asyncio.to_thread(getattr(command, action), _alembic_config(url), revision)


async def _rows(engine: AsyncEngine, sql: str) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql))).all())


async def test_house_revision_moves_inbox_rows_and_tolerates_odd_values(scratch: str) -> None:
    await _migrate(scratch, "upgrade", "0003")
    engine = create_async_engine(to_async_url(scratch))
    account, session_id = uuid.uuid4(), uuid.uuid4()
    received, odd = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO accounts (id, name, version) VALUES (:a, 'shop', 1)"), {"a": account}
        )
        await conn.execute(
            text(
                "INSERT INTO wa_sessions (id, account_id, provider_session_id, name, provider, "
                "webhook_secret_encrypted, status, version) "
                "VALUES (:s, :a, 'shop-1', 'Shop', 'sandbox', 'x', 'working', 1)"
            ),
            {"s": session_id, "a": account},
        )
        await conn.execute(
            text(
                "INSERT INTO wa_inbox_events (id, session_id, external_key, event_type, payload, "
                "headers, status, attempts) VALUES "
                "(:r, :s, 'evt-1', 'message', '{\"event\": \"message\"}', '{}', 'received', 0), "
                "(:o, :s, 'evt-2', NULL, NULL, '{}', 'bogus', 2)"
            ),
            {"r": received, "o": odd, "s": session_id},
        )
        # Values no released code wrote, but a hand-edited database might hold.
        await conn.execute(
            text(
                "INSERT INTO wa_messages (id, session_id, remote_jid, message_id, from_me, "
                "chat_type, type, mentions, has_media, reactions, status, receipt, is_forwarded, "
                "edited, deleted_for_me, deleted_for_everyone, source_timestamp, version) VALUES "
                "(gen_random_uuid(), :s, '1@s.whatsapp.net', 'm1', false, 'individual', 'gif', "
                "'[]', false, '{}', 9, '{}', false, false, false, false, now(), 1)"
            ),
            {"s": session_id},
        )
        await conn.execute(
            text(
                "INSERT INTO wa_label_history (id, account_id, label_id, label_name, action, "
                "target_type, actor_type) VALUES "
                "(gen_random_uuid(), :a, gen_random_uuid(), 'VIP', 'renamed', 'label', 'user')"
            ),
            {"a": account},
        )
    await engine.dispose()

    await _migrate(scratch, "upgrade", "head")
    engine = create_async_engine(to_async_url(scratch))
    try:
        items = {
            row.id: row
            for row in await _rows(
                engine,
                "SELECT id, source, scope, external_id, status, attempts, payload FROM inbox_items",
            )
        }
        assert set(items) == {received, odd}
        assert items[received].source == "wa" and items[received].scope == str(session_id)
        assert items[received].external_id == "evt-1"
        assert items[received].payload == {"event": "message"}
        assert (items[received].status, items[odd].status) == ("received", "failed")
        assert items[odd].attempts == 2
        assert await _rows(engine, "SELECT to_regclass('wa_inbox_events')") == [(None,)]
        # A catch-all took the odd message type; the ack moved back onto the scale.
        assert await _rows(engine, "SELECT type, status FROM wa_messages") == [("unknown", 4)]
        checks = dict(
            await _rows(
                engine,
                "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'c' "
                "AND conname IN ('ck_wa_messages_type', 'ck_wa_label_history_action')",
            )
        )
        # Validated where rows could be fixed; new rows only where they could not.
        assert checks == {"ck_wa_messages_type": True, "ck_wa_label_history_action": False}
    finally:
        await engine.dispose()

    await _migrate(scratch, "downgrade", "0003")
    engine = create_async_engine(to_async_url(scratch))
    try:
        back = await _rows(engine, "SELECT id, external_key FROM wa_inbox_events ORDER BY 2")
        assert back == [(received, "evt-1"), (odd, "evt-2")]
    finally:
        await engine.dispose()


# Alembic cannot compare an index on an expression with what it reflects; it always differs.
EXPRESSION_INDEXES = {
    "ix_wa_chats_session_activity",
    "ix_meta_threads_asset_activity",
    "ix_meta_posts_asset_timeline",
}


def _differences(conn: Connection) -> list[str]:
    found = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    described = [(diff[0], getattr(diff[1], "name", str(diff[1]))) for diff in found]
    return [f"{kind} {name}" for kind, name in described if name not in EXPRESSION_INDEXES]


async def test_migrated_schema_is_the_models_schema(scratch: str) -> None:
    await _migrate(scratch, "upgrade", "head")
    engine = create_async_engine(to_async_url(scratch))
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_the_wa_hardening_revision_merges_chats_split_by_jid_spelling(scratch: str) -> None:
    await _migrate(scratch, "upgrade", "0005")
    engine = create_async_engine(to_async_url(scratch))
    account, session_id, label = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    web, phone, lid = "905551112233@c.us", "905551112233@s.whatsapp.net", "1234567@lid"
    message = (
        "INSERT INTO wa_messages (id, session_id, remote_jid, message_id, from_me, chat_type, "
        "type, text, mentions, has_media, reactions, status, receipt, is_forwarded, edited, "
        "deleted_for_me, deleted_for_everyone, source_timestamp, version) VALUES "
        "(:id, :s, :chat, :m, false, 'individual', 'text', 'x', '[]', false, '{}', 2, '{}', "
        "false, false, false, false, now() - make_interval(mins => :age), 1)"
    )
    chat = (
        "INSERT INTO wa_chats (id, session_id, remote_jid, alt_jid, type, name, last_message_at, "
        "last_message_preview, unread_count, archived) VALUES (:id, :s, :chat, :alt, "
        "'individual', :name, now() - make_interval(mins => :age), :preview, :unread, false)"
    )
    web_chat = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO accounts (id, name, version) VALUES (:a, 'shop', 1)"), {"a": account}
        )
        await conn.execute(
            text(
                "INSERT INTO wa_sessions (id, account_id, provider_session_id, name, provider, "
                "webhook_secret_encrypted, status, version) "
                "VALUES (:s, :a, 'shop-1', 'Shop', 'waha', 'x', 'working', 1)"
            ),
            {"s": session_id, "a": account},
        )
        # The same person under three chats: WAHA's spelling, Evolution's, and a LID whose
        # phone a later event named.
        for row in (
            {"chat": web, "alt": None, "name": "Ayşe", "age": 30, "preview": "eski", "unread": 1},
            {"chat": phone, "alt": None, "name": None, "age": 5, "preview": "yeni", "unread": 2},
            {"chat": lid, "alt": phone, "name": None, "age": 60, "preview": "lid", "unread": 1},
        ):
            chat_id = web_chat if row["chat"] == web else uuid.uuid4()
            await conn.execute(text(chat), {"id": chat_id, "s": session_id, **row})
        for chat_jid, message_id, age in (
            (web, "M1", 30),
            (web, "DUP", 20),
            (phone, "DUP", 20),
            (phone, "M2", 5),
            (lid, "M3", 60),
        ):
            await conn.execute(
                text(message),
                {
                    "id": uuid.uuid4(),
                    "s": session_id,
                    "chat": chat_jid,
                    "m": message_id,
                    "age": age,
                },
            )
        await conn.execute(
            text(
                "INSERT INTO wa_labels (id, account_id, name, color, status, version) "
                "VALUES (:l, :a, 'VIP', '#000000', 'active', 1)"
            ),
            {"l": label, "a": account},
        )
        await conn.execute(
            text(
                "INSERT INTO wa_chat_labels (id, account_id, label_id, chat_id) "
                "VALUES (gen_random_uuid(), :a, :l, :c)"
            ),
            {"a": account, "l": label, "c": web_chat},
        )
        for jid, lid_value, name in ((web, None, "Ayşe"), (phone, None, None)):
            await conn.execute(
                text(
                    "INSERT INTO wa_contacts (id, session_id, jid, lid, phone, name, is_group) "
                    "VALUES (gen_random_uuid(), :s, :j, :lid, '905551112233', :n, false)"
                ),
                {"s": session_id, "j": jid, "lid": lid_value, "n": name},
            )
    await engine.dispose()

    await _migrate(scratch, "upgrade", "head")
    engine = create_async_engine(to_async_url(scratch))
    try:
        chats = await _rows(
            engine,
            "SELECT id, remote_jid, alt_jid, name, unread_count, last_message_preview "
            "FROM wa_chats",
        )
        assert [
            (c.remote_jid, c.alt_jid, c.name, c.unread_count, c.last_message_preview) for c in chats
        ] == [(phone, lid, "Ayşe", 4, "yeni")]
        messages = await _rows(engine, "SELECT remote_jid, message_id FROM wa_messages ORDER BY 2")
        assert messages == [(phone, "DUP"), (phone, "M1"), (phone, "M2"), (phone, "M3")]
        labels = await _rows(engine, "SELECT chat_id FROM wa_chat_labels")
        assert labels == [(chats[0].id,)]
        contacts = await _rows(engine, "SELECT jid, name FROM wa_contacts")
        assert contacts == [(phone, "Ayşe")]
    finally:
        await engine.dispose()


async def test_the_outbox_revision_keeps_what_waits_for_the_relay(scratch: str) -> None:
    await _migrate(scratch, "upgrade", "0015")
    engine = create_async_engine(to_async_url(scratch))
    insert_event = (
        "INSERT INTO events (id, account_id, type, actor_type, data, relayed_at) "
        "VALUES (:id, :a, 'product.deleted', 'system', '{}', :relayed)"
    )
    account = uuid.uuid4()
    async with engine.begin() as conn:
        for event_id, relayed in (("evt_relayed", "2026-12-01T10:00:00Z"), ("evt_waiting", None)):
            at = None if relayed is None else datetime.fromisoformat(relayed)
            await conn.execute(text(insert_event), {"id": event_id, "a": account, "relayed": at})
    await engine.dispose()

    await _migrate(scratch, "upgrade", "head")
    engine = create_async_engine(to_async_url(scratch))
    try:
        assert await _rows(engine, "SELECT event_id FROM outbox_pending") == [("evt_waiting",)]
        # Any way of writing an event puts it in the outbox: plain SQL, one row or several.
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO events (id, account_id, type, actor_type, data) "
                    "VALUES ('evt_new1', :a, 'product.deleted', 'system', '{}'), "
                    "('evt_new2', :a, 'product.deleted', 'system', '{}')"
                ),
                {"a": account},
            )
        pending = await _rows(engine, "SELECT event_id FROM outbox_pending ORDER BY 1")
        assert pending == [("evt_new1",), ("evt_new2",), ("evt_waiting",)]
    finally:
        await engine.dispose()

    await _migrate(scratch, "downgrade", "0015")
    engine = create_async_engine(to_async_url(scratch))
    try:
        marks = await _rows(engine, "SELECT id, relayed_at IS NOT NULL FROM events ORDER BY id")
        assert marks == [
            ("evt_new1", False),
            ("evt_new2", False),
            ("evt_relayed", True),
            ("evt_waiting", False),
        ]
    finally:
        await engine.dispose()
