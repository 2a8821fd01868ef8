"""Request-body limit: one for ordinary routes, larger ones only where a route declares it.

Counted on the stream before anything parses the body, so a 40 MB JSON body to an
unauthenticated route costs us 1 MB of reading, not a 40 MB parse. A declared Content-Length over
the limit is refused without reading a byte; a body without one (chunked) is refused as soon as
the count passes the limit.

Routes that take files or gateway events declare their own limit with :func:`declare_body_limit`
(by path template, with the limit read from settings on each request so it follows them):

    declare_body_limit("/wa/provider-events/{providerSessionId}", lambda s: s.wa.max_event_bytes)

A route keeps its own, more precise check (a file part's size, say); this one only bounds what
is read at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticaret.core.errors import error_body
from ticaret.settings import Settings, get_settings

LimitOf = Callable[[Settings], int]


@dataclass(frozen=True)
class _Declared:
    template: str
    pattern: re.Pattern[str]
    limit_of: LimitOf
    # The template up to its first parameter: a path without it cannot match (checked first,
    # so most requests cost no regex).
    prefix: str


_declared: dict[str, _Declared] = {}


def declare_body_limit(path_template: str, limit_of: LimitOf) -> None:
    """Give the route at ``path_template`` (as written on the route) its own body limit."""
    pattern, _, _ = compile_path(path_template)
    prefix = path_template.split("{", 1)[0]
    _declared[path_template] = _Declared(path_template, pattern, limit_of, prefix)


def declared_body_limits() -> dict[str, LimitOf]:
    return {template: d.limit_of for template, d in _declared.items()}


def body_limit_for(path: str, settings: Settings) -> int:
    for declared in _declared.values():
        if path.startswith(declared.prefix) and declared.pattern.match(path):
            return declared.limit_of(settings)
    return settings.max_request_body_bytes


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the stream passes the limit; the error handlers turn it into
    the 413 envelope (FastAPI re-raises HTTPExceptions from body parsing as they are)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the {limit} bytes allowed here.")
        self.limit = limit


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        error_body(
            "payload_too_large",
            f"The request body is larger than the {limit} bytes allowed here.",
            {"limit": limit},
        )
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Pure ASGI; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        chunked = False
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if length is None and not chunked:
            # HTTP/1.1: no Content-Length and no Transfer-Encoding means no body to count.
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(scope["path"], get_settings())
        if length is not None and length.isdigit() and int(length) > limit:
            await _refuse(send, limit)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            # Raised where no error handler sat between the reader and us.
            if not started:
                await _refuse(send, limit)
