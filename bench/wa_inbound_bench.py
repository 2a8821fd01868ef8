"""Inbound WhatsApp events per second, end to end: receiver (one API process) + job (one worker).

Starts embedded PostgreSQL and Redis, one `ticaret serve` and one `ticaret worker`, creates a
sandbox session over HTTP, then posts N WAHA-shaped `message` webhooks (from 200 customers)
to `POST /wa/provider-events/{providerSessionId}` with the session's secret, and waits until
the worker has turned every one into contacts, chats, messages and events. Loopback only.

`--phased` stores every event first (receiver alone), then starts the worker (jobs alone).
`--e2e SECONDS` is end to end with wrk as the load (a Python client would take a core of this
2-core machine from the server): wrk posts new messages from 200 customers for SECONDS while the
worker runs, then the bench waits until every stored event is processed, and until the job queue
is empty (the outbox consumers: AI analysis, conversations, agents, CRM links). It prints both
rates, measured from the first request, and each process's CPU per event.
`--wrk SECONDS` measures the receiver alone under wrk (32 connections, each request a new
message), interleaved round by round with the raw receiver of `bench/raw_baseline.py`
(Starlette + asyncpg: the secret check and the same INSERT into `inbox_items`), and prints the
ratio; no worker runs.

    PYTHONPATH=src:. python -m bench.wa_inbound_bench [--events 5000] [--concurrency 32]
    PYTHONPATH=src:. python -m bench.wa_inbound_bench --phased
    PYTHONPATH=src:. python -m bench.wa_inbound_bench --e2e 10
    PYTHONPATH=src:. python -m bench.wa_inbound_bench --wrk 5 [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from bench._servers import (
    BenchServers,
    bench_servers,
    customer_messages,
    percentile,
    post_webhooks,
    reset_statements,
    sandbox_session,
    top_statements,
)

REPO = Path(__file__).resolve().parents[1]


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


async def stored() -> int:
    """Every WhatsApp inbox item (counted once, after the load: it reads the whole table)."""
    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM inbox_items WHERE source = 'wa'")))


async def analyse_tables() -> None:
    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()


async def any_waiting() -> bool:
    """Whether an item is not processed yet: one entry of the partial index of waiting items,
    so polling it costs PostgreSQL next to nothing (counting the whole table every 50 ms took
    a third of the database's CPU in the end-to-end run)."""
    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        found = await conn.scalar(
            text("SELECT 1 FROM inbox_items WHERE source = 'wa' AND status = 'received' LIMIT 1")
        )
    return found is not None


async def waiting_count() -> int:
    """Items stored and not processed yet (the backlog), from the partial index of waiting
    items: read once, when the load ends."""
    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        return int(
            await conn.scalar(
                text("SELECT count(*) FROM inbox_items WHERE source = 'wa' AND status = 'received'")
            )
        )


async def run(args: argparse.Namespace, servers: BenchServers) -> None:
    from ticaret.core.db import init_engine
    from ticaret.core.embedded import free_port

    env = servers.env
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child_env = {
        **os.environ,
        **env,
        "PYTHONPATH": str(REPO / "src"),
        "TICARET_PUBLIC_BASE_URL": base,
    }
    api = spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], child_env)
    # --phased: the worker starts only once every event is stored, so the receiver and the
    # job are measured apart; otherwise both run at once (the end-to-end figure).
    worker = None if args.phased or args.wrk else spawn(["worker"], child_env)
    if worker is not None:
        print(f"worker pid {worker.pid}", flush=True)
    try:
        await wait_ready(base)
        init_engine(env["TICARET_DATABASE_URL"])
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            owner = await sandbox_session(client)
            token, account, psid, secret = owner.token, owner.account, owner.psid, owner.secret
            url = f"/wa/provider-events/{psid}"
            if args.wrk:
                # Receiver alone, then nothing else (the items it stored are not counted).
                wrk_receiver(base, url, secret, psid, args, env, api.pid)
                return
            if args.e2e:
                assert worker is not None
                await wrk_end_to_end(base, url, secret, psid, args, api.pid, worker, servers)
                return
            bodies = customer_messages(psid, args.events)
            started = time.perf_counter()
            latencies = await post_webhooks(client, psid, secret, bodies, args.concurrency)
            posted = time.perf_counter() - started
            if worker is None:
                worker = spawn(["worker"], child_env)
                print(f"worker pid {worker.pid}", flush=True)
                started = time.perf_counter()
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                if not await any_waiting():
                    break
                await asyncio.sleep(0.05)
            done = args.events if not await any_waiting() else 0
            finished = time.perf_counter() - started
            messages = (
                await client.get(
                    "/wa/chats",
                    params={"providerSessionId": psid, "limit": 200},
                    headers={"Authorization": f"Bearer {token}", "x-account-id": account},
                )
            ).json()["data"]["rows"]

        print(f"events posted            {args.events:,} (concurrency {args.concurrency})")
        print(
            f"receiver                 {args.events / posted:8.0f} events/s  "
            f"(p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms)"
        )
        label = "jobs alone (processed)" if args.phased else "end to end (processed)"
        print(
            f"{label:<24} {done / finished:8.0f} events/s  ({done:,} processed in {finished:.2f}s)"
        )
        print(f"chats created            {len(messages)}")
        if args.statements:
            await print_statements(args.events, "")
    finally:
        children = [child for child in (api, worker) if child is not None]
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


