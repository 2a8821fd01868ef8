"""The core inbox as the next sources (Meta, Instagram) will use it: batches, dedupe, outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import get_sessionmaker, unit_of_work
from ticaret.core.inbox import Inbound, InboxSource, Outcome, sweep_inbox
from ticaret.core.queue import get_redis
from ticaret.models import InboxItem

handled: list[str] = []


async def _handle(session: AsyncSession, item: InboxItem) -> Outcome:
    handled.append(item.external_id)
    kind = item.payload.get("kind")
    if kind == "boom":
        raise ValueError("the parser choked")
    if kind == "deep":
        raise RecursionError("maximum recursion depth exceeded")
    if kind == "skip":
        return Outcome.ignored("nothing to do for skip")
    return Outcome.processed()


# A source the way a Meta receiver declares one: its items are the entries of a batch POST.
TESTING = InboxSource(
    "testing", handler=_handle, job_name="process_testing_inbox_item", headers={"x-hub-sig"}
)
HEADERS = {"content-type": "application/json", "x-hub-sig": "sha256=abc", "authorization": "x"}


async def _rows() -> dict[str, InboxItem]:
    async with get_sessionmaker()() as session:
        rows = await session.scalars(select(InboxItem).where(InboxItem.source == "testing"))
        return {row.external_id: row for row in rows}


async def test_a_batch_is_stored_one_row_per_item_and_redeliveries_are_duplicates(
    app: Any, run_jobs: Any
) -> None:
    handled.clear()
    async with unit_of_work() as session:
        first = await TESTING.store(
            session,
            [
                Inbound("m.1", {"kind": "message", "n": 1}, "messages"),
                Inbound("m.2", {"kind": "message", "n": 2}, "messages"),
                Inbound("m.1", {"kind": "message", "n": 1}, "messages"),  # twice in one batch
            ],
            headers=HEADERS,
            scope="page-1",
        )
    assert [(s.external_id, s.duplicate) for s in first] == [("m.1", False), ("m.2", False)]
    async with unit_of_work() as session:
        again = await TESTING.store(
            session,
            [Inbound("m.2", {"kind": "message"}), Inbound("m.3", {"kind": "message"})],
            headers=HEADERS,
            scope="page-1",
        )
        # The same id under another scope is another item.
        other = await TESTING.store(
            session, [Inbound("m.1", {"kind": "message"})], headers=HEADERS, scope="page-2"
        )
    assert [s.duplicate for s in again] == [True, False] and not other[0].duplicate
    await run_jobs()
    assert sorted(handled) == ["m.1", "m.1", "m.2", "m.3"]
    rows = await _rows()
    assert {row.status for row in rows.values()} == {"processed"}
    kept = rows["m.2"]
    assert kept.payload == {"kind": "message", "n": 2} and kept.event_type == "messages"
    assert kept.headers == {"content-type": "application/json", "x-hub-sig": "sha256=abc"}
    assert kept.attempts == 1 and kept.processed_at is not None


async def test_handler_outcomes_and_failures_are_recorded_and_the_payload_kept(
    app: Any, run_jobs: Any
) -> None:
    async with unit_of_work() as session:
        await TESTING.store(
            session,
            [
                Inbound("skip", {"kind": "skip"}),
                Inbound("boom", {"kind": "boom", "keep": [1, 2]}),
                Inbound("deep", {"kind": "deep"}),
            ],
            headers=HEADERS,
        )
    await run_jobs()
    rows = await _rows()
    assert (rows["skip"].status, rows["skip"].error) == ("ignored", "nothing to do for skip")
    assert rows["boom"].status == "failed"
    assert rows["boom"].error == "ValueError: the parser choked"
    assert rows["boom"].payload == {"kind": "boom", "keep": [1, 2]}
    assert rows["deep"].status == "failed" and rows["deep"].error.startswith("RecursionError")


async def test_a_rolled_back_store_queues_nothing(app: Any, run_jobs: Any) -> None:
    handled.clear()
    try:
        async with unit_of_work() as session:
            await TESTING.store(session, [Inbound("gone", {"kind": "message"})], headers={})
            raise RuntimeError("the receiver failed after storing")
    except RuntimeError:
        pass
    await run_jobs()
    assert handled == [] and await _rows() == {}


async def test_items_whose_job_was_lost_are_swept(app: Any, run_jobs: Any) -> None:
    handled.clear()
    async with unit_of_work() as session:
        await TESTING.store(session, [Inbound("lost", {"kind": "message"})], headers={})
    await get_redis().flushdb()
    # Not yet: a young item's job may simply not have run.
    assert await sweep_inbox() == 0
    async with get_sessionmaker()() as session:
        await session.execute(
            update(InboxItem).values(received_at=datetime.now(UTC) - timedelta(minutes=5))
        )
        await session.commit()
    assert await sweep_inbox() == 1
    assert await sweep_inbox() == 0  # queued already: the worker is behind, not the job lost
    await run_jobs()
    assert handled == ["lost"] and (await _rows())["lost"].status == "processed"
    assert await sweep_inbox() == 0
