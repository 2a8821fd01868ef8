"""What a failed Graph call means for us: retry later, re-authorize, or give up.

Meta's error object is `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`
(https://developers.facebook.com/docs/graph-api/guides/error-handling); Instagram's OAuth host
answers `{"error_type", "code", "error_message"}` instead. Both land here.
"""

from __future__ import annotations

from typing import Any

import httpx

# Throttling: app (4), user (17), Pages (32), per-call (613), Business Use Case (80001-80014),
# Messenger's own send limits (613 too). Temporary, retried with backoff.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
# "API Unknown" / "API Service": temporary outages.
TRANSIENT_CODES = frozenset({1, 2})
# The token no longer works (190, 102) or the permission is gone (10, 200-299): only a new
# onboarding fixes it, so retrying is pointless.
REAUTH_CODES = frozenset({102, 190, 10, *range(200, 300)})


class GraphError(Exception):
    """A Graph call that did not succeed; `str(exc)` is safe to store and show."""

    retryable = False
    needs_reauth = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        fbtrace_id: str | None = None,
    ) -> None:
        self.message = message[:500]
        self.status = status
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.fbtrace_id = fbtrace_id
        super().__init__(self.describe())

    def describe(self) -> str:
        parts = []
        if self.code is not None:
            parts.append(f"code {self.code}" + (f"/{self.subcode}" if self.subcode else ""))
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        head = f"Graph error ({', '.join(parts)})" if parts else "Graph error"
        trace = f" [fbtrace_id {self.fbtrace_id}]" if self.fbtrace_id else ""
        return f"{head}: {self.message}{trace}"

    def details(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "errorSubcode": self.subcode,
            "type": self.error_type,
            "fbtraceId": self.fbtrace_id,
            "httpStatus": self.status,
        }


class GraphUnavailable(GraphError):
    """Network failure, timeout, 5xx or a temporary outage code: retried."""

    retryable = True


class GraphRateLimited(GraphError):
    """Throttled (HTTP 429 or a rate-limit code): retried after a backoff."""

    retryable = True


class GraphAuthError(GraphError):
    """The token is invalid or lacks a permission: the asset needs a new onboarding."""

    needs_reauth = True


class GraphRefused(GraphError):
    """Any other 4xx: the request itself is wrong; retrying would get the same answer."""


class GraphResponseInvalid(GraphError):
    """Meta answered 2xx with something we cannot read."""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def error_from_response(response: httpx.Response) -> GraphError:
    """Classify a non-2xx answer by Meta's error code first, the HTTP status second."""
    status = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or "no message")
        code = _int(error.get("code"))
        subcode = _int(error.get("error_subcode"))
        error_type = error.get("type")
        trace = error.get("fbtrace_id")
    elif isinstance(body, dict) and "error_message" in body:
        # api.instagram.com's OAuth answers.
        message = str(body.get("error_message") or "no message")
        code = _int(body.get("code"))
        subcode, trace = None, None
        error_type = body.get("error_type")
    else:
        message = f"HTTP {status} without a Graph error object"
        code = subcode = None
        error_type = trace = None
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "subcode": subcode,
        "error_type": str(error_type) if error_type else None,
        "fbtrace_id": str(trace) if trace else None,
    }
    if status == 429 or (code is not None and code in RATE_LIMIT_CODES):
        return GraphRateLimited(message, **kwargs)
    if code is not None and code in REAUTH_CODES:
        return GraphAuthError(message, **kwargs)
    if status >= 500 or (code is not None and code in TRANSIENT_CODES):
        return GraphUnavailable(message, **kwargs)
    return GraphRefused(message, **kwargs)
