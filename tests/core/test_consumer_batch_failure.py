"""A batch consumer whose transaction fails on one event of the batch (a real database error,
raised by a trigger that refuses that one row) still commits the others: the batch falls back
to one transaction per event, the failing event's job is tried again, and once the fault is
gone that event is consumed too. Each event is consumed exactly once, whatever the retries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.ai.helpers import analysis, customer_says, events, open_shop

PHONE = "905551110009"
JID = f"{PHONE}@s.whatsapp.net"
SAID = ["mor keten gömlek M var mı", "zehirli mesaj", "kargo ne zaman gelir"]


@asynccontextmanager
async def refused_rows(table: str, condition: str) -> AsyncIterator[None]:
    """A trigger on `table` that raises for every row inserted where `condition` holds
    (a fault only in the database: the code under test runs unchanged)."""
    from ticaret.core.db import unit_of_work

    async with unit_of_work() as session:
        await session.execute(
            text(
                "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN IF {condition} THEN RAISE EXCEPTION 'poison row refused'; END IF;"
                " RETURN NEW; END $$"
            )
        )
        await session.execute(
            text(
                f"CREATE TRIGGER refuse_poison BEFORE INSERT ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
            )
        )
    try:
        yield
    finally:
        async with unit_of_work() as session:
            await session.execute(text(f"DROP TRIGGER IF EXISTS refuse_poison ON {table}"))
            await session.execute(text("DROP FUNCTION IF EXISTS refuse_poison()"))


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the worker never got there")


async def conversation_texts(client: httpx.AsyncClient, shop: Any) -> list[str]:
    listed = await client.get("/conversations", headers=shop.headers)
    rows = [row for row in listed.json()["data"]["rows"] if row["channel"]["remoteJid"] == JID]
    if not rows:
        return []
    history = await client.get(f"/conversations/{rows[0]['id']}/history", headers=shop.headers)
    return [line["content"] for line in history.json()["data"]["history"]]


async def run_worker_while(
    run_jobs: Any,
    fault: Any,
    settled: Callable[[], Awaitable[bool]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The real worker (burst) runs with the fault in place until `settled`: the failed
    batch's other events committed. The fault is then lifted; the retry finishes the rest."""
    with caplog.at_level("WARNING", logger="ticaret.events"):
        async with fault:
            worker = asyncio.create_task(run_jobs())
            await until(settled)
        await worker
    # The three messages were one batch, and it was the batch that fell back.
    assert any("one by one" in record.getMessage() for record in caplog.records)


async def test_an_analysis_batch_with_a_refused_row_commits_the_rest_and_retries_it(
    client: httpx.AsyncClient, run_jobs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    shop = await open_shop(client)
    await run_jobs()
    message_ids = [await customer_says(client, shop, said, phone=PHONE) for said in SAID]
    poisoned = message_ids[1]

    async def others_analysed() -> bool:
        done = [e["data"]["messageId"] for e in await events(shop.owner.account_id)]
        return sorted(done) == sorted([message_ids[0], message_ids[2]])

    fault = refused_rows("ai_analyses", f"NEW.message_id = '{poisoned}'")
    await run_worker_while(run_jobs, fault, others_analysed, caplog)

    for message_id in message_ids:
        data = await analysis(client, shop, message_id, jid=JID)
        assert data["status"] in ("completed", "skipped"), data
    completed = await events(shop.owner.account_id, "ai.analysis.")
    # Each message analysed once; the refused one after its retry, so last.
    assert [e["data"]["messageId"] for e in completed] == [
        message_ids[0],
        message_ids[2],
        poisoned,
    ]


async def test_a_mirror_batch_with_a_refused_row_commits_the_rest_and_retries_it(
    client: httpx.AsyncClient, run_jobs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    shop = await open_shop(client)
    await run_jobs()
    for said in SAID:
        await customer_says(client, shop, said, phone=PHONE)

    async def others_mirrored() -> bool:
        return await conversation_texts(client, shop) == [SAID[0], SAID[2]]

    fault = refused_rows("conversation_messages", f"NEW.text = '{SAID[1]}'")
    await run_worker_while(run_jobs, fault, others_mirrored, caplog)

    # Every message in its conversation once, in the order they were written.
    assert await conversation_texts(client, shop) == SAID
    mirrored = await events(shop.owner.account_id, "conversation.message.created")
    assert sorted(e["data"]["text"] for e in mirrored) == sorted(SAID)
