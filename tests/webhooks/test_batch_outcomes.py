"""One batch of attempts, many endpoints: each attempt is recorded and signed for its own
webhook, a failing or slow endpoint costs the others nothing beyond the timeout.

The deliveries go through the real worker (`run_jobs`) to local receivers that verify every
signature with the `standardwebhooks` package; retries run on the real schedule shrunk to
milliseconds (`fast_retries`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from tests.helpers import register
from tests.local_server import serve
from tests.webhooks.helpers import Receiver, create_webhook, deliveries, emit_shipped
from ticaret.core.db import get_sessionmaker
from ticaret.core.queue import get_redis
from ticaret.models import Event, WebhookAttempt, WebhookDelivery
from ticaret.settings import get_settings
from ticaret.webhooks import tasks

EVENTS = 12


@asynccontextmanager
async def serving(*receivers: Receiver) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        for receiver in receivers:
            receiver.url = f"{await stack.enter_async_context(serve(receiver))}/hooks"
        yield


@dataclass
class Hanging(Receiver):
    """Holds its first `hang_first` requests unanswered until `release` is set."""

    hang_first: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrivals: int = 0
    hanging: int = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.arrivals += 1
        if self.arrivals > self.hang_first:
            await super().__call__(scope, receive, send)
            return
        self.hanging += 1
        try:
            await asyncio.wait_for(self.release.wait(), 60)
        finally:
            self.hanging -= 1
        # The sender gave up long ago; this answer goes nowhere.
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def statuses(rows: list[dict[str, Any]]) -> list[list[int | None]]:
    return [[attempt["responseStatus"] for attempt in row["attempts"]] for row in rows]


@pytest.mark.usefixtures("fast_retries")
async def test_a_batch_where_some_endpoints_fail_records_every_attempt_and_retries_the_failed(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    healthy = Receiver()
    # Every first attempt fails with 500, every retry is accepted.
    flaky = Receiver(fail_first=EVENTS)
    gone = Receiver(status=410)
    async with serving(healthy, flaky, gone):
        owner = await register(client)
        hooks = {
            name: await create_webhook(client, owner, receiver, events=["testing.parcel.*"])
            for name, receiver in (("healthy", healthy), ("flaky", flaky), ("gone", gone))
        }
        ids = await emit_shipped(owner.account_id, EVENTS)
        await run_jobs()

    # Every request of the batch, accepted or not, carried a valid signature for its webhook.
    for receiver in (healthy, flaky, gone):
        assert all(r.verified for r in receiver.requests)
    assert sorted(r.event["id"] for r in healthy.requests) == sorted(ids)

    ok = await deliveries(client, owner, hooks["healthy"]["id"])
    assert {row["status"] for row in ok} == {"succeeded"}
    assert statuses(ok) == [[200]] * EVENTS

    retried = await deliveries(client, owner, hooks["flaky"]["id"])
    assert {row["status"] for row in retried} == {"succeeded"}
    assert statuses(retried) == [[500, 200]] * EVENTS
    for row in retried:
        first, second = row["attempts"]
        # The failed attempt scheduled the retry that succeeded; the same message id both times.
        assert first["nextAttemptAt"] is not None and second["nextAttemptAt"] is None
        assert first["requestHeaders"]["webhook-id"] == second["requestHeaders"]["webhook-id"]
    assert sorted({r.event["id"] for r in flaky.requests}) == sorted(ids)

    # 410 Gone: no retry, and the webhook is disabled (announced once, not once per attempt).
    closed = await deliveries(client, owner, hooks["gone"]["id"])
    assert {row["status"] for row in closed} == {"failed"}
    assert statuses(closed) == [[410]] * EVENTS
    assert all(row["attempts"][0]["nextAttemptAt"] is None for row in closed)
    hook = await client.get(
        f"/accounts/{owner.account_id}/webhooks/{hooks['gone']['id']}", headers=owner.headers
    )
    assert hook.json()["data"]["status"] == "disabled"
    async with get_sessionmaker()() as session:
        announced = await session.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.type == "webhook.disabled",
                Event.data["webhookId"].astext == hook.json()["data"]["id"],
            )
        )
        attempts = await session.scalar(select(func.count()).select_from(WebhookAttempt))
    assert announced == 1
    assert attempts == EVENTS * 4


async def test_each_attempt_of_a_batch_is_signed_with_its_own_webhooks_secret(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    first, second = Receiver(), Receiver()
    async with serving(first, second):
        owner = await register(client)
        hooks = [
            await create_webhook(client, owner, receiver, events=["testing.parcel.*"])
            for receiver in (first, second)
        ]
        ids = await emit_shipped(owner.account_id, EVENTS)
        await run_jobs()

    for receiver, hook in zip((first, second), hooks, strict=True):
        # Each receiver knows only its own webhook's secret (Standard Webhooks verification).
        assert receiver.secrets == [hook["secret"]]
        assert len(receiver.requests) == EVENTS
        assert all(r.verified and r.status == 200 for r in receiver.requests)
        got = {r.headers["webhook-id"]: r for r in receiver.requests}
        assert sorted(got) == sorted(ids)
        for row in await deliveries(client, owner, hook["id"]):
            (attempt,) = row["attempts"]
            sent = got[row["eventId"]]
            # What history says was sent is what arrived: signature, timestamp, message id.
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
                assert attempt["requestHeaders"][name] == sent.headers[name]
            assert sent.event["id"] == row["eventId"]
    # The two webhooks' signatures of the same event differ: each was signed with its own key.
    by_id = {r.headers["webhook-id"]: r.headers["webhook-signature"] for r in first.requests}
    assert all(
        by_id[r.headers["webhook-id"]] != r.headers["webhook-signature"] for r in second.requests
    )


@pytest.mark.usefixtures("fast_retries")
async def test_a_slow_endpoint_holds_the_others_no_longer_than_the_timeout(
    client: httpx.AsyncClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings().webhooks, "timeout_seconds", 0.5)
    slow = Hanging(hang_first=EVENTS)
    fast = Receiver()
    async with serving(slow, fast):
        owner = await register(client)
        slow_hook = await create_webhook(client, owner, slow, events=["testing.parcel.*"])
        fast_hook = await create_webhook(client, owner, fast, events=["testing.parcel.*"])
        ids = await emit_shipped(owner.account_id, EVENTS)
        try:
            await run_jobs()
            # Every delivery is done (the slow endpoint's on retry) while the slow endpoint
            # still holds each first attempt unanswered: nothing waited for those answers.
            assert slow.hanging == EVENTS
        finally:
            slow.release.set()

    assert len(fast.requests) == EVENTS
    assert sorted(r.event["id"] for r in fast.requests) == sorted(ids)
    quick = await deliveries(client, owner, fast_hook["id"])
    assert {row["status"] for row in quick} == {"succeeded"}
    assert statuses(quick) == [[200]] * EVENTS

    late = await deliveries(client, owner, slow_hook["id"])
    assert {row["status"] for row in late} == {"succeeded"}
    for row in late:
        first, second = row["attempts"]
        assert first["error"] == "timeout after 0.5s" and first["responseStatus"] is None
        assert first["nextAttemptAt"] is not None
        assert second["responseStatus"] == 200


class Killed(BaseException):
    """The worker process dying mid-job (not an error any handler would catch)."""


@pytest.mark.usefixtures("no_sweep_grace")
async def test_a_fan_out_killed_before_sending_loses_no_delivery(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await register(client)
    hook = await create_webhook(client, owner, receiver, events=["testing.parcel.*"])
    await run_jobs()  # the webhook.created fan-out, out of the way
    ids = await emit_shipped(owner.account_id, EVENTS)
    await get_redis().flushdb()  # the fan-out runs here, not in the worker

    async def killed(claims: Any) -> Any:
        raise Killed()

    sending = tasks.send_and_record
    monkeypatch.setattr(tasks, "send_and_record", killed)
    with pytest.raises(Killed):
        await tasks.fan_out(ids)
    monkeypatch.setattr(tasks, "send_and_record", sending)
    assert receiver.requests == []
    # The deliveries were committed leased to the dead job: nobody else takes them meanwhile...
    created = await deliveries(client, owner, hook["id"])
    assert len(created) == EVENTS and {row["status"] for row in created} == {"pending"}
    assert await tasks.sweep_webhook_deliveries() == 0

    # ...and once the lease has run out, the sweeper sends each of them, once.
    async with get_sessionmaker()() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == uuid.UUID(hook["id"]))
            .values(next_attempt_at=func.now() - timedelta(minutes=1))
        )
        await session.commit()
    assert await tasks.sweep_webhook_deliveries() == EVENTS
    await run_jobs()
    assert sorted(r.event["id"] for r in receiver.requests) == sorted(ids)
    assert all(r.verified for r in receiver.requests)
    sent = await deliveries(client, owner, hook["id"])
    assert {row["status"] for row in sent} == {"succeeded"}
    assert statuses(sent) == [[200]] * EVENTS
