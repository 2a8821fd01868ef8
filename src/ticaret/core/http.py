"""Outbound HTTP: pooled httpx clients with timeouts, and the SSRF-guarded ones.

Two kinds of client, one pool each per process:

* :func:`get_http_client` for addresses the operator configured (OpenAI, an SMTP relay's API...).
* :func:`guarded_client` for any address a tenant or a third party chose: webhook URLs, a WhatsApp
  gateway's base URL, media URLs a gateway names. Every connection it opens goes through
  :class:`ticaret.core.ssrf.GuardedNetworkBackend` (resolve, check every address against the
  :class:`~ticaret.core.ssrf.OutboundPolicy`, connect to the checked address). It never follows a
  redirect, never reads proxy settings from the environment and refuses URLs with credentials or a
  fragment. A refused call raises :class:`RefusedTarget` (an ``httpx.TransportError``).

Usage, e.g. for a gateway the operator may run on a private network::

    policy = OutboundPolicy.from_entries(settings.wa.private_gateway_hosts)
    response = await guarded_client(policy).get(url, timeout=10)

Callers must not hand a target's answer back to a tenant as is (it could be an internal page);
:func:`describe_transport_error` gives a short reason that is safe to show.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

import httpx

from ticaret.core.ssrf import BlockedAddress, OutboundPolicy, guarded_pool, url_refusal

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
USER_AGENT = "Ticaret/0.1"
_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=50)

_client: httpx.AsyncClient | None = None
_guarded: dict[tuple[OutboundPolicy, int], httpx.AsyncClient] = {}
_guarded_transports: dict[tuple[OutboundPolicy, int], httpx.AsyncBaseTransport] = {}
_ssl: ssl.SSLContext | None = None


def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs tens of milliseconds of CPU: one context serves every pool.
    global _ssl
    if _ssl is None:
        _ssl = httpx.create_ssl_context(trust_env=False)
    return _ssl


class RefusedTarget(httpx.TransportError):
    """The SSRF guard refused the call; ``str(exc)`` says why, nothing was sent."""


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False, limits=_LIMITS)
        self._pool = guarded_pool(policy, limits=_LIMITS, ssl_context=_ssl_context())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        reason = url_refusal(request.url)
        if reason is not None:
            raise RefusedTarget(reason, request=request)
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectError as exc:
            if isinstance(exc.__cause__, BlockedAddress):
                raise RefusedTarget(str(exc.__cause__), request=request) from exc
            raise


class _GuardedClient(httpx.AsyncClient):
    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        # A redirect is an answer, never followed: each hop would be a new request the caller
        # did not choose (the guard would still check it, but the caller's own checks would not).
        return await super().send(request, stream=stream, auth=auth, follow_redirects=False)


def init_http_client() -> httpx.AsyncClient:
    global _client
    _client = httpx.AsyncClient(
        timeout=DEFAULT_TIMEOUT,
        limits=_LIMITS,
        follow_redirects=False,
        headers={"user-agent": USER_AGENT},
    )
    return _client


def get_http_client() -> httpx.AsyncClient:
    if _client is None:
        return init_http_client()
    return _client


def guarded_client(policy: OutboundPolicy, lane: int = 0) -> httpx.AsyncClient:
    """The process's shared SSRF-guarded client for ``policy`` (created on first use).

    ``lane`` picks one of several such clients, each with its own connection pool, for callers
    that keep many requests in flight (webhook deliveries): httpcore does work per request that
    grows with everything its pool holds, so 200 requests over 25 pools of 8 cost a quarter of
    the CPU of 200 over one. Every lane checks every connection it opens the same way.
    """
    client = _guarded.get((policy, lane))
    if client is None or client.is_closed:
        transport = _guarded_transports[(policy, lane)] = _GuardedTransport(policy)
        client = _GuardedClient(
            transport=transport,
            timeout=DEFAULT_TIMEOUT,
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT},
        )
        _guarded[(policy, lane)] = client
    return client


def guarded_transport(policy: OutboundPolicy, lane: int = 0) -> httpx.AsyncBaseTransport:
    """The transport (and connection pool) of ``guarded_client(policy, lane)``.

    For a caller that builds complete requests itself (webhook deliveries) and wants none of
    the client's per-request work (header merging, cookies, auth and redirect handling): every
    request it sends is still checked by the guard exactly as the client's are.
    """
    guarded_client(policy, lane)  # created (or re-created after closing) with its transport
    return _guarded_transports[(policy, lane)]


async def close_http_client() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
    _client = None
    clients = list(_guarded.values())
    _guarded.clear()
    _guarded_transports.clear()
    for client in clients:
        await client.aclose()


def describe_transport_error(exc: BaseException) -> str:
    """Short, stable text for a failed call: the root cause, never the target's response body."""
    if isinstance(exc, RefusedTarget):
        return f"refused target: {exc}"
    causes: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in causes:
        causes.append(seen)
        seen = seen.__cause__ or seen.__context__
    root = causes[-1]
    detail = str(root) or type(root).__name__
    if any(isinstance(c, RefusedTarget | BlockedAddress) for c in causes):
        blocked = next(c for c in causes if isinstance(c, RefusedTarget | BlockedAddress))
        return f"refused target: {blocked}"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        refused = next(c for c in causes if isinstance(c, ConnectionRefusedError))
        return f"connection refused: {refused}"
    if any(isinstance(c, ssl.SSLError) for c in causes):
        return f"tls error: {detail}"
    if isinstance(root, socket.gaierror):
        return f"dns error: {detail}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout: {detail}"
    if isinstance(exc, httpx.ConnectError):
        return f"connection error: {detail}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"protocol error: {detail}"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"invalid url: {detail}"
    if isinstance(exc, httpx.NetworkError):
        return f"network error: {detail}"
    return f"http error: {detail}"
