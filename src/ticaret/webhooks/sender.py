"""One signed webhook delivery attempt over HTTP.

:func:`send_delivery` never raises for HTTP or network trouble: every outcome becomes an
:class:`AttemptResult` that the caller stores as one row of delivery history (Saleor keeps one row
per attempt: status, duration, request and response headers) and feeds to the retry policy.

The caller passes the SSRF-guarded client (:func:`ticaret.core.http.guarded_client`), or its
transport (:func:`ticaret.core.http.guarded_transport`, what the delivery jobs use: the request is
complete as built here, so the client's per-request work would be spent for nothing), which checks
the address of every connection; this module only talks HTTP so it can be tested against a local
receiver. A refused address becomes an attempt whose error starts with ``refused target:``.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import functools
import time
from collections.abc import AsyncIterable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from ticaret.core.http import describe_transport_error
from ticaret.webhooks.signing import build_headers

DEFAULT_TIMEOUT_S = 15.0
RESPONSE_EXCERPT_BYTES = 4096

# Request headers never written to delivery history even if the caller's client adds them.
_REDACTED_REQUEST_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-api-secret"}
)


# Sent (and recorded) on the transport path as a client would add them.
_TRANSPORT_HEADERS = {"accept": "*/*", "accept-encoding": "identity", "connection": "keep-alive"}


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What happened on one attempt, in the shape delivery history stores it."""

    request_headers: dict[str, str]
    response_status: int | None
    response_headers: dict[str, str] | None
    response_body_excerpt: str | None
    duration_ms: int
    error: str | None
    succeeded: bool


async def send_delivery(
    http: httpx.AsyncClient | httpx.AsyncBaseTransport,
    *,
    url: str,
    event_id: str,
    body: bytes,
    secrets: Sequence[str],
    timeout_s: float = DEFAULT_TIMEOUT_S,
    now: Callable[[], datetime] | None = None,
) -> AttemptResult:
    """POST ``body`` to ``url`` signed with every secret in ``secrets``.

    ``event_id`` becomes ``webhook-id``; it stays the same on every retry so receivers can drop
    duplicates. ``timeout_s`` bounds the whole attempt (connect, send, status line and the body
    excerpt), not each network operation separately, so a receiver that trickles bytes cannot hold
    a worker longer than that. Redirects are not followed: a redirect could point at an internal
    address the URL guard never saw, and it is recorded as a non-2xx answer.

    An attempt succeeds only when a 2xx status arrived and the excerpt was read without error.
    """
    clock = now or (lambda: datetime.now(UTC))
    timestamp = int(clock().timestamp())
    headers = build_headers(event_id, timestamp, body, secrets)
    # The excerpt is stored as text; asking for an uncompressed body keeps a small read small.
    headers["accept-encoding"] = "identity"

    started = time.monotonic()
    try:
        if isinstance(http, httpx.AsyncClient):
            request = http.build_request(
                "POST", url, content=body, headers=headers, timeout=httpx.Timeout(timeout_s)
            )
        else:
            headers.update(_TRANSPORT_HEADERS)
            request = httpx.Request(
                "POST",
                _parsed_url(url),
                content=body,
                headers=headers,
                extensions={"timeout": _timeouts(timeout_s)},
            )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        # Malformed URL (InvalidURL is not an HTTPError in httpx): nothing was sent.
        return AttemptResult(
            request_headers=headers,
            response_status=None,
            response_headers=None,
            response_body_excerpt=None,
            duration_ms=_elapsed_ms(started),
            error=_describe_error(exc),
            succeeded=False,
        )
    sent_headers = {
        name: ("[redacted]" if name in _REDACTED_REQUEST_HEADERS else value)
        for name, value in request.headers.items()
    }

    response: httpx.Response | None = None
    status: int | None = None
    response_headers: dict[str, str] | None = None
    chunks = bytearray()
    error: str | None = None
    try:
        async with asyncio.timeout(timeout_s):
            if isinstance(http, httpx.AsyncClient):
                response = await http.send(request, stream=True, follow_redirects=False)
            else:
                # A transport never follows a redirect: it answers with the 3xx.
                response = await http.handle_async_request(request)
            status = response.status_code
            response_headers = dict(response.headers.items())
            await _read_excerpt(response, chunks)
    except (TimeoutError, httpx.TimeoutException):
        # asyncio.timeout raises TimeoutError for the overall budget, httpx its own per operation.
        error = f"timeout after {timeout_s}s"
        if status is not None:
            error += " while reading the response body"
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        error = _describe_error(exc)
    except OSError as exc:
        error = f"network error: {str(exc) or type(exc).__name__}"
    finally:
        if response is not None:
            # Closing without draining drops the connection, so the rest of a huge body is never
            # downloaded. A failure to close a connection we are abandoning changes nothing.
            with contextlib.suppress(httpx.HTTPError, OSError):
                await response.aclose()

    return AttemptResult(
        request_headers=sent_headers,
        response_status=status,
        response_headers=response_headers,
        response_body_excerpt=_decode_excerpt(bytes(chunks), response)
        if status is not None
        else None,
        duration_ms=_elapsed_ms(started),
        error=error,
        succeeded=error is None and status is not None and 200 <= status < 300,
    )


@functools.lru_cache(maxsize=4096)
def _parsed_url(url: str) -> httpx.URL:
    # A webhook's URL is parsed once, not once per delivery (httpx.URL is immutable).
    return httpx.URL(url)


@functools.lru_cache(maxsize=16)
def _timeouts(timeout_s: float) -> dict[str, float | None]:
    return httpx.Timeout(timeout_s).as_dict()


async def _read_excerpt(response: httpx.Response, into: bytearray) -> None:
    """Append at most ``RESPONSE_EXCERPT_BYTES`` of the body to ``into`` and stop reading.

    Filling a caller-owned buffer keeps what arrived before a timeout.
    """
    # Asked for identity: unless the receiver compressed anyway, the bytes need no decoding
    # layer (nor httpx's chunking and bookkeeping around it), so they are read as they come.
    stream: AsyncIterable[bytes] = (
        response.aiter_bytes()
        if "content-encoding" in response.headers or response.is_stream_consumed
        else response.stream  # type: ignore[assignment]
    )
    async for chunk in stream:
        into.extend(chunk[: RESPONSE_EXCERPT_BYTES - len(into)])
        if len(into) >= RESPONSE_EXCERPT_BYTES:
            return


def _decode_excerpt(raw: bytes, response: httpx.Response | None) -> str:
    encoding = (response.charset_encoding if response is not None else None) or "utf-8"
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    except LookupError:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    # final=False: a multi-byte character cut by the 4 KiB limit is dropped, not shown as garbage.
    return decoder.decode(raw, final=False)


def _describe_error(exc: Exception) -> str:
    """Short, stable text for delivery history; the root cause says more than httpx's wrapper."""
    return describe_transport_error(exc)


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
