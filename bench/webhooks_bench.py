"""Webhook deliveries per second with one worker process.

Starts embedded PostgreSQL and Redis, one `ticaret worker` process and a local receiver process
(uvicorn), then emits events through the outbox exactly as the API does and waits until every
delivery has succeeded. Two receivers: one that answers at once, one that answers after 100 ms.

    PYTHONPATH=src python -m bench.webhooks_bench [--events 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from typing import Any

from bench.stack import embedded_stack, free_port, start, stop, wait_for_port


def receiver_app(delay_s: float) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if delay_s:
            await asyncio.sleep(delay_s)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


def run_receiver(port: int, delay_s: float) -> None:
    import uvicorn

    uvicorn.run(
        receiver_app(delay_s),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


async def measure(receiver_url: str, events: int, timeout_s: float) -> dict[str, float]:
    from sqlalchemy import func, select

    from ticaret import wiring
    from ticaret.core.db import dispose_engine, get_sessionmaker, init_engine, unit_of_work
    from ticaret.core.events import Actor, EventPayload, emit, event_type
    from ticaret.core.queue import close_redis, init_redis
    from ticaret.core.security import secret_box
    from ticaret.models import Account, DeliveryStatus, Event, Webhook, WebhookAttempt
    from ticaret.models import WebhookDelivery as Delivery
    from ticaret.settings import get_settings
    from ticaret.webhooks.signing import generate_secret

    class BenchOrder(EventPayload):
        n: int
        total: str
        currency: str

    wiring.load()  # the event consumers, as the API registers them
    order_created = event_type("bench.order.created", "Emitted by this benchmark.", BenchOrder)

    settings = get_settings()
    init_engine(settings.database_url, pool_size=10)
    await init_redis(settings.redis_url)
    try:
        async with unit_of_work() as session:
            account = Account(name=f"bench {uuid.uuid4().hex[:6]}")
            session.add(account)
            await session.flush()
            hook = Webhook(
                account_id=account.id,
                url=receiver_url,
                events=["bench.*"],
                status="active",
                secret_encrypted=secret_box(settings).encrypt(generate_secret()),
            )
            session.add(hook)
            await session.flush()
            account_id, hook_id = account.id, hook.id
        await asyncio.sleep(0.5)  # webhook.created_at strictly before the first event

        started = time.perf_counter()
        batch = 50
        for first in range(0, events, batch):
            async with unit_of_work() as session:
                for n in range(first, min(first + batch, events)):
                    emit(
                        session,
                        order_created,
                        BenchOrder(n=n, total="19.90", currency="TRY"),
                        account_id=account_id,
                        actor=Actor.system(),
                    )
        emitted = time.perf_counter() - started

        done = 0
        while time.perf_counter() - started < timeout_s:
            async with get_sessionmaker()() as session:
                done = (
                    await session.scalar(
                        select(func.count())
                        .select_from(Delivery)
                        .where(
                            Delivery.webhook_id == hook_id,
                            Delivery.status == DeliveryStatus.succeeded,
                        )
                    )
                    or 0
                )
            if done >= events:
                break
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started

        async with get_sessionmaker()() as session:
            rows = (
                await session.execute(
                    select(WebhookAttempt.created_at, Event.created_at)
                    .join(Delivery, Delivery.id == WebhookAttempt.delivery_id)
                    .join(Event, Event.id == Delivery.event_id)
                    .where(Delivery.webhook_id == hook_id)
                )
            ).all()
        lags = sorted((sent - made).total_seconds() * 1000 for sent, made in rows)
        return {
            "events": events,
            "delivered": done,
            "emit_s": emitted,
            "elapsed_s": elapsed,
            "per_s": done / elapsed if elapsed else 0.0,
            "lag_p50_ms": statistics.median(lags) if lags else 0.0,
            "lag_p95_ms": lags[int(len(lags) * 0.95) - 1] if lags else 0.0,
        }
    finally:
        await close_redis()
        await dispose_engine()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--receiver", nargs=2, metavar=("PORT", "DELAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        run_receiver(int(args.receiver[0]), float(args.receiver[1]))
        return 0

    results: list[tuple[str, dict[str, float]]] = []
    with embedded_stack("webhooks-bench") as env:
        for label, delay in (("instant receiver", 0.0), ("100 ms receiver", 0.1)):
            port = free_port()
            receiver = start(
                ["-m", "bench.webhooks_bench", "--receiver", str(port), str(delay)], env
            )
            worker = start(["-m", "ticaret.cli", "worker"], env)
            try:
                wait_for_port(port)
                time.sleep(2.0)  # the worker connects and starts polling
                result = asyncio.run(
                    measure(f"http://127.0.0.1:{port}/hooks", args.events, args.timeout)
                )
            finally:
                stop(worker)
                stop(receiver)
            results.append((label, result))
            print(
                f"{label:>17}: {int(result['delivered'])}/{int(result['events'])} delivered in "
                f"{result['elapsed_s']:.1f} s = {result['per_s']:.0f} deliveries/s "
                f"(emitting took {result['emit_s']:.1f} s; event->attempt lag "
                f"p50 {result['lag_p50_ms']:.0f} ms, p95 {result['lag_p95_ms']:.0f} ms)",
                flush=True,
            )
    return 0 if all(r["delivered"] == r["events"] for _, r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
