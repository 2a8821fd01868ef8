"""The WhatsApp inbox drain alone: gateway calls applied per second and CPU per call, this
tree's set-based batch path against its per-event path and against a baseline tree's
set-based path (`--baseline-ref`, `main` by default, exported with `git archive`; or a source
tree with `--baseline`), all in the same run.

Starts embedded PostgreSQL and Redis and one `ticaret serve` (this tree); per round and per
path it creates a sandbox session, posts N WAHA-shaped `message` webhooks (from `--customers`
people) to the receiver, then drains that session's inbox in a child process running the
path's tree with `GATEWAY_EVENTS.process_batch` (the worker's batch job without arq): claim,
apply, statuses, commit, relay (Redis publish and consumer enqueue; the consumers do not run).
The child measures its own CPU around the drain only (start-up excluded). The per-event path
is the same source with its batch handler switched off (each item through
`apply_gateway_event`, as before issue 9). Rounds rotate the order of the paths so load from
elsewhere on the machine falls on all of them.

    PYTHONPATH=src:. python -m bench.wa_inbox_drain_bench [--events 2000] [--rounds 3]
    PYTHONPATH=src:. python -m bench.wa_inbox_drain_bench --baseline-ref 249ee99 --no-per-event
    PYTHONPATH=src:. python -m bench.wa_inbox_drain_bench --baseline /tmp/base
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select

from bench._servers import bench_servers, customer_messages, post_webhooks, source_tree
from bench.wa_inbound_bench import REPO, spawn, wait_ready


@dataclass
class Drained:
    events: int
    wall: float
    cpu: float

    @property
    def per_second(self) -> float:
        return self.events / self.wall

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.events


@dataclass(frozen=True)
class DrainPath:
    label: str
    src: Path
    set_based: bool


async def store_events(
    client: httpx.AsyncClient, token: str, account: str, args: argparse.Namespace, label: str
) -> str:
    """A fresh sandbox session with N calls waiting in its inbox; its scope (session id)."""
    from ticaret.core.db import get_sessionmaker
    from ticaret.models import WaSession

    created = await client.post(
        f"/accounts/{account}/wa-sessions",
        json={"name": f"Bench {label}", "provider": "sandbox"},
        headers={"Authorization": f"Bearer {token}"},
    )
    session = created.json()["data"]
    psid, secret = session["providerSessionId"], session["webhookSecret"]
    await post_webhooks(
        client, psid, secret, customer_messages(psid, args.events, args.customers), 16
    )
    async with get_sessionmaker()() as db:
        session_id = await db.scalar(
            select(WaSession.id).where(WaSession.provider_session_id == psid)
        )
    return str(session_id)


async def drain(scope: str, *, set_based: bool) -> Drained:
    """In the child: drain the scope's inbox with whichever tree is on the path."""
    from ticaret.wa.inbox import GATEWAY_EVENTS
    from ticaret.wa.service.ingest import apply_gateway_batch

    GATEWAY_EVENTS.batch_handler = apply_gateway_batch if set_based else None
    done = 0
    cpu, wall = time.process_time(), time.perf_counter()
    while count := await GATEWAY_EVENTS.process_batch(scope):
        done += count
    return Drained(done, time.perf_counter() - wall, time.process_time() - cpu)


async def child(scope: str, set_based: bool) -> None:
    from ticaret import wiring
    from ticaret.core import queue
    from ticaret.core.db import init_engine
    from ticaret.core.http import init_http_client

    init_engine(os.environ["TICARET_DATABASE_URL"])
    await queue.init_redis(os.environ["TICARET_REDIS_URL"])
    init_http_client()
    wiring.load()
    drained = await drain(scope, set_based=set_based)
    print(json.dumps({"events": drained.events, "wall": drained.wall, "cpu": drained.cpu}))


def drain_in_child(path: DrainPath, scope: str, env: dict[str, str]) -> Drained:
    out = subprocess.run(
        [sys.executable, "-m", "bench.wa_inbox_drain_bench", "--child", scope]
        + ([] if path.set_based else ["--per-event-child"]),
        # The path's tree first; `bench` itself from this checkout.
        env={**os.environ, **env, "PYTHONPATH": f"{path.src}:{REPO}"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return Drained(figures["events"], figures["wall"], figures["cpu"])


async def run(args: argparse.Namespace, env: dict[str, str], paths: list[DrainPath]) -> None:
    from ticaret.core import queue
    from ticaret.core.db import init_engine
    from ticaret.core.embedded import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child_env = {
        **os.environ,
        **env,
        "PYTHONPATH": str(REPO / "src"),
        "TICARET_PUBLIC_BASE_URL": base,
    }
    api = spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], child_env)
    results: dict[str, list[Drained]] = {path.label: [] for path in paths}
    try:
        await wait_ready(base)
        init_engine(env["TICARET_DATABASE_URL"])
        await queue.init_redis(env["TICARET_REDIS_URL"])
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            reg = await client.post(
                "/auth/register",
                json={"email": "bench@example.com", "password": "bench password 1", "name": "B"},
            )
            token = reg.json()["data"]["accessToken"]
            account = reg.json()["data"]["accounts"][0]["accountId"]
            for round_number in range(args.rounds):
                shift = round_number % len(paths)
                for path in paths[shift:] + paths[:shift]:
                    label = f"{round_number}-{path.label}"
                    scope = await store_events(client, token, account, args, label)
                    drained = await asyncio.to_thread(drain_in_child, path, scope, env)
                    assert drained.events == args.events, drained
                    results[path.label].append(drained)
                    print(
                        f"round {round_number} {path.label:<20}: "
                        f"{drained.per_second:7.0f} events/s, {drained.cpu_ms:6.3f} ms CPU/event",
                        flush=True,
                    )
    finally:
        api.terminate()
        api.wait(timeout=15)

    def best(label: str) -> Drained:
        return min(results[label], key=lambda d: d.cpu_ms)

    print(f"events per drain          {args.events:,} from {args.customers} customers")
    for path in paths:
        figures = best(path.label)
        print(
            f"{path.label:<25} {figures.per_second:7.0f} events/s  "
            f"{figures.cpu_ms:6.3f} ms CPU/event (best of {args.rounds})"
        )
    mine = best(paths[0].label)
    for path in paths[1:]:
        theirs = best(path.label)
        print(
            f"ratio to {path.label:<16} {mine.per_second / theirs.per_second:7.2f}x events/s  "
            f"{theirs.cpu_ms / mine.cpu_ms:6.2f}x less CPU/event"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", help="a source tree to compare with")
    parser.add_argument("--baseline-ref", default="main", help="else this commit, exported")
    parser.add_argument("--no-baseline", action="store_true", help="this tree's paths only")
    parser.add_argument("--no-per-event", action="store_true", help="skip the per-event path")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--per-event-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.child, set_based=not args.per_event_child))
        return
    with tempfile.TemporaryDirectory(prefix="ticaret-baseline-") as exported:
        paths = [DrainPath("set-based", REPO / "src", True)]
        if not args.no_per_event:
            paths.append(DrainPath("per-event", REPO / "src", False))
        if not args.no_baseline:
            baseline_src = source_tree(Path(exported), args.baseline, args.baseline_ref)
            name = args.baseline or args.baseline_ref
            paths.append(DrainPath(f"{name} set-based", baseline_src, True))
        with bench_servers("drain") as servers:
            asyncio.run(run(args, servers.env, paths))


if __name__ == "__main__":
    main()
