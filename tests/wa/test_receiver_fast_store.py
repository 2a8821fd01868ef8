"""The receiver's fast lane: a known session's event stored by one statement outside any unit of
work, and the scope's drain queued at most twice per slot. What must stay true: the same row as
the route stores, duplicates answered as duplicates, every event applied (however many arrive in
one slot, and after the slot's drain has run), and no webhook refused or lost while Redis is
down."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, update

from tests.helpers import Servers, register
from tests.wa.helpers import create_session, headers

SECRET_HEADER = "X-Ticaret-Webhook-Secret"
DRAIN_JOB = "process_wa_inbox_event_batch"


def _event(psid: str, n: int, **extra: Any) -> dict[str, Any]:
    from ticaret.wa.gateways.sandbox import inbound_message_payload

    body = inbound_message_payload(
        psid, from_phone_or_jid=f"90555000{n % 7:04d}", text=f"Mesaj {n}", push_name=f"Ali {n}"
    )
    return {**body, **extra}


async def _rows(session_id: str) -> list[Any]:
    from ticaret.core.db import get_sessionmaker
    from ticaret.models import InboxItem

    async with get_sessionmaker()() as session:
        found = await session.scalars(
            select(InboxItem)
            .where(InboxItem.source == "wa", InboxItem.scope == session_id)
            .order_by(InboxItem.received_at, InboxItem.id)
        )
        return list(found.all())


async def _queued_drains(session_id: str) -> dict[str, float]:
    """The drain jobs waiting in Redis for this session: job id -> when it may run (ms)."""
    from ticaret.core.queue import QUEUE_NAME, get_redis

    queued = await get_redis().zrange(QUEUE_NAME, 0, -1, withscores=True)
    prefix = f"{DRAIN_JOB}:{session_id}:"
    return {
        job_id.decode(): score for job_id, score in queued if job_id.decode().startswith(prefix)
    }


@contextmanager
def orm_inbox_inserts() -> Iterator[list[str]]:
    """The INSERTs into inbox_items that go through the SQLAlchemy engine (the route's unit of
    work), recorded while the block runs."""
    from ticaret.core.db import get_engine

    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO INBOX_ITEMS"):
            seen.append(statement)

    engine = get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _next_slot(slot_seconds: float) -> int:
    """Sleep until the next drain slot starts (nothing stored in it yet); its number."""
    await asyncio.sleep(slot_seconds - (time.time() % slot_seconds) + 0.01)
    return math.floor(time.time() / slot_seconds)


async def _session(client: httpx.AsyncClient) -> tuple[Any, dict[str, Any]]:
    owner = await register(client)
    return owner, await create_session(client, owner)


async def test_a_known_session_s_event_is_stored_outside_the_orm_as_the_route_stores_it(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, created = await _session(client)
    psid, secret, session_id = created["providerSessionId"], created["webhookSecret"], created["id"]
    url = f"/wa/provider-events/{psid}"
    auth = {SECRET_HEADER: secret, "user-agent": "WAHA/2024", "authorization": "Bearer nope"}

    # The first call reads the session (the route, its unit of work); the next ones are the
    # fast lane's: one statement on a raw connection, no INSERT through the engine.
    with orm_inbox_inserts() as through_route:
        first = await client.post(url, json=_event(psid, 1), headers=auth)
    assert first.status_code == 200, first.text
    assert len(through_route) == 1
    # An integer past 64 bits and a long digit string read exactly as `json` reads them.
    second_body = _event(psid, 2, big=123456789012345678901234567890, digits="1" * 25)
    with orm_inbox_inserts() as through_lane:
        second = await client.post(url, json=second_body, headers=auth)
        again = await client.post(url, json=second_body, headers=auth)
    assert through_lane == []
    assert second.status_code == again.status_code == 200, (second.text, again.text)
    assert second.headers["content-type"] == "application/json"
    assert second.json()["data"]["duplicate"] is False
    assert again.json() == {
        "status": True,
        "data": {"received": True, "duplicate": True, "eventId": None},
    }

    by_route, by_lane = await _rows(session_id)
    assert str(by_lane.id) == second.json()["data"]["eventId"]
    assert by_lane.external_id == f"waha:{second_body['id']}"
    assert by_lane.payload == second_body
    assert isinstance(by_lane.payload["big"], int)
    for row in (by_route, by_lane):
        assert (row.event_type, row.status, row.attempts) == ("message", "received", 0)
        # The same headers kept, never the credentials.
        assert row.headers == {"content-type": "application/json", "user-agent": "WAHA/2024"}

    await run_jobs()
    assert [row.status for row in await _rows(session_id)] == ["processed", "processed"]
    chats = await client.get(
        "/wa/chats", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert len(chats.json()["data"]["rows"]) == 2


async def _session_with_slots(
    client: httpx.AsyncClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch, slot_seconds: float
) -> tuple[Any, str, str, str, dict[str, str]]:
    """A session whose first event is applied, with drain slots of `slot_seconds`:
    (owner, providerSessionId, session id, receiver URL, the secret header)."""
    from ticaret.core import inbox

    monkeypatch.setattr(inbox, "DRAIN_SLOT_SECONDS", slot_seconds)
    owner, created = await _session(client)
    psid, secret = created["providerSessionId"], created["webhookSecret"]
    url = f"/wa/provider-events/{psid}"
    auth = {SECRET_HEADER: secret}
    assert (await client.post(url, json=_event(psid, 0), headers=auth)).status_code == 200
    await run_jobs()
    return owner, psid, created["id"], url, auth


async def test_many_events_in_one_slot_queue_at_most_two_drains_and_all_are_applied(
    client: httpx.AsyncClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    slot_seconds = 2.0
    owner, psid, session_id, url, auth = await _session_with_slots(
        client, run_jobs, monkeypatch, slot_seconds
    )

    first_slot = await _next_slot(slot_seconds)
    answers = await asyncio.gather(
        *(client.post(url, json=_event(psid, n), headers=auth) for n in range(1, 41))
    )
    last_slot = math.floor(time.time() / slot_seconds)
    assert [answer.status_code for answer in answers] == [200] * 40
    assert {answer.json()["data"]["duplicate"] for answer in answers} == {False}
    # One drain to run at once and one at the slot's end, per slot the 40 calls spanned
    # (one slot unless the machine is very slow), whatever the number of calls.
    prefix = f"{DRAIN_JOB}:{session_id}:"
    spanned = range(first_slot, last_slot + 1)
    allowed = {f"{prefix}{s}" for s in spanned} | {f"{prefix}{s}:end" for s in spanned}
    queued = await _queued_drains(session_id)
    assert set(queued) <= allowed
    assert f"{prefix}{first_slot}" in queued or len(spanned) > 1
    assert 1 <= len(queued) <= 2 * len(spanned)

    await run_jobs()
    rows = await _rows(session_id)
    assert len(rows) == 41 and {row.status for row in rows} == {"processed"}
    chats = await client.get(
        "/wa/chats", params={"providerSessionId": psid, "limit": 50}, headers=headers(owner)
    )
    assert len(chats.json()["data"]["rows"]) == 7


async def test_an_event_stored_after_its_slot_s_drain_ran_is_applied_by_the_slot_s_last_drain(
    client: httpx.AsyncClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    slot_seconds = 2.0
    _, psid, session_id, url, auth = await _session_with_slots(
        client, run_jobs, monkeypatch, slot_seconds
    )

    slot = await _next_slot(slot_seconds)
    assert (await client.post(url, json=_event(psid, 1), headers=auth)).status_code == 200
    await run_jobs()  # the slot's first drain ran: nothing holds a job for this slot now
    assert [row.status for row in await _rows(session_id)] == ["processed"] * 2
    assert (await client.post(url, json=_event(psid, 2), headers=auth)).status_code == 200
    after = math.floor(time.time() / slot_seconds)
    queued = await _queued_drains(session_id)
    if after == slot:
        # Deferred to the slot's end, when every store of the slot has committed.
        [(job_id, run_at)] = queued.items()
        assert job_id == f"{DRAIN_JOB}:{session_id}:{slot}:end"
        assert run_at >= (slot + 1) * slot_seconds * 1000 - 1
    else:  # a slow machine: the slot ended before the third call, which queued a drain
        prefix = f"{DRAIN_JOB}:{session_id}:"
        spanned = range(slot, after + 1)
        [job_id] = queued
        assert job_id in {f"{prefix}{s}" for s in spanned} | {f"{prefix}{s}:end" for s in spanned}
    await run_jobs()
    assert [row.status for row in await _rows(session_id)] == ["processed"] * 3


async def test_events_received_while_redis_is_down_are_stored_and_applied_once_it_is_back(
    client: httpx.AsyncClient, servers: Servers, run_jobs: Any
) -> None:
    if servers.redis is None:
        pytest.skip("needs the embedded Redis to stop and start it")
    from ticaret.core.db import get_sessionmaker
    from ticaret.core.inbox import drain_inboxes
    from ticaret.core.queue import get_redis
    from ticaret.models import InboxItem

    owner, created = await _session(client)
    psid, secret, session_id = created["providerSessionId"], created["webhookSecret"], created["id"]
    url = f"/wa/provider-events/{psid}"
    auth = {SECRET_HEADER: secret}
    assert (await client.post(url, json=_event(psid, 0), headers=auth)).status_code == 200
    servers.redis.stop()
    try:
        bodies = [_event(psid, n) for n in (1, 2)]
        during = [await client.post(url, json=body, headers=auth) for body in bodies]
        again = await client.post(url, json=bodies[1], headers=auth)
    finally:
        servers.redis.start()
    # Accepted and stored: only queueing their drain failed.
    assert [answer.status_code for answer in during] == [200, 200], [a.text for a in during]
    assert {answer.json()["data"]["duplicate"] for answer in during} == {False}
    assert again.status_code == 200 and again.json()["data"]["duplicate"] is True
    assert len(await _rows(session_id)) == 3

    redis = get_redis()
    for _ in range(20):  # the pool reconnects on its next command
        try:
            await redis.ping()
            break
        except Exception:
            await asyncio.sleep(0.1)
    await redis.flushdb()  # whatever the first call queued is lost with the outage
    async with get_sessionmaker()() as session:
        await session.execute(
            update(InboxItem).values(received_at=datetime.now(UTC) - timedelta(seconds=5))
        )
        await session.commit()
    # The drain cron (every second) finds the waiting items and queues their drain.
    assert await drain_inboxes({}) == 1
    await run_jobs()
    assert [row.status for row in await _rows(session_id)] == ["processed"] * 3
    chats = await client.get(
        "/wa/chats", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert len(chats.json()["data"]["rows"]) == 3
