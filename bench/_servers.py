"""Embedded PostgreSQL + Redis for the benchmarks, in a throwaway folder (loopback only)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
