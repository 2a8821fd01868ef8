"""A local fake Evolution API (real HTTP on 127.0.0.1), and a loopback service that a tenant
must never reach through it. Paths and bodies follow Evolution v2 (see `test_gateway_sessions`
for the same routes under respx); anything not scripted answers 404 like Evolution does."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.local_server import LocalServer

FILE_BYTES = b"\x89PNG\r\n\x1a\n" + b"gateway-file" * 10


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeHttp:
    """An ASGI app answering from `routes` ("METHOD /path-prefix" -> (status, headers, body))."""

    name: str
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def answer(self, method: str, prefix: str, status: int, body: Any, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        kind = "application/octet-stream" if isinstance(body, bytes) else "application/json"
        self.routes[f"{method} {prefix}"] = (status, {"content-type": kind, **headers}, raw)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append(Recorded(scope["method"], scope["path"], headers, body))
        status, extra, raw = 404, {"content-type": "application/json"}, b'{"status": 404}'
        for key, route in self.routes.items():
            method, prefix = key.split(" ", 1)
            if scope["method"] == method and scope["path"].startswith(prefix):
                status, extra, raw = route
                break
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in extra.items()],
            }
        )
        await send({"type": "http.response.body", "body": raw})

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]


def fake_evolution() -> FakeHttp:
    evolution = FakeHttp("evolution")
    evolution.answer(
        "POST", "/instance/create", 201, {"instance": {"instanceName": "x", "status": "close"}}
    )
    evolution.answer("POST", "/webhook/set/", 201, {"webhook": {}})
    evolution.answer(
        "GET", "/instance/connect/", 200, {"code": "2@qr", "base64": "data:image/png;base64,QQ=="}
    )
    evolution.answer("GET", "/instance/connectionState/", 200, {"instance": {"state": "open"}})
    evolution.answer(
        "POST",
        "/chat/getBase64FromMediaMessage/",
        201,
        {"base64": base64.b64encode(FILE_BYTES).decode(), "mimetype": "image/png"},
    )
    return evolution


@asynccontextmanager
async def running(app: FakeHttp, host: str = "127.0.0.1") -> AsyncIterator[LocalServer]:
    server = LocalServer(app, host=host)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def evolution_image_upsert(instance: str, message_id: str, media_url: str) -> dict[str, Any]:
    """An Evolution `messages.upsert` of a customer's image, with the S3 `mediaUrl` field."""
    return {
        "event": "messages.upsert",
        "instance": instance,
        "data": {
            "key": {"remoteJid": "905551234567@s.whatsapp.net", "fromMe": False, "id": message_id},
            "pushName": "Mehmet",
            "message": {
                "imageMessage": {"mimetype": "image/png", "caption": "Bu model"},
                "mediaUrl": media_url,
            },
            "messageType": "imageMessage",
            "messageTimestamp": 1747218000,
        },
        "date_time": "2025-05-14T10:20:00.000Z",
    }