async def print_statements(events: int, indent: str) -> None:
    """PostgreSQL's time per event by statement, from `pg_stat_statements`."""
    print(f"{indent}PostgreSQL's time per event, by statement (pg_stat_statements):")
    for query, calls, total_ms in await top_statements():
        print(
            f"{indent}  {total_ms / events * 1000:6.0f} µs  {calls / events:5.2f} calls/event"
            f"  {' '.join(query.split())[:110]}"
        )


def wrk_script(psid: str, sender: str, lua: str) -> str:
    """A wrk script file posting WAHA `message` webhooks from `sender` (the Lua may replace
    CUSTOMER per request), each with new ids (WRKID)."""
    import json
    import tempfile

    from ticaret.wa.gateways.sandbox import _envelope

    body = _envelope(
        psid,
        "message",
        {
            "id": f"false_{sender}@s.whatsapp.net_WRKID",
            "timestamp": int(time.time()),
            "from": f"{sender}@s.whatsapp.net",
            "fromMe": False,
            "source": "app",
            "body": "Merhaba, siparişim ne zaman kargoda?",
            "hasMedia": False,
            "ack": 2,
            "_data": {"notifyName": "Müşteri"},
        },
    )
    body["id"] = "evt_WRKID"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua.replace("TEMPLATE", json.dumps(body, ensure_ascii=False)))
    return script.name


def seeded(lua: str) -> str:
    """The script with Lua's random numbers seeded per run: unseeded, every wrk run posts the
    same ids as the one before, and the second run of a bench measures duplicates."""
    return f"math.randomseed({secrets.randbits(31)})\n{lua}"


async def jobs_pending() -> int:
    """Jobs due or running in the worker's queue, cron ticks aside (arq keeps deferred jobs in
    the same sorted set, scored by when they are due)."""
    from ticaret.core.queue import QUEUE_NAME, get_redis

    redis = get_redis()
    due = await redis.zcount(QUEUE_NAME, "-inf", int(time.time() * 1000))
    running = [
        key
        async for key in redis.scan_iter(match="arq:in-progress:*", count=1000)
        # A cron tick's id ends with its due time in ms; its progress key outlives the tick.
        if not re.search(rb":\d{13}$", key)
    ]
    return int(due) + len(running)


E2E_SCRIPT = """
counter = 0
template = [[TEMPLATE]]
request = function()
  counter = counter + 1
  local customer = string.format("9055500%05d", counter % 200)
  local body = string.gsub(template, "WRKID", tostring(counter) .. "X" .. tostring(math.random(1, 1000000000)))
  body = string.gsub(body, "CUSTOMER", customer)
  return wrk.format("POST", nil, nil, body)
end
"""


def spawn_raw_drain() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.raw_inbound_drain"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])},
    )


async def wrk_end_to_end(
    base: str,
    url: str,
    secret: str,
    psid: str,
    args: argparse.Namespace,
    api_pid: int,
    worker: subprocess.Popen[bytes],
    servers: BenchServers,
) -> None:
    """End to end under wrk: see the module docstring (`--e2e`). With `--against-raw`, the
    same load again with the raw drain (`bench/raw_inbound_drain.py`) in the worker's place,
    and the ratio of the two inbox rates."""
    from bench.stack import stop
    from ticaret.core.queue import init_redis

    await init_redis(os.environ["TICARET_REDIS_URL"])
    # A running shop's tables have planner statistics (autovacuum analyses them within a
    # minute); a fresh bench database has none, and PostgreSQL then picks the wrong index for
    # the chat-context query (34 ms a batch instead of 2.5). So: 2 s of load, then ANALYZE.
    await _e2e_phase(
        base, url, secret, psid, args, api_pid, worker.pid, servers, "worker", seconds=2
    )
    await analyse_tables()
    ours = await _e2e_phase(base, url, secret, psid, args, api_pid, worker.pid, servers, "worker")
    if not args.against_raw or ours is None:
        return
    stop(worker)
    raw = spawn_raw_drain()
    try:
        theirs = await _e2e_phase(
            base, url, secret, psid, args, api_pid, raw.pid, servers, "raw drain"
        )
    finally:
        stop(raw)
    if theirs is not None:
        print(
            f"ratio, inbox processed: {ours / theirs:.2f} ({ours:.0f} against the raw drain's"
            f" {theirs:.0f} events/s, same load, same run)"
        )


