"""Outbound HTTP: pooled httpx clients with timeouts, and the SSRF-guarded ones.

Two kinds of client, one pool each per process:

* :func:`get_http_client` for addresses the operator configured (OpenAI, an SMTP relay's API...).
* :func:`guarded_client` for any address a tenant or a third party chose: webhook URLs, a WhatsApp
  gateway's base URL, media URLs a gateway names. Every connection it opens goes through
  :class:`ticaret.core.ssrf.GuardedNetworkBackend` (resolve, check every address against the
  :class:`~ticaret.core.ssrf.OutboundPolicy`, connect to the checked address). It never follows a
  redirect, never reads proxy settings from the environment and refuses URLs with credentials or a
  fragment. A refused call raises :class:`RefusedTarget` (an ``httpx.TransportError``).
  :func:`guarded_transport` is the same guard as a bare transport on asyncio sockets, for
  callers that build their requests themselves and send many (webhook deliveries).

Usage, e.g. for a gateway the operator may run on a private network::

    policy = OutboundPolicy.from_entries(settings.wa.private_gateway_hosts)
    response = await guarded_client(policy).get(url, timeout=10)

Callers must not hand a target's answer back to a tenant as is (it could be an internal page);
:func:`describe_transport_error` gives a short reason that is safe to show.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from ticaret.core.ssrf import BlockedAddress, OutboundPolicy, guarded_pool, url_refusal

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
USER_AGENT = "Ticaret/0.1"
_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=50)

_client: httpx.AsyncClient | None = None
_guarded: dict[tuple[OutboundPolicy, int], httpx.AsyncClient] = {}
_guarded_transports: dict[tuple[OutboundPolicy, int], _GuardedTransport] = {}
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
    def __init__(
        self, policy: OutboundPolicy, sockets: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False, limits=_LIMITS)
        self._pool = guarded_pool(
            policy, limits=_LIMITS, ssl_context=_ssl_context(), sockets=sockets
        )

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
        client = _GuardedClient(
            transport=_GuardedTransport(policy),
            timeout=DEFAULT_TIMEOUT,
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT},
        )
        _guarded[(policy, lane)] = client
    return client


def guarded_transport(policy: OutboundPolicy, lane: int = 0) -> httpx.AsyncBaseTransport:
    """A shared SSRF-guarded transport for ``policy`` (created on first use), for callers that
    build complete requests themselves and send many (webhook deliveries).

    It checks every connection exactly as :func:`guarded_client` does, but skips the client's
    per-request work (header merging, cookies, auth and redirect handling: a transport answers
    a redirect with the 3xx) and runs its connections on plain asyncio sockets
    (:class:`_AsyncioSockets`), not anyio's, whose per-call cancel scopes and attribute lookups
    cost more than the HTTP itself on a local network. ``lane`` as for :func:`guarded_client`;
    these pools are separate from the clients'.
    """
    transport = _guarded_transports.get((policy, lane))
    if transport is None:
        transport = _GuardedTransport(policy, sockets=_AsyncioSockets())
        _guarded_transports[(policy, lane)] = transport
    return transport


class _Pipe(asyncio.Protocol):
    """The receiving side of one connection: a buffer, end-of-stream, and a waiter."""

    # Past this much unread data the socket stops being read (an endless body stays outside).
    HIGH_WATER = 256 * 1024

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: Exception | None = None
        self.reading_paused = False
        self.writing_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > self.HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        self.writing_paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def readable(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def drained(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()
        try:
            await self._drained
        finally:
            self._drained = None


class _AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, pipe: _Pipe) -> None:
        self._transport = transport
        self._pipe = pipe

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        pipe = self._pipe
        if not pipe.buffer and not pipe.eof:
            try:
                async with asyncio.timeout(timeout):
                    while not pipe.buffer and not pipe.eof:
                        await pipe.readable()
            except TimeoutError as exc:
                raise httpcore.ReadTimeout(str(exc) or "read timed out") from exc
        if pipe.buffer:
            data = bytes(pipe.buffer[:max_bytes])
            del pipe.buffer[:max_bytes]
            if pipe.reading_paused and len(pipe.buffer) <= pipe.HIGH_WATER // 2:
                pipe.reading_paused = False
                self._transport.resume_reading()
            return data
        if pipe.error is not None:
            raise httpcore.ReadError(str(pipe.error)) from pipe.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        pipe = self._pipe
        if self._transport.is_closing():
            raise httpcore.WriteError(str(pipe.error or "connection closed"))
        self._transport.write(buffer)
        if pipe.writing_paused:
            try:
                async with asyncio.timeout(timeout):
                    while pipe.writing_paused:
                        await pipe.drained()
            except TimeoutError as exc:
                raise httpcore.WriteTimeout(str(exc) or "write timed out") from exc
            if pipe.error is not None:
                raise httpcore.WriteError(str(pipe.error)) from pipe.error

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(
                    self._transport, self._pipe, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout(str(exc) or "TLS handshake timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if tls is None:
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        return _AsyncioStream(tls, self._pipe)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # Idle keep-alive connection with data or an end waiting: the server closed it.
            return bool(self._pipe.buffer) or self._pipe.eof
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


class _AsyncioSockets(httpcore.AsyncNetworkBackend):
    """Connections on the running loop's own transports (the guard decides where to)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, pipe = await loop.create_connection(
                    _Pipe,
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc) or "connect timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return _AsyncioStream(transport, pipe)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never an outbound target")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def close_http_client() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
    _client = None
    clients = list(_guarded.values())
    transports = list(_guarded_transports.values())
    _guarded.clear()
    _guarded_transports.clear()
    for client in clients:
        await client.aclose()
    for transport in transports:
        await transport.aclose()


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
