"""The hottest reads, answered without FastAPI's routing and dependency machinery.

A handful of GET routes are called far more than anything else (`/health`, `GET /accounts`,
the WhatsApp chat and message lists). Each stays an ordinary FastAPI route: it is what the
OpenAPI document shows, what validates odd input and what renders every error. The fast lane
answers the same requests first when they take the common shape, with the same service
function and the same bytes, and hands everything else to the route:

    @fast_get("/accounts")
    async def accounts_fast(request: Request, path: dict[str, str]) -> Response | None:
        page = plain_page(request)          # None: a query the route must validate
        if page is None:
            return None
        ...

A handler returns None (or raises anything) to let the route answer; it must not have changed
anything by then. For a POST lane (`fast_post`) the body is read first, whole; the route then
gets the same bytes replayed. Auth, caching, request ids, metrics, CORS and body limits are the
same for both paths (the lane sits inside the middleware that does them).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticaret.core.envelope import DEFAULT_LIMIT, MAX_LIMIT, PageParams

logger = logging.getLogger("ticaret.fastlane")

FastHandler = Callable[[Request, dict[str, str]], Awaitable[Response | None]]


@dataclass(frozen=True)
class _Lane:
    template: str
    pattern: re.Pattern[str]
    handler: FastHandler

    @property
    def path(self) -> str:
        # What the request metrics read as the route's label (the template, as routes give).
        return self.template


_exact: dict[tuple[str, str], _Lane] = {}
_templated: dict[str, list[_Lane]] = {"GET": [], "POST": []}


def _register(method: str, path_template: str) -> Callable[[FastHandler], FastHandler]:
    def register(handler: FastHandler) -> FastHandler:
        pattern, _, _ = compile_path(path_template)
        lane = _Lane(path_template, pattern, handler)
        if "{" in path_template:
            _templated[method].append(lane)
        else:
            _exact[method, path_template] = lane
        return handler

    return register


def fast_get(path_template: str) -> Callable[[FastHandler], FastHandler]:
    """Serve GET `path_template` (as written on its FastAPI route) with this handler first."""
    return _register("GET", path_template)


def fast_post(path_template: str) -> Callable[[FastHandler], FastHandler]:
    """Serve POST `path_template` with this handler first (see the module docstring)."""
    return _register("POST", path_template)


def _find(method: str, path: str) -> tuple[_Lane, dict[str, str]] | None:
    lane = _exact.get((method, path))
    if lane is not None:
        return lane, {}
    for lane in _templated.get(method, ()):
        match = lane.pattern.match(path)
        if match is not None:
            return lane, match.groupdict()
    return None


_LIMIT = re.compile(r"[1-9][0-9]{0,2}")


def plain_page(request: Request, *allowed: str) -> PageParams | None:
    """`cursor` and `limit` when the query holds nothing else but `allowed` names, each once,
    and `limit` is a plain number in range; None for anything the route should validate."""
    params = request.query_params
    keys = params.keys()
    if len(keys) != len(params.multi_items()):
        return None
    for key in keys:
        if key not in ("cursor", "limit") and key not in allowed:
            return None
    limit = params.get("limit")
    if limit is None:
        limit_value = DEFAULT_LIMIT
    elif _LIMIT.fullmatch(limit) and int(limit) <= MAX_LIMIT:
        limit_value = int(limit)
    else:
        return None
    return PageParams.model_construct(cursor=params.get("cursor"), limit=limit_value)


class FastLaneMiddleware:
    """Pure ASGI; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _templated:
            found = _find(scope["method"], scope["path"])
            if found is not None:
                lane, path_params = found
                request = Request(scope, receive)
                body: bytes | None = None
                if scope["method"] == "POST":
                    # Read here, whole (a body over the limit raises for BodyLimitMiddleware
                    # exactly as under the route), so the route can be handed the same bytes.
                    body = await request.body()
                try:
                    response = await lane.handler(request, path_params)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The route does the same work again and answers as it always does.
                    response = None
                if response is not None:
                    scope["route"] = lane
                    await response(scope, receive, send)
                    return
                if body is not None:
                    receive = _replay(body, receive)
        await self.app(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body a lane read, handed to the route as if it came from the client."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
