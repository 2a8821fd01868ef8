"""The worker's whole work per inbound WhatsApp message, not only the inbox drain: how long one
worker takes from the first stored message until every message is drained, analysed (the
rules; no LLM) and mirrored into its conversation, and the worker's CPU time per message.

Compares this tree with a baseline in the same run, round by round, on the same embedded
PostgreSQL and Redis (tables emptied between runs), and prints the ratio. The baseline is a
commit (`--baseline-ref`, `main` by default, exported with `git archive`) or a source tree.

    PYTHONPATH=src:. python -m bench.wa_consumers_bench [--baseline-ref 249ee99] [--events 2000]
    PYTHONPATH=src:. python -m bench.wa_consumers_bench --baseline /tmp/base
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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

REPO = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Figures:
    drained: float  # seconds until every inbox item is processed
    consumed: float  # seconds until every message is analysed and mirrored too
    cpu_ms: float  # worker CPU per message over the whole run


def spawn(src: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ticaret.cli", *args],
        env={**os.environ, **env, "PYTHONPATH": str(src)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


async def scalar(sql: str) -> int:
    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def analyse() -> None:
    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()


async def empty_everything() -> None:
    from ticaret.core.db import get_engine
    from ticaret.core.queue import get_redis
    from ticaret.models import Base

    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with get_engine().begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await get_redis().flushdb()


async def one_run(src: Path, events: int, env: dict[str, str], wait_up_to: float) -> Figures:
    from ticaret.core.embedded import free_port

    await empty_everything()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child_env = {**env, "TICARET_PUBLIC_BASE_URL": base}
    api = spawn(src, ["serve", "--host", "127.0.0.1", "--port", str(port)], child_env)
    worker: subprocess.Popen[bytes] | None = None
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            await wait_healthy(client)
            owner = await sandbox_session(client)
            psid, secret = owner.psid, owner.secret
            await post_webhooks(client, psid, secret, customer_messages(psid, events), 32)
        # A running shop's tables have planner statistics (autovacuum analyses them within a
        # minute); without them PostgreSQL picks the session index for the rules' chat-context
        # query, ten times slower, and the bench would measure that.
        await analyse()
        # The worker alone from here: every message is stored.
        worker = spawn(src, ["worker"], child_env)
        started = time.perf_counter()
        deadline = time.monotonic() + wait_up_to
        drained = 0.0
        # The worker's start (imports, connections) is not per-message work: its CPU is counted
        # from the first processed batch on, over the messages left from there.
        cpu_from, counted = 0.0, events
        while time.monotonic() < deadline:
            if not drained:
                done = await scalar(
                    "SELECT count(*) FROM inbox_items WHERE source = 'wa' AND status <> 'received'"
                )
                if done and not cpu_from:
                    cpu_from, counted = cpu_seconds(worker.pid), events - done
                if done >= events:
                    drained = time.perf_counter() - started
            analysed = await scalar(
                "SELECT count(*) FROM ai_analyses WHERE status IN ('completed', 'skipped')"
            )
            mirrored = await scalar("SELECT count(*) FROM conversation_messages")
            if drained and analysed >= events and mirrored >= events:
                break
            await asyncio.sleep(0.1 if cpu_from else 0.01)
        else:
            raise RuntimeError(
                f"not done in {wait_up_to}s ({analysed} analysed, {mirrored} mirrored)"
            )
        consumed = time.perf_counter() - started
        cpu = cpu_seconds(worker.pid) - cpu_from
        return Figures(drained, consumed, cpu * 1000 / max(counted, 1))
    finally:
        for child in (api, worker):
            if child is not None:
                child.terminate()
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()


async def run(args: argparse.Namespace, env: dict[str, str], trees: dict[str, Path]) -> None:
    from ticaret.core.db import init_engine
    from ticaret.core.queue import init_redis

    init_engine(env["TICARET_DATABASE_URL"])
    await init_redis(env["TICARET_REDIS_URL"])
    results: dict[str, list[Figures]] = {label: [] for label in trees}
    for round_number in range(1, args.rounds + 1):
        for label, src in trees.items():
            figures = await one_run(src, args.events, env, args.timeout)
            results[label].append(figures)
            print(
                f"round {round_number} {label:<10} drained {args.events / figures.drained:6.0f}/s"
                f"  drained+analysed+mirrored {args.events / figures.consumed:6.0f}/s"
                f"  worker CPU {figures.cpu_ms:6.2f} ms/message",
                flush=True,
            )
    print(f"{args.events:,} messages from 200 customers, one worker, medians of {args.rounds}:")
    medians = {
        label: (
            statistics.median(args.events / f.consumed for f in rows),
            statistics.median(f.cpu_ms for f in rows),
        )
        for label, rows in results.items()
    }
    mine, theirs = medians["this tree"], medians["baseline"]
    print(
        f"  all consumers done   {mine[0]:6.0f}/s vs baseline {theirs[0]:6.0f}/s"
        f"  ratio {mine[0] / theirs[0]:.2f}"
    )
    print(
        f"  worker CPU/message   {mine[1]:6.2f} ms vs baseline {theirs[1]:6.2f} ms"
        f"  ratio {theirs[1] / mine[1]:.2f}x less"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", help="a source tree to compare with")
    parser.add_argument("--baseline-ref", default="main", help="else this commit, exported")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ticaret-baseline-") as exported:
        baseline_src = source_tree(Path(exported), args.baseline, args.baseline_ref)
        with bench_servers("consumers") as servers:
            trees = {"this tree": REPO / "src", "baseline": baseline_src}
            asyncio.run(run(args, servers.env, trees))


if __name__ == "__main__":
    main()
