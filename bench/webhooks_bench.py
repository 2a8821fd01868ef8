"""Webhook deliveries per second with one worker process, beside a raw sender in the same run.

Starts embedded PostgreSQL and Redis, one `ticaret worker` process and a local receiver process
(a minimal asyncio/uvloop HTTP/1.1 responder answering 204: an ASGI server's own CPU on this
2-core machine was taken from whichever sender was measured), then emits events through the outbox exactly as the API does and waits until every
delivery has succeeded (each attempt recorded, each request signed). Two receivers: one that
answers at once, one that answers after 100 ms.

The baseline, measured in the same run against the same receiver: one process with a plain
pooled httpx clients (8 requests in flight each) and raw asyncpg that reads the same number of events, signs each body the
same way (Standard Webhooks), POSTs them 100 at a time and records one attempt row per request
with one statement per batch: what the machine allows for the work a delivery needs, without
the queue, the claim/lease and the retry bookkeeping.

    PYTHONPATH=src python -m bench.webhooks_bench [--events 2000] [--delays 0 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
import uuid
from typing import Any

from bench.stack import cpu_seconds, embedded_stack, free_port, start, stop, wait_for_port

_declared: dict[str, Any] = {}


_NO_CONTENT = b"HTTP/1.1 204 No Content\r\nserver: bench\r\n\r\n"


class _Responder(asyncio.Protocol):
    """A minimal HTTP/1.1 keep-alive responder: reads each request (headers and a Content-Length
    body) and answers 204 after `delay_s`. Both senders share it, and on a 2-core machine an ASGI
    server's own CPU would be taken from whichever sender is measured."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            length = 0
            for line in self.buffer[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            self.buffer = self.buffer[end:]
            if self.delay_s:
                asyncio.get_running_loop().call_later(self.delay_s, self._answer)
            else:
                self._answer()

    def _answer(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_NO_CONTENT)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def run_receiver(port: int, delay_s: float) -> None:
    import uvloop

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Responder(delay_s), "127.0.0.1", port, backlog=1024
        )
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):  # stopped with SIGINT
        uvloop.run(serve())


async def measure(
    receiver_url: str, events: int, timeout_s: float, worker_pid: int
) -> dict[str, float]:
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
    if "order_created" not in _declared:
        _declared["order_created"] = event_type(
            "bench.order.created", "Emitted by this benchmark.", BenchOrder
        )
    order_created = _declared["order_created"]

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

        cpu_before = cpu_seconds(worker_pid)
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
        worker_cpu = cpu_seconds(worker_pid) - cpu_before

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
            "cpu_us": worker_cpu / done * 1e6 if done else 0.0,
            "attempts": len(rows),
        }
    finally:
        await close_redis()
        await dispose_engine()


