"""Live console: concurrent SSE clients on one API process, and emit-to-last-client latency.

Starts embedded PostgreSQL and Redis and one `ticaret serve` process, registers a user, opens N
raw HTTP/1.1 `GET /console/events` connections (one stream token, as the page would use), then
emits events through the outbox from this process (as a worker would: commit, then Redis pub/sub)
and times how long until every client has read each one.

    PYTHONPATH=src python -m bench.sse_bench [--clients 100 1000 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from bench.stack import embedded_stack, free_port, rss_mib, start, stop, wait_for_port


@dataclass
class Client:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    received: dict[str, float] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None

    async def read_events(self) -> None:
        try:
            while line := await self.reader.readline():
                if line.startswith(b"id: "):
                    self.received[line[4:].strip().decode()] = time.perf_counter()
        except (ConnectionError, asyncio.IncompleteReadError):
            return

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.writer.close()


async def connect(port: int, token: str) -> Client:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(
        (
            f"GET /console/events?token={quote(token)} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    client = Client(reader, writer)
    client.task = asyncio.create_task(client.read_events())
    return client


def _bench_type() -> Any:
    from ticaret.core.events import EventPayload, declared_event_type, event_type

    class BenchMessage(EventPayload):
        text: str
        provider_session_id: str

    return declared_event_type("bench.message.received") or event_type(
        "bench.message.received", "Emitted by this benchmark.", BenchMessage
    )


async def emit_one(account_id: uuid.UUID, n: int) -> tuple[str, float]:
    from ticaret.core.db import unit_of_work
    from ticaret.core.events import Actor, emit

    message = _bench_type()
    started = time.perf_counter()
    async with unit_of_work() as session:
        event = emit(
            session,
            message,
            message.payload(text=f"bench {n}", provider_session_id="bench"),
            account_id=account_id,
            actor=Actor.system(),
        )
    return event.id, started


async def wait_all(clients: list[Client], event_id: str, within_s: float) -> bool:
    deadline = time.perf_counter() + within_s
    while time.perf_counter() < deadline:
        if all(event_id in c.received for c in clients):
            return True
        await asyncio.sleep(0.002)
    return False


async def run_level(
    port: int, token: str, account_id: uuid.UUID, count: int, rounds: int, server_pid: int
) -> dict[str, Any]:
    opened = time.perf_counter()
    clients: list[Client] = []
    try:
        for first in range(0, count, 100):
            batch = [connect(port, token) for _ in range(first, min(first + 100, count))]
            clients.extend(await asyncio.gather(*batch))
        open_s = time.perf_counter() - opened
        # Every stream subscribed: a warm-up event reaches all of them.
        warm, _ = await emit_one(account_id, -1)
        if not await wait_all(clients, warm, 30):
            missing = sum(warm not in c.received for c in clients)
            return {"clients": count, "ok": False, "missing": missing}
        last: list[float] = []
        median: list[float] = []
        for n in range(rounds):
            event_id, started = await emit_one(account_id, n)
            if not await wait_all(clients, event_id, 30):
                return {"clients": count, "ok": False, "round": n}
            times = [c.received[event_id] - started for c in clients]
            last.append(max(times) * 1000)
            median.append(statistics.median(times) * 1000)
            await asyncio.sleep(0.2)
        return {
            "clients": count,
            "ok": True,
            "open_s": open_s,
            "last_ms": statistics.median(last),
            "last_worst_ms": max(last),
            "median_ms": statistics.median(median),
            "rss_mib": rss_mib(server_pid),
        }
    finally:
        for client in clients:
            client.close()
        await asyncio.sleep(1.0)  # let the server notice the disconnects


async def bench(port: int, levels: list[int], rounds: int, server_pid: int) -> list[dict[str, Any]]:
    from ticaret.core.db import dispose_engine, init_engine
    from ticaret.core.queue import close_redis, init_redis
    from ticaret.settings import get_settings

    settings = get_settings()
    init_engine(settings.database_url, pool_size=5)
    await init_redis(settings.redis_url)
    results = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            registered = await http.post(
                "/auth/register",
                json={
                    "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                    "password": "bench password 1",
                    "name": "Bench",
                },
            )
            data = registered.json()["data"]
            headers = {"Authorization": f"Bearer {data['accessToken']}"}
            account_id = uuid.UUID(data["accounts"][0]["accountId"])
            for count in levels:
                token = (await http.post("/console/token", headers=headers)).json()["data"]["token"]
                result = await run_level(port, token, account_id, count, rounds, server_pid)
                results.append(result)
                print(json.dumps(result), flush=True)
                if not result["ok"]:
                    break
    finally:
        await close_redis()
        await dispose_engine()
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000, 2000])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with embedded_stack("sse-bench") as env:
        port = free_port()
        server = start(["-m", "ticaret.cli", "serve", "--port", str(port)], env)
        try:
            wait_for_port(port)
            results = asyncio.run(bench(port, args.clients, args.rounds, server.pid))
        finally:
            stop(server)
    for r in results:
        if r["ok"]:
            print(
                f"{r['clients']:>5} clients: opened in {r['open_s']:.1f} s; emit -> last client "
                f"{r['last_ms']:.0f} ms (median of {args.rounds} rounds, worst "
                f"{r['last_worst_ms']:.0f} ms), median client {r['median_ms']:.0f} ms; "
                f"API RSS {r['rss_mib']:.0f} MiB"
            )
        else:
            print(f"{r['clients']:>5} clients: FAILED {r}")
    return 0 if results and all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
