"""Deliveries in batches: one fan-out job per commit, attempts claimed, sent and recorded many
at a time, and no fan-out job at all for an account without webhooks.

Events come from a `testing.` type emitted many per transaction, as a worker's batch does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from arq.constants import default_queue_name
from sqlalchemy import func, select

from tests.helpers import register
from tests.webhooks.helpers import Receiver, create_webhook, emit_shipped
from ticaret.core.db import get_sessionmaker
from ticaret.core.queue import QUEUE_NAME, get_redis
from ticaret.models import WebhookAttempt, WebhookDelivery
from ticaret.webhooks import delivery
from ticaret.webhooks.tasks import fan_out, fan_out_events


async def fan_outs_of(event_ids: list[str]) -> list[str]:
    """Ids of the queued fan-out jobs that name one of these events first."""
    assert default_queue_name != QUEUE_NAME
    queued = [raw.decode() for raw in await get_redis().zrange(QUEUE_NAME, 0, -1)]
    return [
        job
        for job in queued
        if job.startswith(f"{fan_out_events.name}:") and job.split(":", 1)[1] in set(event_ids)
    ]


async def test_a_commit_of_many_events_is_one_fan_out_job_and_every_attempt_is_signed_and_recorded(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    await create_webhook(client, owner, receiver, events=["testing.parcel.*"])
    ids = await emit_shipped(owner.account_id, 120)

    assert await fan_outs_of(ids) == [f"{fan_out_events.name}:{ids[0]}"]
    await run_jobs()

    assert sorted(r.event["id"] for r in receiver.requests) == sorted(ids)
    assert all(r.verified and r.status == 200 for r in receiver.requests)
    async with get_sessionmaker()() as session:
        statuses = set(await session.scalars(select(WebhookDelivery.status)))
        attempts = await session.scalar(select(func.count()).select_from(WebhookAttempt))
    assert statuses == {"succeeded"}
    assert attempts == 120


async def test_an_account_without_webhooks_gets_no_fan_out_job(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    quiet = await register(client)
    busy = await register(client)
    await create_webhook(client, busy, receiver, events=["testing.parcel.*"])

    quiet_ids = await emit_shipped(quiet.account_id, 3)
    assert await fan_outs_of(quiet_ids) == []

    busy_ids = await emit_shipped(busy.account_id, 2)
    assert await fan_outs_of(busy_ids) == [f"{fan_out_events.name}:{busy_ids[0]}"]


async def test_a_webhook_created_after_an_event_of_its_account_is_seen_by_the_next_relay(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any
) -> None:
    owner = await register(client)
    # The relay learns (and keeps for a few seconds) that this account has no webhook...
    assert await fan_outs_of(await emit_shipped(owner.account_id, 1)) == []
    # ...and creating one tells every process at once.
    await create_webhook(client, owner, receiver, events=["testing.parcel.*"])
    (event_id,) = await emit_shipped(owner.account_id, 1)
    assert await fan_outs_of([event_id]) == [f"{fan_out_events.name}:{event_id}"]
    await run_jobs()
    assert [r.event["id"] for r in receiver.requests] == [event_id]


async def test_a_batch_sends_concurrently_within_the_per_process_bound(
    client: httpx.AsyncClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await register(client)
    await create_webhook(client, owner, receiver, events=["testing.parcel.*"])
    receiver.delay_s = 0.05
    in_flight = 0
    most = 0
    original = delivery.send_delivery

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            return await original(*args, **kwargs)
        finally:
            in_flight -= 1

    monkeypatch.setattr(delivery, "send_delivery", counting)
    ids = await emit_shipped(owner.account_id, 40)
    await get_redis().flushdb()  # run the fan-out here, not in the worker
    assert await fan_out(ids) == 40
    assert most > 1, "the batch was sent one request at a time"
    assert len(receiver.requests) == 40


async def test_two_fan_outs_of_the_same_events_deliver_each_once(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    await create_webhook(client, owner, receiver, events=["testing.parcel.*"])
    ids = await emit_shipped(owner.account_id, 30)
    await get_redis().flushdb()
    # The relay's job and a sweeper's, running at the same time.
    created = await asyncio.gather(fan_out(ids), fan_out(ids[:10]))
    assert sum(created) == 30
    assert sorted(r.event["id"] for r in receiver.requests) == sorted(ids)
