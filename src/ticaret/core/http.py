"""One shared httpx client per process for all outbound HTTP (pooled, always with timeouts)."""

from __future__ import annotations

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

_client: httpx.AsyncClient | None = None


def init_http_client() -> httpx.AsyncClient:
    global _client
    _client = httpx.AsyncClient(
        timeout=DEFAULT_TIMEOUT,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,
        headers={"user-agent": "Ticaret/0.1"},
    )
    return _client


def get_http_client() -> httpx.AsyncClient:
    if _client is None:
        return init_http_client()
    return _client


async def close_http_client() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
    _client = None