async def _e2e_phase(
    base: str,
    url: str,
    secret: str,
    psid: str,
    args: argparse.Namespace,
    api_pid: int,
    drainer_pid: int,
    servers: BenchServers,
    drainer: str,
    seconds: int | None = None,
) -> float | None:
    """One wrk load while `drainer` (the worker, or the raw drain) runs; the inbox rate, or
    None when it did not finish. The raw drain queues no jobs: only the worker's are waited for."""
    from bench.stack import cpu_seconds, server_cpu_seconds, wrk

    lua = seeded(E2E_SCRIPT)
    if args.rate:
        lua += PACED_SCRIPT.replace("RATE", str(args.rate)).replace(
            "CONNECTIONS", str(E2E_CONNECTIONS)
        )
    script = wrk_script(psid, "CUSTOMER", lua)
    headers = {"X-Ticaret-Webhook-Secret": secret, "content-type": "application/json"}
    with_jobs = drainer == "worker"

    def cpu_now() -> dict[str, float]:
        return {
            "api": cpu_seconds(api_pid),
            drainer: cpu_seconds(drainer_pid),
            "postgres": server_cpu_seconds(servers.postgres_pid),
            "redis": server_cpu_seconds(servers.redis_pid),
        }

    stored_before = await stored()
    cpu_before = cpu_now()
    started = time.perf_counter()
    seconds = seconds or args.e2e
    result = await asyncio.to_thread(
        wrk,
        f"{base}{url}",
        headers,
        seconds=seconds,
        connections=E2E_CONNECTIONS,
        script=script,
    )
    posted = time.perf_counter() - started
    backlog = await waiting_count()
    total = await stored() - stored_before
    processed_at = done_at = None
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        now = time.perf_counter()
        if processed_at is None and not await any_waiting():
            processed_at = now
        if processed_at is not None and (not with_jobs or await jobs_pending() == 0):
            done_at = now
            break
        await asyncio.sleep(0.2)  # each look walks the index past processed items
    cpu = {name: spent - cpu_before[name] for name, spent in cpu_now().items()}
    paced = f", paced at {args.rate:,} req/s" if args.rate else ""
    print(
        f"end to end under wrk, {drainer} ({E2E_CONNECTIONS} connections{paced},"
        f" {seconds} s of load, 200 customers)"
    )
    print(
        f"  receiver                {result.requests_per_second:8.0f} req/s while the {drainer} ran"
        f"  (p99 {result.p99_ms:.1f} ms, non-2xx {result.non_2xx}, {total:,} events stored)"
    )
    if processed_at is None or done_at is None:
        print(
            f"  not finished within {args.timeout:.0f} s: not all {total:,} processed,"
            f" {await jobs_pending()} jobs pending"
        )
        from ticaret.core.queue import QUEUE_NAME, get_redis

        due = await get_redis().zrangebyscore(QUEUE_NAME, "-inf", int(time.time() * 1000))
        names = sorted({job_id.decode().split(":")[0] for job_id in due})
        print(f"  pending: {', '.join(names)}")
        return None
    rate = total / (processed_at - started)
    print(
        f"  inbox processed          {rate:8.0f} events/s"
        f"  (all {total:,} in {processed_at - started:.2f} s; load lasted {posted:.2f} s)"
    )
    # Whether the worker kept up: what was still waiting when the load stopped, in seconds of
    # the offered load, and how long it took to clear.
    print(
        f"  backlog when load ended  {backlog:8,} events"
        f"  ({backlog / result.requests_per_second:.2f} s of load; cleared"
        f" {processed_at - started - posted:.2f} s later)"
    )
    if with_jobs:
        print(
            f"  every job done          {total / (done_at - started):8.0f} events/s"
            f"  (consumers included, {done_at - started:.2f} s)"
        )
    print(
        "  CPU per event           "
        + ", ".join(f"{name} {spent / total * 1e6:.0f} µs" for name, spent in cpu.items())
    )
    if args.statements:
        await print_statements(total, "  ")
        await reset_statements()
    return rate


E2E_CONNECTIONS = 32

