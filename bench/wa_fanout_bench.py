"""What an inbound WhatsApp message costs after the inbox drain committed it, without the AI
analysis: the relay of its `wa.message.received` event (live publish, the consumers' jobs),
the conversation mirror job, the relay of the mirror's `conversation.*` events and the agent
start job (an account with no agent: the common case), with arq's per-job work included.

Messages are stored once (API + worker of this tree, as `wa_consumers_bench`); then, for each
tree and round, a child process empties what the consumers made, loads the committed
`wa.message.received` events in commits of 100 (as the drain emits them) and, timing its own
CPU, relays each commit and runs a burst arq worker until every job is done. The AI analysis
consumer is left out of both trees' registries (another bench measures it).

    PYTHONPATH=src:. python -m bench.wa_fanout_bench [--baseline-ref main] [--events 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from bench._servers import (
    bench_servers,
    customer_messages,
    post_webhooks,
    sandbox_session,
    source_tree,
    wait_healthy,
)
from bench.wa_consumers_bench import empty_everything, scalar, spawn

REPO = Path(__file__).resolve().parents[1]
COMMIT = 100  # events per drain commit (core.inbox.BATCH_SIZE)
LEFT_OUT = ("analyse_received_messages",)


async def store_messages(events: int, env: dict[str, str]) -> None:
    from ticaret.core.embedded import free_port

    await empty_everything()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child_env = {**env, "TICARET_PUBLIC_BASE_URL": base}
    api = spawn(REPO / "src", ["serve", "--host", "127.0.0.1", "--port", str(port)], child_env)
    worker = None
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            await wait_healthy(client)
            owner = await sandbox_session(client)
            bodies = customer_messages(owner.psid, events)
            await post_webhooks(client, owner.psid, owner.secret, bodies, 32)
        worker = spawn(REPO / "src", ["worker"], child_env)
        for _ in range(3000):  # ten minutes at most
            waiting = await scalar("SELECT count(*) FROM inbox_items WHERE status = 'received'")
            received = await scalar(
                "SELECT count(*) FROM events WHERE type = 'wa.message.received'"
            )
            if not waiting and received >= events:
                break
            await asyncio.sleep(0.2)
        else:
            raise RuntimeError("the messages were not drained in ten minutes")
    finally:
        for child in (api, worker):
            if child is not None:
                child.terminate()
                child.wait(timeout=15)


# The child: one measured run of one tree ----------------------------------------------------


async def _reset() -> None:
    from ticaret.core.db import get_engine
    from ticaret.core.queue import get_redis

    async with get_engine().begin() as conn:
        await conn.execute(text("DELETE FROM conversation_messages"))
        await conn.execute(text("DELETE FROM conversations"))
        await conn.execute(text("DELETE FROM events WHERE type <> 'wa.message.received'"))
        # The outbox as the tree has it: a pending table (0016 on), or a mark on each event.
        if await conn.scalar(text("SELECT to_regclass('outbox_pending') IS NOT NULL")):
            await conn.execute(
                text(
                    "INSERT INTO outbox_pending (event_id, created_at) "
                    "SELECT id, created_at FROM events ON CONFLICT DO NOTHING"
                )
            )
        else:
            await conn.execute(text("UPDATE events SET relayed_at = NULL"))
    await get_redis().flushdb()


async def child_run() -> dict[str, float]:
    from sqlalchemy import select

    from ticaret.core import events as core_events
    from ticaret.core.cache import start_cache_listener, stop_cache_listener
    from ticaret.core.db import get_sessionmaker, init_engine
    from ticaret.core.queue import get_redis, init_redis
    from ticaret.models import Event
    from ticaret.worker import build_worker

    init_engine(os.environ["TICARET_DATABASE_URL"])
    await init_redis(os.environ["TICARET_REDIS_URL"])
    # As `ticaret worker`: the relay's account filters answer from their shared caches.
    await start_cache_listener()
    worker = build_worker(get_redis(), burst=True, with_cron=False)  # loads the wiring
    for name in LEFT_OUT:
        core_events._consumers.pop(name, None)
    cache = getattr(core_events, "_consumers_by_type", None)
    if cache is not None:
        cache.clear()
    await _reset()
    async with get_sessionmaker()() as session:
        loaded = list(
            await session.scalars(
                select(Event).where(Event.type == "wa.message.received").order_by(Event.seq)
            )
        )
        session.expunge_all()
    commits = [loaded[i : i + COMMIT] for i in range(0, len(loaded), COMMIT)]
    # As `ticaret worker` does once loaded: what lives as long as the process is out of the
    # collector's full passes.
    gc.collect()
    gc.freeze()
    cpu, wall = time.process_time(), time.perf_counter()
    for commit in commits:
        await core_events.relay(commit)
    relayed = time.process_time() - cpu
    await worker.async_run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await stop_cache_listener()
    await worker.close()
    mirrored = await scalar("SELECT count(*) FROM conversation_messages")
    if await scalar("SELECT to_regclass('outbox_pending') IS NOT NULL"):
        unrelayed = await scalar("SELECT count(*) FROM outbox_pending")
    else:
        unrelayed = await scalar("SELECT count(*) FROM events WHERE relayed_at IS NULL")
    return {
        "events": len(loaded),
        "mirrored": mirrored,
        "unrelayed": unrelayed,
        "jobs": worker.jobs_complete,
        "failed": worker.jobs_failed,
        "cpu_ms": cpu * 1000 / len(loaded),
        "relay_ms": relayed * 1000 / len(loaded),
        "wall_s": wall,
    }


def measure(src: Path, env: dict[str, str], profile: str | None) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.wa_fanout_bench", "--child"]
    process = subprocess.Popen(
        command,
        env={**os.environ, **env, "PYTHONPATH": f"{src}:{REPO}"},
        stdout=subprocess.PIPE,
        cwd=REPO,
    )
    spy = None
    if profile:
        spy = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("py-spy")),
                "record",
                "--pid",
                str(process.pid),
                "--rate",
                "200",
                "--format",
                "raw",
                "-o",
                profile,
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    out, _ = process.communicate()
    if spy is not None:
        spy.wait()
    if process.returncode:
        raise RuntimeError(f"child failed ({process.returncode})")
    figures: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return figures


async def setup(events: int, env: dict[str, str]) -> None:
    from ticaret.core.db import init_engine
    from ticaret.core.queue import init_redis

    init_engine(env["TICARET_DATABASE_URL"])
    await init_redis(env["TICARET_REDIS_URL"])
    await store_messages(events, env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", help="a source tree to compare with")
    parser.add_argument("--baseline-ref", default="main", help="else this commit, exported")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", help="py-spy raw output prefix (this tree's last round)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child_run())))
        return
    with tempfile.TemporaryDirectory(prefix="ticaret-baseline-") as exported:
        baseline_src = source_tree(Path(exported), args.baseline, args.baseline_ref)
        with bench_servers("fanout") as servers:
            asyncio.run(setup(args.events, servers.env))
            trees = {"this tree": REPO / "src", "baseline": baseline_src}
            results: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
            for round_number in range(1, args.rounds + 1):
                for label, src in trees.items():
                    last = round_number == args.rounds
                    profile = (
                        f"{args.profile}.{label.replace(' ', '_')}.raw"
                        if args.profile and last
                        else None
                    )
                    figures = measure(src, servers.env, profile)
                    results[label].append(figures)
                    print(
                        f"round {round_number} {label:<10} {figures['cpu_ms']:6.3f} ms CPU/message"
                        f" (relay of the received events {figures['relay_ms']:.3f})"
                        f"  {figures['wall_s']:5.1f} s  jobs {figures['jobs']:.0f}"
                        f" failed {figures['failed']:.0f}  mirrored {figures['mirrored']:.0f}"
                        f"/{figures['events']:.0f}  unrelayed {figures['unrelayed']:.0f}",
                        flush=True,
                    )
    mine = statistics.median(f["cpu_ms"] for f in results["this tree"])
    theirs = statistics.median(f["cpu_ms"] for f in results["baseline"])
    print(
        f"{args.events:,} messages, relay + mirror + agent start (+ arq), medians of "
        f"{args.rounds}: {mine:.3f} ms vs baseline {theirs:.3f} ms CPU/message, "
        f"ratio {theirs / mine:.2f}x less"
    )


if __name__ == "__main__":
    main()
