"""HTTP to the Graph API: the SSRF-guarded client with the configured Graph host allowed,
timeouts, Meta's error object turned into our error classes, and the usage headers read.

The Graph base URL is an operator setting (tests, proxies and air-gapped fakes point it at a
private address), so the guard allows exactly that host, nothing else that is private. Tokens
travel in the `Authorization: Bearer` header, never in a URL that a proxy could log.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ticaret.core.http import describe_transport_error, guarded_client
from ticaret.core.ssrf import OutboundPolicy
from ticaret.social.graph.errors import (
    GraphError,
    GraphResponseInvalid,
    GraphUnavailable,
    error_from_response,
)
from ticaret.social.graph.usage import Usage, parse_usage

logger = logging.getLogger("ticaret.social.graph")

Params = Mapping[str, str | int | float | bool | None]
UsageRecorder = Callable[[Usage], Awaitable[None]]


@dataclass(frozen=True)
class GraphResponse:
    body: Any
    usage: Usage | None

    def object(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise GraphResponseInvalid("Graph answered something other than a JSON object")
        return self.body


def _clean(params: Params | None) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        cleaned[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return cleaned


class GraphTransport:
    """Calls one Graph host (plus the few OAuth hosts that go with it)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        other_hosts: tuple[str, ...] = (),
        record_usage: UsageRecorder | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.record_usage = record_usage
        self.policy = OutboundPolicy().allowing(self.base_url, *other_hosts)

    def url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        params: Params | None = None,
        form: Params | None = None,
        json: Any = None,
    ) -> GraphResponse:
        headers = {"accept": "application/json"}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        try:
            response = await guarded_client(self.policy).request(
                method,
                self.url(path),
                params=_clean(params) or None,
                data=_clean(form) or None,
                json=json,
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise GraphUnavailable(describe_transport_error(exc)) from exc
        usage = parse_usage(response.headers)
        if usage is not None and self.record_usage is not None:
            try:
                await self.record_usage(usage)
            except Exception:  # the call itself went fine; a lost hint only costs a wait
                logger.warning("could not record Graph usage", exc_info=True)
        if response.status_code >= 400:
            error: GraphError = error_from_response(response)
            logger.info("Graph %s %s failed: %s", method, path.split("?")[0], error)
            raise error
        try:
            body = response.json()
        except ValueError as exc:
            raise GraphResponseInvalid(
                f"Graph answered HTTP {response.status_code} with a body that is not JSON",
                status=response.status_code,
            ) from exc
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            # A few endpoints answer 200 with an error object.
            raise error_from_response(response)
        return GraphResponse(body, usage)
