"""Declared jobs and the wiring: what the API queues is what the worker runs."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from arq.constants import job_key_prefix
from sqlalchemy import select

from tests.helpers import register, unrelayed_events
from ticaret.core.db import get_sessionmaker, unit_of_work
from ticaret.core.jobs import registered_jobs, registered_sweepers
from ticaret.core.queue import QUEUE_NAME, get_redis
from ticaret.models import Event


async def _event_ids(type_name: str) -> list[str]:
    async with get_sessionmaker()() as session:
        return list(await session.scalars(select(Event.id).where(Event.type == type_name)))


async def test_an_event_from_a_request_is_fanned_out_at_once(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    hook = await client.post(
        f"/accounts/{owner.account_id}/webhooks",
        json={"url": "http://127.0.0.1:9/in", "events": ["api_account.*"]},
        headers=owner.headers,
    )
    assert hook.status_code == 201
    created = await client.post(
        f"/accounts/{owner.account_id}/api-accounts",
        json={"name": "erp", "role": "viewer"},
        headers=owner.headers,
    )
    assert created.status_code == 201
    # Right after the response, before any worker or sweeper ran: the relay queued the
    # fan-out of the request's event, because the API loads the same wiring as the worker.
    (event_id,) = await _event_ids("api_account.created")
    assert await get_redis().exists(job_key_prefix + f"fan_out_events:{event_id}")
    assert event_id not in await unrelayed_events()


async def test_the_worker_runs_every_declared_job_and_sweeper(app: Any) -> None:
    from ticaret.worker import build_worker

    worker = build_worker(get_redis(), burst=True)
    declared = {job.name for job in registered_jobs()}
    assert declared >= {
        "send_email",
        "fan_out_event",
        "deliver_webhook",
        "release_held_deliveries",
        "relay_event",
        "process_wa_inbox_event",
        "perform_wa_operation",
        "deliver_gateway_follow_up",
    }
    assert set(worker.functions) >= declared
    sweepers = {sweeper.name for sweeper in registered_sweepers()}
    assert sweepers >= {
        "sweep_outbox",
        "sweep_pending_emails",
        "sweep_webhook_deliveries",
        "sweep_inbox",
        "sweep_wa_operations",
        "purge_idempotency_keys",
    }
    assert {cron.name for cron in worker.cron_jobs} == sweepers
    # Each job carries its own tries and timeout into arq.
    assert worker.functions["deliver_webhook"].max_tries == 3
    await worker.close()


async def test_a_job_queued_after_commit_is_dropped_on_rollback(app: Any) -> None:
    from ticaret.notifications.tasks import email_job_id, send_email

    dropped, kept = uuid.uuid4(), uuid.uuid4()

    async def failing_request() -> None:
        async with unit_of_work() as session:
            send_email.options(job_id=email_job_id(dropped)).after_commit(session, str(dropped))
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        await failing_request()
    async with unit_of_work() as session:
        send_email.options(job_id=email_job_id(kept)).after_commit(session, str(kept))
    redis = get_redis()
    assert not await redis.exists(job_key_prefix + email_job_id(dropped))
    assert await redis.exists(job_key_prefix + email_job_id(kept))


async def test_a_job_is_queued_once_per_id_while_queued_running_or_kept(
    app: Any, run_jobs: Any
) -> None:
    from datetime import timedelta

    from arq.jobs import Job as ArqJob
    from arq.jobs import JobStatus

    from ticaret.core.events import relay_event
    from ticaret.core.queue import QUEUE_NAME

    redis = get_redis()
    tag = uuid.uuid4().hex
    first = relay_event.options(job_id=f"test-once:{tag}:1")
    assert await first.enqueue(f"evt_missing_{tag}") is True
    assert await first.enqueue(f"evt_missing_{tag}") is False
    # Several at once in one pipeline (as the relay queues a commit's consumers): the one
    # held already is refused, the new one queued.
    second = relay_event.options(job_id=f"test-once:{tag}:2", defer_by=timedelta(hours=1))
    async with redis.pipeline(transaction=False) as pipe:
        first.queue_on(pipe, f"evt_missing_{tag}")
        second.queue_on(pipe, f"evt_missing_{tag}")
        second.queue_on(pipe, f"evt_missing_{tag}")
        assert await pipe.execute() == [0, 1, 0]
    # arq reads them as its own jobs: queued now, and deferred by the hour asked for.
    queued = ArqJob(f"test-once:{tag}:1", redis, _queue_name=QUEUE_NAME)
    assert await queued.status() == JobStatus.queued
    info = await queued.info()
    assert info is not None
    assert info.function == "relay_event" and info.args == (f"evt_missing_{tag}",)
    deferred = ArqJob(f"test-once:{tag}:2", redis, _queue_name=QUEUE_NAME)
    assert await deferred.status() == JobStatus.deferred
    score = await redis.zscore(QUEUE_NAME, f"test-once:{tag}:2")
    assert score is not None and score > (info.enqueue_time.timestamp() + 3500) * 1000

    # (A burst worker would wait for the deferred one: it goes.)
    await redis.delete(job_key_prefix + f"test-once:{tag}:2")
    await redis.zrem(QUEUE_NAME, f"test-once:{tag}:2")
    await run_jobs()  # runs the first (the event is not there: nothing to relay)
    assert await queued.status() == JobStatus.complete
    assert await queued.result(timeout=1) is False
    # Its result is kept: the same id is refused until the result expires.
    assert await first.enqueue(f"evt_missing_{tag}") is False


async def test_a_worker_claims_a_queued_job_once_and_leaves_one_running_elsewhere(
    app: Any,
) -> None:
    import asyncio
    from datetime import timedelta

    from arq.constants import in_progress_key_prefix

    from ticaret.core.events import relay_event
    from ticaret.worker import build_worker

    redis = get_redis()
    tag = uuid.uuid4().hex
    elsewhere, deferred, free = (f"test-claim:{tag}:{n}" for n in ("elsewhere", "later", "free"))
    for job_id in (elsewhere, free):
        assert await relay_event.options(job_id=job_id).enqueue(f"evt_missing_{tag}")
    await relay_event.options(job_id=deferred, defer_by=timedelta(hours=1)).enqueue("evt_x")
    await redis.psetex(in_progress_key_prefix + elsewhere, 60_000, b"1")  # another worker's
    worker = build_worker(redis, burst=True, with_cron=False)
    try:
        await worker.start_jobs([elsewhere.encode(), deferred.encode(), free.encode()])
        assert set(worker.tasks) == {free}
        # Polled again while it runs (or once it ran): not claimed a second time.
        await worker.start_jobs([free.encode()])
        await asyncio.gather(*worker.tasks.values())
        assert worker.jobs_complete == 1
        assert not await redis.zscore(QUEUE_NAME, free)
        assert await redis.zscore(QUEUE_NAME, elsewhere)
    finally:
        await worker.close()
        for job_id in (elsewhere, deferred):
            await redis.delete(job_key_prefix + job_id, in_progress_key_prefix + job_id)
            await redis.zrem(QUEUE_NAME, job_id)
