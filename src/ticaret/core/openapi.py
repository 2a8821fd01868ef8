"""Error responses documented on every route, in the error envelope's shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorEnvelope(BaseModel):
    status: bool = False
    error: ErrorDetail


_DESCRIPTIONS = {
    400: "Bad request (malformed input, bad cursor, missing x-account-id)",
    401: "Missing or invalid credentials",
    403: "Authenticated but not allowed (role too low)",
    404: "Not found (also another account's object)",
    409: "Conflict (duplicate, version mismatch, last owner)",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation error; details.fields lists {path, message}",
    429: "Rate limited; see Retry-After",
    502: "Upstream provider failed",
    503: "Service unavailable",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorEnvelope, "description": _DESCRIPTIONS[code]} for code in codes}


AUTHED = (401, 403)
