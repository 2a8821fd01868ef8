"""The inbox in batches: one drain takes many waiting items in one transaction. What must stay
true: a poison item is failed and the rest commit, two drains never take the same item, and a
worker killed mid-batch loses nothing once the sweeper has run."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import get_sessionmaker, unit_of_work
from ticaret.core.events import Actor, EventPayload, emit, event_type
from ticaret.core.inbox import Inbound, InboxSource, Outcome, sweep_inbox
from ticaret.core.queue import get_redis
from ticaret.models import Event, InboxItem


class Applied(EventPayload):
    key: str


APPLIED = event_type("testing.inbox.applied", "Emitted by the inbox batch tests.", Applied)
ACCOUNT = "00000000-0000-7000-8000-00000000ba7c"

seen: list[str] = []
blocked = asyncio.Event()
release = asyncio.Event()


async def _apply(session: AsyncSession, item: InboxItem) -> Outcome:
    key = str(item.external_id)
    seen.append(key)
    if item.payload.get("kind") == "boom":
        raise ValueError("the parser choked")
    if item.payload.get("kind") == "block":
        blocked.set()
        await release.wait()
    await asyncio.sleep(0)  # let a concurrent drain interleave
    # The item's effect, committed with the batch or not at all.
    emit(session, APPLIED, Applied(key=key), account_id=_account(), actor=Actor.system())
    return Outcome.processed()


def _account() -> Any:
    import uuid

    return uuid.UUID(ACCOUNT)


BATCHES = InboxSource("testing-batch", handler=_apply, job_name="process_testing_batch_item")


async def _store(keys: list[str], kind: str = "message", scope: str = "s1") -> None:
    async with unit_of_work() as session:
        await BATCHES.store(
            session, [Inbound(k, {"kind": kind}) for k in keys], headers={}, scope=scope
        )


async def _statuses() -> dict[str, str]:
    async with get_sessionmaker()() as session:
        rows = await session.scalars(select(InboxItem).where(InboxItem.source == "testing-batch"))
        return {row.external_id: row.status for row in rows}


async def _applied() -> Counter[str]:
    async with get_sessionmaker()() as session:
        rows = await session.scalars(select(Event.data).where(Event.type == APPLIED.name))
        return Counter(str(data["key"]) for data in rows)


@pytest.fixture(autouse=True)
async def account(app: Any) -> None:
    # The events need an account row to belong to.
    from ticaret.models import Account

    seen.clear()
    blocked.clear()
    release.clear()
    async with unit_of_work() as session:
        session.add(Account(id=_account(), name="inbox batches"))


async def test_a_store_queues_one_drain_and_the_drain_applies_every_item_once(
    run_jobs: Any,
) -> None:
    await _store([f"m.{n}" for n in range(150)])
    await run_jobs()
    assert set((await _statuses()).values()) == {"processed"}
    assert len(await _statuses()) == 150
    applied = await _applied()
    assert len(applied) == 150 and set(applied.values()) == {1}


async def test_a_poison_item_is_failed_and_the_rest_of_its_batch_commits(run_jobs: Any) -> None:
    await _store(["ok.1", "ok.2"])
    await _store(["bad"], kind="boom")
    await _store(["ok.3"])
    await run_jobs()
    statuses = await _statuses()
    assert statuses == {
        "ok.1": "processed",
        "ok.2": "processed",
        "bad": "failed",
        "ok.3": "processed",
    }
    # Applied once each, though the batch ran again item by item after the failure.
    assert await _applied() == Counter({"ok.1": 1, "ok.2": 1, "ok.3": 1})
    async with get_sessionmaker()() as session:
        bad = await session.scalar(select(InboxItem).where(InboxItem.external_id == "bad"))
    assert bad is not None and bad.error == "ValueError: the parser choked"
    assert bad.attempts == 1 and bad.payload == {"kind": "boom"}


async def test_two_drains_claiming_at_once_never_take_the_same_item(app: Any) -> None:
    await _store([f"c.{n}" for n in range(250)])
    await get_redis().flushdb()  # the drains below are the only ones
    total = 0
    while True:
        # Two workers' batches at the same moment, on the same scope.
        counts = await asyncio.gather(
            BATCHES.process_batch("s1"), BATCHES.process_batch("s1"), BATCHES.process_batch("s1")
        )
        total += sum(counts)
        if not any(counts):
            break
    assert total == 250
    assert len(seen) == 250 and len(set(seen)) == 250
    assert set((await _statuses()).values()) == {"processed"}
    assert set((await _applied()).values()) == {1}


async def test_a_worker_killed_mid_batch_loses_nothing_after_the_sweeper(run_jobs: Any) -> None:
    await _store(["k.1", "k.2"])
    await _store(["k.3"], kind="block")
    await _store(["k.4"])
    await get_redis().flushdb()  # the drain below plays the worker
    drain = asyncio.create_task(BATCHES.drain("s1"))
    await asyncio.wait_for(blocked.wait(), 30)
    drain.cancel()  # the worker dies halfway through the batch
    with pytest.raises(asyncio.CancelledError):
        await drain
    # Nothing of the batch was committed: every item still waits, no effect happened.
    assert set((await _statuses()).values()) == {"received"}
    assert await _applied() == Counter()

    release.set()
    async with get_sessionmaker()() as session:
        await session.execute(
            update(InboxItem).values(received_at=datetime.now(UTC) - timedelta(minutes=5))
        )
        await session.commit()
    assert await sweep_inbox() == 4
    await run_jobs()
    assert set((await _statuses()).values()) == {"processed"}
    assert await _applied() == Counter({"k.1": 1, "k.2": 1, "k.3": 1, "k.4": 1})
