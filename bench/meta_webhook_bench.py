"""Signed Meta webhook entries ingested per second, end to end (receiver + job), one API process
and one worker, batches of 100 entries; beside the receiver alone, measured in the same run.

Starts embedded PostgreSQL and Redis, one `ticaret serve` and (later) one `ticaret worker`,
registers an account with a connected Page, then:

1. baseline: posts N entries (N/100 signed `POST /meta/webhook` bodies of 100 Messenger messages
   each, from 200 customers) with no worker running: what the receiver alone stores per second
   (verify the signature, split, one INSERT per batch);
2. end to end: starts the worker, lets it drain that backlog, then posts N more entries and waits
   until the worker has turned every one into threads, messages and `meta.message.received`
   events: entries per second from the first POST to the last processed item.

Loopback only.

    PYTHONPATH=src:. python bench/meta_webhook_bench.py [--entries 5000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text

from bench._servers import bench_servers, percentile

REPO = Path(__file__).resolve().parents[1]
APP_SECRET = "bench-meta-app-secret"
PAGE_ID = "104857600000001"


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ticaret.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(150):
            try:
                if (await client.get(f"{base}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the API did not start")


async def counts() -> tuple[int, int]:
    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE status <> 'received'), count(*)"
                    " FROM inbox_items WHERE source = 'meta'"
                )
            )
        ).one()
    return int(row[0]), int(row[1])


def batch(round_: str, index: int, size: int) -> bytes:
    now = int(time.time() * 1000)
    entries = []
    for n in range(size):
        number = index * size + n
        entries.append(
            {
                "id": PAGE_ID,
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": f"2410000000{number % 200:06d}"},
                        "recipient": {"id": PAGE_ID},
                        "timestamp": now + n,
                        "message": {
                            "mid": f"m_{round_}_{number}_{uuid.uuid4().hex[:12]}",
                            "text": f"Merhaba, sipariş {number} ne zaman kargoda?",
                        },
                    }
                ],
            }
        )
    return json.dumps({"object": "page", "entry": entries}).encode()


async def post_all(
    client: httpx.AsyncClient, bodies: list[bytes], concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def poster() -> None:
        while not queue.empty():
            body = queue.get_nowait()
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            started = time.perf_counter()
            response = await client.post(
                "/meta/webhook",
                content=body,
                headers={"content-type": "application/json", "x-hub-signature-256": signature},
            )
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text

    started = time.perf_counter()
    await asyncio.gather(*(poster() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


async def wait_processed(total: int, within_s: float) -> int:
    deadline = time.monotonic() + within_s
    done = 0
    while time.monotonic() < deadline:
        done, _ = await counts()
        if done >= total:
            break
        await asyncio.sleep(0.05)
    return done


async def run(args: argparse.Namespace, env: dict[str, str]) -> None:
    from ticaret.core.db import init_engine, unit_of_work
    from ticaret.core.embedded import free_port
    from ticaret.social.devtools import ensure_dev_asset

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child_env = {
        **os.environ,
        **env,
        "PYTHONPATH": str(REPO / "src"),
        "TICARET_PUBLIC_BASE_URL": base,
        "TICARET_META__APP_ID": "1122334455",
        "TICARET_META__APP_SECRET": APP_SECRET,
    }
    api = spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], child_env)
    worker = None
    size = 100
    batches = max(1, args.entries // size)
    entries = batches * size
    try:
        await wait_ready(base)
        init_engine(env["TICARET_DATABASE_URL"])
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            reg = await client.post(
                "/auth/register",
                json={"email": "bench@example.com", "password": "bench password 1", "name": "B"},
            )
            account = uuid.UUID(reg.json()["data"]["accounts"][0]["accountId"])
            async with unit_of_work() as session:
                await ensure_dev_asset(session, account, "facebook", PAGE_ID)

            # 1. The receiver alone (no worker yet).
            receiver_s, receiver_lat = await post_all(
                client, [batch("a", i, size) for i in range(batches)], args.concurrency
            )
            worker = spawn(["worker"], child_env)
            drain_started = time.perf_counter()
            drained = await wait_processed(entries, args.timeout)
            drain_s = time.perf_counter() - drain_started

            # 2. End to end, with the worker running.
            bodies = [batch("b", i, size) for i in range(batches)]
            started = time.perf_counter()
            post_s, e2e_lat = await post_all(client, bodies, args.concurrency)
            done = await wait_processed(2 * entries, args.timeout) - entries
            e2e_s = time.perf_counter() - started

        receiver_rate = entries / receiver_s
        e2e_rate = done / e2e_s
        print(f"entries                  {entries:,} per phase, {batches} bodies of {size}")
        print(
            f"receiver alone           {receiver_rate:8.0f} entries/s  (p50 "
            f"{percentile(receiver_lat, 50):.0f} ms, p99 {percentile(receiver_lat, 99):.0f} ms "
            "per 100-entry body)"
        )
        print(
            f"jobs alone (backlog)     {drained / drain_s:8.0f} entries/s  "
            f"({drained:,} in {drain_s:.1f}s)"
        )
        print(
            f"end to end               {e2e_rate:8.0f} entries/s  ({done:,} processed in "
            f"{e2e_s:.1f}s; bodies posted in {post_s:.1f}s, p50 {percentile(e2e_lat, 50):.0f} ms)"
        )
        print(f"end to end / receiver    {e2e_rate / receiver_rate:8.2f}")
    finally:
        children = [child for child in (api, worker) if child is not None]
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    with bench_servers("meta") as servers:
        asyncio.run(run(args, servers.env))


if __name__ == "__main__":
    main()
