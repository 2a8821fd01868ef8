"""Embedded PostgreSQL + Redis for the benchmarks, in a throwaway folder (loopback only)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet


@dataclass
class BenchServers:
    database_url: str
    redis_url: str
    env: dict[str, str]


@contextmanager
def bench_servers(name: str) -> Iterator[BenchServers]:
    from ticaret.cli import run_migrations
    from ticaret.core.embedded import EmbeddedPostgres, EmbeddedRedis

    root = Path(tempfile.mkdtemp(prefix=f"ticaret-bench-{name}-"))
    postgres = EmbeddedPostgres(root / "postgres")
    postgres.start()
    postgres.ensure_database("bench", recreate=True)
    redis = EmbeddedRedis(root / "redis")
    redis.start()
    database_url = postgres.url("bench")
    run_migrations(database_url)
    env = {
        "TICARET_ENVIRONMENT": "development",
        "TICARET_DATABASE_URL": database_url,
        "TICARET_REDIS_URL": redis.url,
        "TICARET_AUTH__JWT_SECRET": "bench-" + "x" * 40,
        "TICARET_AUTH__FERNET_KEYS": Fernet.generate_key().decode(),
        "TICARET_LOG_LEVEL": "WARNING",
        "TICARET_WORKER_METRICS_PORT": "0",
        "TICARET_DATA_DIR": str(root),
    }
    os.environ.update(env)
    from ticaret.settings import get_settings

    get_settings.cache_clear()
    try:
        yield BenchServers(database_url, redis.url, env)
    finally:
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def customer_messages(psid: str, count: int, customers: int = 200) -> list[dict[str, Any]]:
    """`count` WAHA-shaped customer messages to the sandbox session, from `customers` people."""
    from ticaret.wa.gateways.sandbox import inbound_message_payload

    return [
        inbound_message_payload(
            psid,
            from_phone_or_jid=f"9055500{n % customers:05d}",
            text=f"Merhaba, sipariş {n} ne zaman kargoda?",
            push_name=f"Müşteri {n % customers}",
        )
        for n in range(count)
    ]


async def post_webhooks(
    client: httpx.AsyncClient,
    psid: str,
    secret: str,
    bodies: Sequence[dict[str, Any]],
    concurrency: int,
) -> list[float]:
    """Post every body to the session's receiver, `concurrency` at a time; each one's ms."""
    pending = list(reversed(bodies))
    latencies: list[float] = []

    async def poster() -> None:
        while pending:
            body = pending.pop()
            started = time.perf_counter()
            response = await client.post(
                f"/wa/provider-events/{psid}",
                json=body,
                headers={"X-Ticaret-Webhook-Secret": secret},
            )
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text

    await asyncio.gather(*(poster() for _ in range(concurrency)))
    return latencies


@dataclass
class SandboxSession:
    token: str
    account: str
    psid: str
    secret: str


async def sandbox_session(client: httpx.AsyncClient) -> SandboxSession:
    """A new owner (registered over HTTP) and a sandbox WhatsApp session of their account."""
    reg = await client.post(
        "/auth/register",
        json={"email": "bench@example.com", "password": "bench password 1", "name": "Bench"},
    )
    token = reg.json()["data"]["accessToken"]
    account = reg.json()["data"]["accounts"][0]["accountId"]
    created = await client.post(
        f"/accounts/{account}/wa-sessions",
        json={"name": "Bench", "provider": "sandbox"},
        headers={"Authorization": f"Bearer {token}"},
    )
    session = created.json()["data"]
    return SandboxSession(token, account, session["providerSessionId"], session["webhookSecret"])
