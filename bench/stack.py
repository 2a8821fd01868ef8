"""Throwaway stacks for benchmarks: embedded PostgreSQL + Redis with the schema applied,
`ticaret serve` / worker subprocesses, and a wrk runner. Loopback only; not run by CI."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(pid: int) -> float:
    """CPU time of a server and its processes: its own, its live children's (PostgreSQL's
    backends) and what its exited children used (a backend whose connection closed)."""
    ticks = os.sysconf("SC_CLK_TCK")

    def stat(of: int | str) -> list[str]:
        return Path(f"/proc/{of}/stat").read_text().rsplit(")", 1)[1].split()

    own = stat(pid)
    total = sum(int(field) for field in own[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == str(pid):
            continue
        try:
            fields = stat(entry.name)
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:  # ppid
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Stack:
    """`embedded_stack` plus a running API (and optionally a worker) on a free port."""

    with_worker: bool = False
    api_workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    _exit: ExitStack = field(default_factory=ExitStack)
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __enter__(self) -> Stack:
        env = self._exit.enter_context(embedded_stack("bench"))
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.env = {**env, "TICARET_PUBLIC_BASE_URL": self.base_url, **self.extra_env}
        serve = [
            "-m",
            "ticaret.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(self.api_workers),
        ]
        self._processes.append(start(serve, self.env))
        if self.with_worker:
            self._processes.append(start(["-m", "ticaret.cli", "worker"], self.env))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("the API did not become ready in 30 s")

    @property
    def pid(self) -> int:
        """The API process (with one API worker, uvicorn serves in that process itself)."""
        return self._processes[0].pid

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for process in self._processes:
            stop(process)
        self._exit.close()


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int = 0

    def line(self, label: str) -> str:
        return (
            f"{label:<38} {self.requests_per_second:>9.0f} req/s   "
            f"p50 {self.p50_ms:>7.2f} ms   p99 {self.p99_ms:>7.2f} ms   non-2xx {self.non_2xx}"
        )


def _to_ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str,
    headers: dict[str, str],
    *,
    seconds: int = 10,
    connections: int = 32,
    threads: int = 1,
    script: str | None = None,
) -> LoadResult:
    """Load with wrk (Debian package `wrk`) so the load generator costs little CPU."""
    if shutil.which("wrk") is None:
        raise SystemExit("install wrk first: apt-get install -y wrk")
    args = ["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if script is not None:
        args += ["-s", script]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return LoadResult(
        rps, p50, p99, int(bad.group(1)) if bad else 0, int(total.group(1)) if total else 0
    )


__all__ = [
    "Stack",
    "cpu_seconds",
    "embedded_stack",
    "free_port",
    "rss_mib",
    "start",
    "stop",
    "wait_for_port",
    "wrk",
]
