"""The AI consumer of customers' messages alone (`analyse_received_messages` with the default
settings: the rules, no LLM): the worker's CPU per message of `consume_received`, this tree
against a baseline in the same run.

Starts embedded PostgreSQL and Redis and one `ticaret serve`; posts N WAHA-shaped messages
(from 200 customers) to a sandbox session and drains its inbox in this process, so that the
`wa.message.received` events are stored. Then, per round and per tree, a child process
(`PYTHONPATH` of that tree) consumes the events in batches of `--batch` (one drain commit's
events, as the relay hands them over) with `consume_batch(…, consume_received)` and reports
its CPU time (the first batch, which warms the process up, untimed); the analyses and their events are deleted between runs. The child can be run
under py-spy (`--profile out.raw`).

`--mix`: the account has the AI fixture catalog, and the messages are varied shoppers' texts
(product words, colours, sizes, follow-ups), so product matching runs too.

    PYTHONPATH=src:. python -m bench.ai_rules_consumer_bench [--baseline-ref main] [--events 2000]
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
from typing import Any

import httpx
from sqlalchemy import delete, select

from bench._servers import bench_servers, post_webhooks, sandbox_session, source_tree
from bench.wa_inbound_bench import REPO, spawn, wait_ready

MIXED = [
    "mor keten gömlek M var mı",
    "kırmızı saten elbise kaç TL",
    "beyaz olanı da olur",
    "merhaba",
    "L beden var mı",
    "siyah pantolon 32 numara",
    "kargo ne zaman gelir",
    "teşekkürler",
    "Merhaba, sipariş {n} ne zaman kargoda?",
    "2 tane mavi kot pantolon istiyorum",
]


def messages(psid: str, count: int, mix: bool) -> list[dict[str, Any]]:
    from ticaret.wa.gateways.sandbox import inbound_message_payload

    def text(n: int) -> str:
        if not mix:
            return f"Merhaba, sipariş {n} ne zaman kargoda?"
        return MIXED[n % len(MIXED)].replace("{n}", str(n))

    return [
        inbound_message_payload(
            psid,
            from_phone_or_jid=f"9055500{n % 200:05d}",
            text=text(n),
            push_name=f"Müşteri {n % 200}",
        )
        for n in range(count)
    ]


async def prepare(args: argparse.Namespace, env: dict[str, str]) -> None:
    """The stored events: messages posted and drained (their consumers not run)."""
    from ticaret import wiring
    from ticaret.core import queue
    from ticaret.core.db import get_sessionmaker, init_engine
    from ticaret.core.embedded import free_port
    from ticaret.core.http import init_http_client
    from ticaret.models import WaSession
    from ticaret.wa.inbox import GATEWAY_EVENTS

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child_env = {
        **os.environ,
        **env,
        "PYTHONPATH": str(REPO / "src"),
        "TICARET_PUBLIC_BASE_URL": base,
    }
    api = spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], child_env)
    try:
        await wait_ready(base)
        init_engine(env["TICARET_DATABASE_URL"])
        await queue.init_redis(env["TICARET_REDIS_URL"])
        init_http_client()
        wiring.load()
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            owner = await sandbox_session(client)
            if args.mix:
                from tests.ai.helpers import catalog_rows

                imported = await client.post(
                    "/products/import",
                    json={"rows": catalog_rows()},
                    headers={
                        "Authorization": f"Bearer {owner.token}",
                        "x-account-id": owner.account,
                    },
                )
                assert imported.status_code in (200, 201), imported.text
            await post_webhooks(
                client, owner.psid, owner.secret, messages(owner.psid, args.events, args.mix), 16
            )
        async with get_sessionmaker()() as db:
            scope = await db.scalar(
                select(WaSession.id).where(WaSession.provider_session_id == owner.psid)
            )
        while await GATEWAY_EVENTS.process_batch(str(scope)):
            pass
        await queue.get_redis().flushdb()  # the consumers' jobs: this bench runs them itself
    finally:
        api.terminate()
        api.wait(timeout=15)


async def consume(batch: int) -> dict[str, float]:
    """(In the child.) Every stored `wa.message.received` event through the consumer."""
    from ticaret import wiring
    from ticaret.ai.service import pipeline
    from ticaret.core import queue
    from ticaret.core.db import get_sessionmaker, init_engine
    from ticaret.core.events import consume_batch
    from ticaret.core.http import init_http_client
    from ticaret.models import Event

    init_engine(os.environ["TICARET_DATABASE_URL"])
    await queue.init_redis(os.environ["TICARET_REDIS_URL"])
    init_http_client()
    wiring.load()
    async with get_sessionmaker()() as db:
        ids = list(
            await db.scalars(
                select(Event.id).where(Event.type == "wa.message.received").order_by(Event.seq)
            )
        )
    # The first batch warms up, untimed: the mappers are configured and statements compiled
    # once per worker process, and a short run would count that as its own.
    _, failed = await consume_batch(ids[:batch], pipeline.consume_received)
    assert failed is None, failed
    # As the worker does once started: what is loaded stays out of the collector's passes.
    gc.collect()
    gc.freeze()
    timed = ids[batch:]
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(timed), batch):
        _, failed = await consume_batch(timed[start : start + batch], pipeline.consume_received)
        assert failed is None, failed
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"events": len(timed), "cpu_ms": 1000 * cpu / len(timed), "wall": wall}


async def reset() -> None:
    """The analyses and everything they emitted, gone: the next run starts where this began."""
    from ticaret.core.db import unit_of_work
    from ticaret.core.queue import get_redis
    from ticaret.models import AiAnalysis, Event

    async with unit_of_work() as session:
        await session.execute(delete(AiAnalysis))
        await session.execute(delete(Event).where(Event.type.like("ai.%")))
    await get_redis().flushdb()


def run_child(src: Path, args: argparse.Namespace, env: dict[str, str]) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.ai_rules_consumer_bench", "--child"]
    command += ["--batch", str(args.batch)]
    if args.profile:
        command = [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--rate",
            "200",
            "--format",
            "raw",
            "-o",
            args.profile,
            "--",
            *command,
        ]
    out = subprocess.run(
        command,
        env={**os.environ, **env, "PYTHONPATH": f"{src}:{REPO}"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # (py-spy writes its own lines too.)
    return dict(json.loads([line for line in out.splitlines() if line.startswith("{")][-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", help="a source tree to compare with")
    parser.add_argument("--baseline-ref", default="main", help="else this commit, exported")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mix", action="store_true", help="a catalog and varied texts")
    parser.add_argument("--profile", help="py-spy raw output of one tree's last run")
    parser.add_argument("--profile-tree", choices=("this tree", "baseline"), default="this tree")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(consume(args.batch))))
        return
    with tempfile.TemporaryDirectory(prefix="ticaret-baseline-") as exported:
        baseline_src = source_tree(Path(exported), args.baseline, args.baseline_ref)
        trees = {"this tree": REPO / "src", "baseline": baseline_src}
        with bench_servers("ai-rules") as servers:
            asyncio.run(compare(args, servers.env, trees))


async def compare(args: argparse.Namespace, env: dict[str, str], trees: dict[str, Path]) -> None:
    await prepare(args, env)
    profile, args.profile = args.profile, None
    found: dict[str, list[float]] = {label: [] for label in trees}
    for round_number in range(1, args.rounds + 1):
        order = list(trees.items()) if round_number % 2 else list(trees.items())[::-1]
        for label, src in order:
            if label == args.profile_tree and round_number == args.rounds:
                args.profile = profile
            figures = run_child(src, args, env)  # the child alone runs meanwhile
            args.profile = None
            await reset()
            found[label].append(figures["cpu_ms"])
            print(
                f"round {round_number} {label:<10} {int(figures['events'])} events"
                f"  consumer CPU {figures['cpu_ms']:6.3f} ms/message"
                f"  wall {figures['wall']:5.1f} s",
                flush=True,
            )
    mine = statistics.median(found["this tree"])
    theirs = statistics.median(found["baseline"])
    print(
        f"consume_received, batches of {args.batch}{' (mix)' if args.mix else ''}: "
        f"{mine:.3f} ms vs baseline {theirs:.3f} ms CPU/message, "
        f"ratio {theirs / mine:.2f}x less"
    )


if __name__ == "__main__":
    main()
