"""A deadlock while an inbox item is processed is retried, not recorded as a bad item (issue 8,
item 11). The deadlock is a real one, between the worker's transaction and the test's."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select, text

from tests.wa.helpers import CUSTOMER_JID, customer_wrote, inject, messages


async def _waiting_on_a_lock(conn: Any, own_pid: int) -> bool:
    rows = await conn.execute(
        text(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() AND pid <> :me"
        ),
        {"me": own_pid},
    )
    return bool(rows.all())


async def test_a_deadlock_while_processing_an_event_is_retried_not_failed(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from ticaret.core.db import get_engine, get_sessionmaker
    from ticaret.models import InboxItem, WaChat

    owner, psid, _ = await customer_wrote(client, run_jobs)
    async with get_sessionmaker()() as session:
        chat = await session.scalar(select(WaChat).where(WaChat.remote_jid == CUSTOMER_JID))
        assert chat is not None
        session_id = chat.session_id

    second = "3EB0DEAD10CC00000001"
    await inject(client, owner, psid, text="İkinci soru", message_id=second)
    async with get_engine().connect() as other, get_engine().connect() as watcher:
        # (Autobegun: everything below is one transaction until the rollback.)
        pid = (await other.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        # This transaction never gives up first: the worker's is the one Postgres aborts.
        await other.execute(text("SET LOCAL deadlock_timeout = '60s'"))
        await other.execute(
            text("SELECT 1 FROM wa_chats WHERE id = :id FOR UPDATE"), {"id": chat.id}
        )
        worker = asyncio.create_task(run_jobs())
        # The worker inserted the new message and now waits for the chat row we hold...
        for _ in range(1000):
            if await _waiting_on_a_lock(watcher, pid):
                break
            await watcher.rollback()
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the worker never waited for the chat row")
        # ...and we now wait for its message: a deadlock, which Postgres breaks by aborting it.
        await other.execute(
            text(
                "INSERT INTO wa_messages (id, session_id, remote_jid, message_id, from_me, "
                "chat_type, type, mentions, has_media, reactions, status, receipt, "
                "is_forwarded, edited, deleted_for_me, deleted_for_everyone, source_timestamp, "
                "version) VALUES (gen_random_uuid(), :s, :chat, :m, false, 'individual', 'text', "
                "'[]', false, '{}', 0, '{}', false, false, false, false, now(), 1)"
            ),
            {"s": session_id, "chat": CUSTOMER_JID, "m": second},
        )
        await other.rollback()
        await asyncio.wait_for(worker, 120)

    async with get_sessionmaker()() as session:
        items = (await session.scalars(select(InboxItem).order_by(InboxItem.received_at))).all()
    assert [i.status for i in items] == ["processed", "processed"]
    assert items[1].error is None
    texts = [m["text"] for m in (await messages(client, owner, psid))["rows"]]
    assert texts[0] == "İkinci soru" and len(texts) == 2
