"""WhatsApp gateway events in inbox batches: what one drain applies together still obeys the
ingest's rules (the same message twice is one message and one event; acks only move forward)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from tests.helpers import register
from tests.wa.helpers import create_session, inject, messages
from ticaret.core.db import get_sessionmaker
from ticaret.models import Event, InboxItem


async def _count(statement: Any) -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(statement) or 0)


async def test_the_same_message_twice_in_one_batch_is_one_message_and_one_event(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    # Two gateway calls for one message (a redelivery with a new envelope), then others: all
    # waiting when the drain runs, so one batch holds both copies.
    await inject(client, owner, psid, text="Merhaba", message_id="3EB0AA01")
    await inject(client, owner, psid, text="Merhaba", message_id="3EB0AA01")
    await inject(client, owner, psid, text="Fiyat?", message_id="3EB0AA02")
    stored = await _count(select(func.count()).select_from(InboxItem))
    await run_jobs()

    rows = (await messages(client, owner, psid))["rows"]
    assert sorted(m["text"] for m in rows) == ["Fiyat?", "Merhaba"]
    received = await _count(
        select(func.count()).select_from(Event).where(Event.type == "wa.message.received")
    )
    assert received == 2
    async with get_sessionmaker()() as session:
        statuses = set(await session.scalars(select(InboxItem.status)))
    # The redelivery is an item of its own (a new envelope), applied in the same batch.
    assert statuses == {"processed"} and stored == 3
