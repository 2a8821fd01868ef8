from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.helpers import Servers, register, unrelayed_events
from ticaret.core import events
from ticaret.core.db import get_sessionmaker
from ticaret.core.events import account_channel, event_payload, sweep_outbox
from ticaret.core.queue import get_redis
from ticaret.models import Event


async def _next_message(pubsub: Any, timeout: float = 5.0) -> dict[str, Any]:
    """The event the next wake-up on the channel names, as the console streams it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            wake_up = json.loads(message["data"])
            (named,) = wake_up["events"]  # one request, one event
            async with get_sessionmaker()() as session:
                event = await session.get(Event, named["id"])
            assert event is not None and event.type == named["type"]
            assert wake_up["accountId"] == str(event.account_id)
            return event_payload(event)
    raise AssertionError("no event published")


async def test_events_are_published_after_commit(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    pubsub = get_redis().pubsub()
    await pubsub.subscribe(account_channel(owner.account_id))
    try:
        response = await client.post(
            f"/accounts/{owner.account_id}/api-accounts",
            json={"name": "bot", "role": "viewer"},
            headers=owner.headers,
        )
        assert response.status_code == 201
        event = await _next_message(pubsub)
    finally:
        await pubsub.aclose()
    assert event["type"] == "api_account.created"
    assert event["id"].startswith("evt_")
    assert event["accountId"] == owner.account_id
    assert event["actor"] == {"type": "user", "id": owner.user_id}
    assert event["data"]["apiAccountId"] == response.json()["data"]["id"]
    assert "secret" not in json.dumps(event)
    async with get_sessionmaker()() as session:
        stored = await session.get(Event, event["id"])
        assert stored is not None
    assert event["id"] not in await unrelayed_events()


async def test_a_failed_request_emits_nothing(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    response = await client.delete(
        f"/accounts/{owner.account_id}/users/{owner.user_id}", headers=owner.headers
    )
    assert response.status_code == 409
    async with get_sessionmaker()() as session:
        types = (await session.scalars(select(Event.type))).all()
    assert "account.user.removed" not in types


async def test_event_committed_while_redis_is_down_is_delivered_by_the_sweeper(
    client: httpx.AsyncClient, servers: Servers, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if servers.redis is None:
        pytest.skip("needs the embedded Redis to stop and start it")
    owner = await register(client)
    servers.redis.stop()
    try:
        response = await client.post(
            f"/accounts/{owner.account_id}/api-accounts",
            json={"name": "during outage", "role": "agent"},
            headers=owner.headers,
        )
        # The change and its event are committed; only the relay failed.
        assert response.status_code == 201
    finally:
        servers.redis.start()
    async with get_sessionmaker()() as session:
        pending = (
            await session.scalars(select(Event).where(Event.type == "api_account.created"))
        ).one()
    assert await unrelayed_events(owner.account_id) == {pending.id}

    redis = get_redis()
    for _ in range(20):  # the pool reconnects on its next command
        try:
            await redis.ping()
            break
        except Exception:
            await asyncio.sleep(0.1)
    pubsub = redis.pubsub()
    await pubsub.subscribe(account_channel(owner.account_id))
    monkeypatch.setattr(events, "SWEEP_GRACE", timedelta(0))
    try:
        # The sweeper queues a relay for the event; the worker publishes it.
        assert await sweep_outbox() >= 1
        await run_jobs()
        event = await _next_message(pubsub)
    finally:
        await pubsub.aclose()
    assert event["id"] == pending.id and event["data"]["name"] == "during outage"
    assert await unrelayed_events() == set()
    # Nothing left for the next sweep.
    assert await sweep_outbox() == 0
