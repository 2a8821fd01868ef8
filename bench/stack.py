"""A throwaway Ticaret stack for benchmarks: embedded Postgres + Redis, `ticaret serve`, worker.

Everything listens on 127.0.0.1 and is torn down on exit. Benchmarks are not run by CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
from cryptography.fernet import Fernet

from ticaret.cli import run_migrations
from ticaret.core.embedded import EmbeddedPostgres, EmbeddedRedis, free_port


@dataclass
class Stack:
    with_worker: bool = False
    api_workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    _tmp: Path | None = None
    _redis: EmbeddedRedis | None = None
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __enter__(self) -> Stack:
        self._tmp = Path(tempfile.mkdtemp(prefix="ticaret-bench-"))
        postgres = EmbeddedPostgres(self._tmp / "pg")
        postgres.start()
        postgres.ensure_database("bench")
        postgres.psql("ALTER SYSTEM SET synchronous_commit = on; SELECT pg_reload_conf();")
        self._redis = EmbeddedRedis(self._tmp / "redis")
        self._redis.start()
        database_url = postgres.url("bench")
        run_migrations(database_url)
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "TICARET_ENVIRONMENT": "development",
            "TICARET_DATABASE_URL": database_url,
            "TICARET_REDIS_URL": self._redis.url,
            "TICARET_AUTH__JWT_SECRET": "bench-" + "k" * 40,
            "TICARET_AUTH__FERNET_KEYS": Fernet.generate_key().decode(),
            "TICARET_LOG_LEVEL": "WARNING",
            "TICARET_WORKER_METRICS_PORT": "0",
            "TICARET_WEBHOOKS__ALLOW_PRIVATE_TARGETS": "true",
            "TICARET_PUBLIC_BASE_URL": self.base_url,
            **self.extra_env,
        }
        serve = [
            sys.executable,
            "-m",
            "ticaret.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(self.api_workers),
        ]
        self._processes.append(subprocess.Popen(serve, env=self.env))
        if self.with_worker:
            self._processes.append(
                subprocess.Popen([sys.executable, "-m", "ticaret.cli", "worker"], env=self.env)
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the API did not become ready in 30 s")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if self._redis is not None:
            self._redis.stop()
        # The embedded Postgres stops when this process exits; its files go with the temp dir.
        if self._tmp is not None:
            shutil.rmtree(self._tmp / "redis", ignore_errors=True)


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int

    def line(self, label: str) -> str:
        return (
            f"{label:<38} {self.requests_per_second:>9.0f} req/s   "
            f"p50 {self.p50_ms:>7.2f} ms   p99 {self.p99_ms:>7.2f} ms   non-2xx {self.non_2xx}"
        )


def _to_ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str, headers: dict[str, str], *, seconds: int = 10, connections: int = 32, threads: int = 1
) -> LoadResult:
    """Load with wrk (Debian package `wrk`) so the load generator costs little CPU."""
    if shutil.which("wrk") is None:
        raise SystemExit("install wrk first: apt-get install -y wrk")
    args = ["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return LoadResult(rps, p50, p99, int(bad.group(1)) if bad else 0)
