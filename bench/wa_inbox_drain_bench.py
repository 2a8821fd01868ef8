"""The WhatsApp inbox drain alone: gateway calls applied per second and CPU per call, the
set-based batch path against the per-event path in the same run.

Starts embedded PostgreSQL and Redis and one `ticaret serve`; per round and per path it
creates a sandbox session, posts N WAHA-shaped `message` webhooks (from `--customers`
people) to the receiver, then drains that session's inbox in this process with
`GATEWAY_EVENTS.process_batch` (the worker's batch job without arq): claim, apply, statuses,
commit, relay (Redis publish and consumer enqueue; the consumers do not run). The per-event
path is the same source with its batch handler switched off (each item through
`apply_gateway_event`, as before issue 9). Rounds alternate the two paths so load from
elsewhere on the machine falls on both.

    PYTHONPATH=src:. python -m bench.wa_inbox_drain_bench [--events 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import select

from bench._servers import bench_servers, customer_messages, post_webhooks
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
    from ticaret.wa.inbox import GATEWAY_EVENTS
    from ticaret.wa.service.ingest import apply_gateway_batch

    GATEWAY_EVENTS.batch_handler = apply_gateway_batch if set_based else None
    done = 0
    cpu, wall = time.process_time(), time.perf_counter()
    while count := await GATEWAY_EVENTS.process_batch(scope):
        done += count
    return Drained(done, time.perf_counter() - wall, time.process_time() - cpu)


async def run(args: argparse.Namespace, env: dict[str, str]) -> None:
    from ticaret import wiring
    from ticaret.core import queue
    from ticaret.core.db import init_engine
    from ticaret.core.embedded import free_port
    from ticaret.core.http import init_http_client

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child_env = {
        **os.environ,
        **env,
        "PYTHONPATH": str(REPO / "src"),
        "TICARET_PUBLIC_BASE_URL": base,
    }
    api = spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], child_env)
    results: dict[bool, list[Drained]] = {False: [], True: []}
    try:
        await wait_ready(base)
        init_engine(env["TICARET_DATABASE_URL"])
        await queue.init_redis(env["TICARET_REDIS_URL"])
        init_http_client()
        wiring.load()
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            reg = await client.post(
                "/auth/register",
                json={"email": "bench@example.com", "password": "bench password 1", "name": "B"},
            )
            token = reg.json()["data"]["accessToken"]
            account = reg.json()["data"]["accounts"][0]["accountId"]
            for round_number in range(args.rounds):
                for set_based in (False, True) if round_number % 2 == 0 else (True, False):
                    label = f"{round_number}-{'set' if set_based else 'each'}"
                    scope = await store_events(client, token, account, args, label)
                    drained = await drain(scope, set_based=set_based)
                    assert drained.events == args.events, drained
                    results[set_based].append(drained)
                    print(
                        f"round {round_number} {'set-based' if set_based else 'per-event'}: "
                        f"{drained.per_second:7.0f} events/s, {drained.cpu_ms:6.2f} ms CPU/event",
                        flush=True,
                    )
    finally:
        api.terminate()
        api.wait(timeout=15)

    def best(path: bool) -> Drained:
        return min(results[path], key=lambda d: d.cpu_ms)

    each, batched = best(False), best(True)
    print(f"events per drain          {args.events:,} from {args.customers} customers")
    print(
        f"per-event path (baseline) {each.per_second:7.0f} events/s  "
        f"{each.cpu_ms:6.2f} ms CPU/event (best of {args.rounds})"
    )
    print(
        f"set-based batch path      {batched.per_second:7.0f} events/s  "
        f"{batched.cpu_ms:6.2f} ms CPU/event (best of {args.rounds})"
    )
    print(
        f"ratio                     {batched.per_second / each.per_second:7.2f}x events/s  "
        f"{each.cpu_ms / batched.cpu_ms:6.2f}x less CPU/event"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with bench_servers("drain") as servers:
        asyncio.run(run(args, servers.env))


if __name__ == "__main__":
    main()
