"""Serve an ASGI app with uvicorn on a free 127.0.0.1 port inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn


class LocalServer:
    def __init__(
        self, app: Any, *, lifespan: str = "off", host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan=lifespan,
            timeout_graceful_shutdown=5,
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve(sockets=[self._sock]))
        for _ in range(500):
            if self.server.started or self._task.done():
                break
            await asyncio.sleep(0.01)
        assert self.server.started, "the local server did not start"

    async def stop(self) -> None:
        # As on SIGTERM: stop accepting, end open streams, wait for requests in flight.
        self.server.should_exit = True
        if self._task is not None:
            await asyncio.wait_for(self._task, 15)
        self._sock.close()


@asynccontextmanager
async def serve(
    app: Any, *, lifespan: str = "off", host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    server = LocalServer(app, lifespan=lifespan, host=host, port=port)
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()