async def baseline(receiver_url: str, events: int) -> dict[str, float]:
    """The raw sender: asyncpg + one pooled httpx client, no queue, same signing and records."""
    import asyncpg
    import httpx

    from ticaret.core.db import to_async_url
    from ticaret.core.security import secret_box
    from ticaret.settings import get_settings
    from ticaret.webhooks.signing import build_headers, generate_secret

    settings = get_settings()
    dsn = to_async_url(settings.database_url).replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    secret = generate_secret()
    encrypted = secret_box(settings).encrypt(secret)
    try:
        account_id = uuid.uuid4()
        hook_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO accounts (id, name, version) VALUES ($1, 'baseline', 1)", account_id
        )
        await conn.execute(
            "INSERT INTO webhooks (id, account_id, url, events, status, secret_encrypted, version)"
            " VALUES ($1, $2, $3, '[\"bench.*\"]', 'active', $4, 1)",
            hook_id,
            account_id,
            receiver_url,
            encrypted,
        )
        bodies = [
            (
                f"evt_{uuid.uuid4().hex}",
                json.dumps(
                    {
                        "type": "bench.order.created",
                        "data": {"n": n, "total": "19.90", "currency": "TRY"},
                    },
                    separators=(",", ":"),
                ).encode(),
            )
            for n in range(events)
        ]
        cpu_before = time.process_time()
        started = time.perf_counter()
        # httpcore's per-request work grows with what one pool holds: 8 in flight per client.
        clients = [httpx.AsyncClient() for _ in range(13)]
        try:

            async def send(n: int, event_id: str, body: bytes) -> tuple[int, dict[str, str], int]:
                headers = build_headers(event_id, int(time.time()), body, [secret])
                sent = time.monotonic()
                response = await clients[n % len(clients)].post(
                    receiver_url, content=body, headers=headers
                )
                return response.status_code, headers, round((time.monotonic() - sent) * 1000)

            for first in range(0, events, 100):
                chunk = bodies[first : first + 100]
                # The secret is read and decrypted per batch, as a claim does.
                stored = await conn.fetchval(
                    "SELECT secret_encrypted FROM webhooks WHERE id = $1", hook_id
                )
                assert secret_box(settings).decrypt(stored) == secret
                results = await asyncio.gather(*(send(n, e, b) for n, (e, b) in enumerate(chunk)))
                await conn.executemany(
                    "INSERT INTO bench_raw_attempts (event_id, status, headers, duration_ms)"
                    " VALUES ($1, $2, $3::jsonb, $4)",
                    [
                        (event_id, status, json.dumps(headers), ms)
                        for (event_id, _), (status, headers, ms) in zip(chunk, results, strict=True)
                    ],
                )
        finally:
            for client in clients:
                await client.aclose()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        return {"per_s": events / elapsed, "cpu_us": cpu / events * 1e6}
    finally:
        await conn.close()


async def _prepare_baseline_table() -> None:
    import asyncpg

    from ticaret.core.db import to_async_url
    from ticaret.settings import get_settings

    dsn = to_async_url(get_settings().database_url).replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_attempts (id bigserial PRIMARY KEY,"
            " event_id text NOT NULL, status int, headers jsonb NOT NULL, duration_ms int NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--delays", type=float, nargs="+", default=[0.0, 0.1])
    parser.add_argument("--receiver", nargs=2, metavar=("PORT", "DELAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        run_receiver(int(args.receiver[0]), float(args.receiver[1]))
        return 0

    ok = True
    with embedded_stack("webhooks-bench") as env:
        asyncio.run(_prepare_baseline_table())
        print(
            f"{args.events} events per run; one worker process (arq, max_jobs=50); "
            "ratio = worker / raw sender, same receiver, same run",
            flush=True,
        )
        for delay in args.delays:
            label = "instant receiver" if not delay else f"{delay * 1000:.0f} ms receiver"
            port = free_port()
            receiver = start(
                ["-m", "bench.webhooks_bench", "--receiver", str(port), str(delay)], env
            )
            worker = start(["-m", "ticaret.cli", "worker"], env)
            print(f"worker pid {worker.pid}", flush=True)
            try:
                wait_for_port(port)
                time.sleep(2.0)  # the worker connects and starts polling
                url = f"http://127.0.0.1:{port}/hooks"
                raw = asyncio.run(baseline(url, args.events))
                result = asyncio.run(measure(url, args.events, args.timeout, worker.pid))
            finally:
                stop(worker)
                stop(receiver)
            ok = ok and result["delivered"] == result["events"]
            print(
                f"{label:>17}: {int(result['delivered'])}/{int(result['events'])} delivered "
                f"({int(result['attempts'])} attempts recorded) in {result['elapsed_s']:.1f} s = "
                f"{result['per_s']:.0f} deliveries/s, worker CPU {result['cpu_us']:.0f} µs/delivery"
                f" | raw sender {raw['per_s']:.0f}/s, {raw['cpu_us']:.0f} µs/request"
                f" | ratio {result['per_s'] / raw['per_s']:.2f} (CPU {raw['cpu_us'] / result['cpu_us']:.2f})"
                f" | emitting {result['emit_s']:.1f} s; event->attempt lag"
                f" p50 {result['lag_p50_ms']:.0f} ms, p95 {result['lag_p95_ms']:.0f} ms",
                flush=True,
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
