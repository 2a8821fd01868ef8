"""Embedded PostgreSQL + Redis with the schema applied, and the env our subprocesses need."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet

from ticaret.cli import run_migrations
from ticaret.core.embedded import EmbeddedPostgres, EmbeddedRedis, free_port

PYTHON = sys.executable


@contextmanager
def embedded_stack(name: str) -> Iterator[dict[str, str]]:
    data = Path(tempfile.mkdtemp(prefix=f"ticaret-{name}-"))
    postgres = EmbeddedPostgres(data / "postgres")
    postgres.start()
    postgres.ensure_database("bench", recreate=True)
    redis = EmbeddedRedis(data / "redis")
    redis.start()
    database_url = postgres.url("bench")
    run_migrations(database_url)
    env = {
        "TICARET_ENVIRONMENT": "development",
        "TICARET_DATABASE_URL": database_url,
        "TICARET_REDIS_URL": redis.url,
        "TICARET_AUTH__JWT_SECRET": "bench-" + "x" * 40,
        "TICARET_AUTH__FERNET_KEYS": Fernet.generate_key().decode(),
        "TICARET_WEBHOOKS__ALLOW_PRIVATE_TARGETS": "true",
        "TICARET_LOG_LEVEL": "WARNING",
        "TICARET_WORKER_METRICS_PORT": "0",
        "TICARET_DB_POOL_SIZE": "20",
    }
    os.environ.update(env)
    from ticaret.settings import get_settings

    get_settings.cache_clear()
    try:
        yield {**os.environ, **env}
    finally:
        redis.stop()
        shutil.rmtree(data, ignore_errors=True)


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([PYTHON, *args], env=env)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


__all__ = ["embedded_stack", "free_port", "rss_mib", "start", "stop", "wait_for_port"]
