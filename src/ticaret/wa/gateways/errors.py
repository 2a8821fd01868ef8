from __future__ import annotations

import json
from typing import Any

_EXCERPT_LIMIT = 300


class GatewayError(Exception):
    """Base of every failure talking to a WhatsApp gateway.

    `message` and `body_excerpt` are for logs: they may quote the gateway's answer (with the API
    key redacted). `public` is what a tenant may see (an API error, a row's `lastError`): our own
    words and the HTTP status only. The gateway's address is the tenant's choice, so its answer
    could be an internal page; it is never handed back.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body_excerpt: str | None = None,
        public: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body_excerpt = body_excerpt
        self.public = public if public is not None else message


# The names are the domain contract shared with the callers, hence no "Error" suffix.
class GatewayUnavailable(GatewayError):
    """Timeout, connection failure or 5xx: worth retrying later."""


class GatewayRejected(GatewayError):
    """4xx: the gateway understood and refused; retrying the same call will not help."""


class GatewayNotFound(GatewayRejected):
    """404: the session/instance, chat or message does not exist on the gateway."""


class GatewayUnsupported(GatewayError):
    """The gateway has no API for this operation (see `WhatsAppGateway.capabilities`)."""


def redact(text: str, secrets: tuple[str | None, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def body_excerpt(body: bytes, secrets: tuple[str | None, ...]) -> str:
    text = body[: _EXCERPT_LIMIT * 4].decode("utf-8", errors="replace")
    return redact(text, secrets)[:_EXCERPT_LIMIT]


def gateway_message(body: bytes, secrets: tuple[str | None, ...]) -> str | None:
    """Pull the human message out of an error body.

    Evolution answers `{status, error, response: {message: [...]}}`; WAHA (NestJS) answers
    `{statusCode, message, error}`, where `message` may itself be a list of validation errors.
    """
    try:
        data = json.loads(body)
    except ValueError:
        return None
    candidates: list[Any] = []
    if isinstance(data, dict):
        response = data.get("response")
        if isinstance(response, dict):
            candidates.append(response.get("message"))
        candidates.extend([data.get("message"), data.get("error")])
    for candidate in candidates:
        if isinstance(candidate, list):
            candidate = "; ".join(str(part) for part in candidate if part)
        if isinstance(candidate, str) and candidate:
            return redact(candidate, secrets)[:_EXCERPT_LIMIT]
    return None