# `--rate`: each connection waits `pause` ms after each response. Lua in wrk has only a
# one-second clock (`os.time`), so once a second the pause is corrected from the last whole
# second's count: a connection's cycle is the pause plus the response time, so the pause that
# gives RATE is CONNECTIONS/RATE less the response time the count shows.
PACED_SCRIPT = """
local pause = 1000 * CONNECTIONS / RATE
local second, sent, whole = os.time(), 0, false
delay = function()
  local now = os.time()
  if now ~= second then
    if whole and sent > 0 then
      local cycle = 1000 * CONNECTIONS / sent
      pause = math.max(0, 1000 * CONNECTIONS / RATE - (cycle - pause))
    end
    second, sent, whole = now, 0, true
  end
  sent = sent + 1
  return pause
end
"""

WRK_SCRIPT = """
counter = 0
template = [[TEMPLATE]]
request = function()
  counter = counter + 1
  local body = string.gsub(template, "WRKID", tostring(counter) .. "X" .. tostring(math.random(1, 1000000000)))
  return wrk.format("POST", nil, nil, body)
end
"""


def wrk_receiver(
    base: str,
    url: str,
    secret: str,
    psid: str,
    args: argparse.Namespace,
    env: dict[str, str],
    pid: int,
) -> None:
    """The receiver alone under wrk (no worker), each request a new message, interleaved round
    by round with the raw receiver (`bench/raw_baseline.py`: the secret check and one INSERT
    into the same inbox table): requests per second, the server's CPU per request, the ratio."""
    import statistics

    from bench.stack import cpu_seconds, stop, wait_for_port, wrk
    from ticaret.core.embedded import free_port

    headers = {"X-Ticaret-Webhook-Secret": secret, "content-type": "application/json"}
    port = free_port()
    raw_process = subprocess.Popen(
        [sys.executable, "-m", "bench.raw_baseline", "--port", str(port)],
        env={**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])},
    )
    try:
        wait_for_port(port)
        raw_base = f"http://127.0.0.1:{port}"
        sides = {"ours": (base, pid), "raw": (raw_base, raw_process.pid)}
        figures: dict[str, dict[str, list[float]]] = {
            name: {"rps": [], "cpu": [], "p99": [], "bad": []} for name in sides
        }
        for _ in range(args.rounds):
            for name, (side_base, pid) in sides.items():
                # A script per run: each run's messages are new to the shared inbox table.
                script = wrk_script(psid, "905550012345", seeded(WRK_SCRIPT))
                before = cpu_seconds(pid)
                result = wrk(f"{side_base}{url}", headers, seconds=args.wrk, script=script)
                used = cpu_seconds(pid) - before
                figures[name]["rps"].append(result.requests_per_second)
                figures[name]["cpu"].append(used / max(result.requests, 1) * 1e6)
                figures[name]["p99"].append(result.p99_ms)
                figures[name]["bad"].append(result.non_2xx)
                time.sleep(0.5)
        med = {name: {k: statistics.median(v) for k, v in f.items()} for name, f in figures.items()}
        print(
            f"receiver alone, wrk 32 connections, {args.wrk} s x {args.rounds} interleaved rounds"
        )
        for name in sides:
            m = med[name]
            print(
                f"  {name:<5} {m['rps']:8.0f} req/s  CPU {m['cpu']:6.0f} µs/request  "
                f"p99 {m['p99']:.1f} ms  non-2xx {int(max(figures[name]['bad']))}  "
                f"(rounds: {', '.join(f'{r:.0f}' for r in figures[name]['rps'])})",
                flush=True,
            )
        print(
            f"  ratio {med['ours']['rps'] / med['raw']['rps']:.2f} (req/s), "
            f"{med['raw']['cpu'] / med['ours']['cpu']:.2f} (CPU per request)",
            flush=True,
        )
    finally:
        stop(raw_process)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--phased", action="store_true", help="receiver first, then the jobs")
    parser.add_argument(
        "--wrk",
        type=int,
        default=0,
        help="seconds per wrk run: the receiver alone against the raw receiver (no worker)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved wrk rounds")
    parser.add_argument(
        "--rate",
        type=int,
        default=0,
        help="with --e2e: pace wrk at about this many requests per second (a sustained load"
        " below the receiver's limit) instead of as fast as the receiver answers",
    )
    parser.add_argument(
        "--e2e", type=int, default=0, help="seconds of wrk load, end to end with the worker"
    )
    parser.add_argument(
        "--against-raw",
        action="store_true",
        help="with --e2e: the same load again with the raw drain, and the ratio",
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="load pg_stat_statements and print PostgreSQL's time per statement",
    )
    args = parser.parse_args()
    with bench_servers("inbound", statements=args.statements) as servers:
        asyncio.run(run(args, servers))


if __name__ == "__main__":
    main()
