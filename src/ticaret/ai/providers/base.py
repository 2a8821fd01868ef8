"""What every LLM adapter offers: one chat completion, as the OpenAI Chat Completions API
defines it, and the errors a call can end in.

The analysis of messages uses it with a JSON response format (`structured.complete_json`);
conversations and AI agents will add tools (function calling) to `ChatRequest` and read
`ChatResult.tool_calls`. No adapter touches the database: it gets its configuration (with the
key decrypted by `factory.provider_for`) and answers or raises a `ProviderError`.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ticaret.core.ssrf import OutboundPolicy

# A chat message as the Chat Completions API takes it: {"role": ..., "content": str | parts}.
ChatMessage = Mapping[str, Any]


@dataclass(frozen=True)
class ProviderConfig:
    """Where and how to call: the base URL (`.../v1`), the key, the timeout, and the SSRF
    policy the base URL is reached under."""

    name: str  # an AiProvider value
    base_url: str
    api_key: str | None
    timeout: float
    policy: OutboundPolicy


@dataclass(frozen=True)
class ResponseFormat:
    """`{"type": "json_schema", ...}` (the endpoint enforces the schema) or
    `{"type": "json_object"}` (JSON mode: any JSON object, validated by the caller)."""

    type: str
    name: str | None = None
    schema: Mapping[str, Any] | None = None

    def as_param(self) -> dict[str, Any]:
        if self.type == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": self.name, "schema": self.schema, "strict": True},
            }
        return {"type": self.type}


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: Sequence[ChatMessage]
    temperature: float | None = None
    response_format: ResponseFormat | None = None
    max_completion_tokens: int | None = None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_tokens + other.total_tokens,
        )


@dataclass(frozen=True)
class ChatResult:
    content: str | None
    refusal: str | None
    finish_reason: str | None
    response_id: str | None
    model: str | None
    usage: Usage
    latency_ms: int
    # Parameters the endpoint refused and the adapter left out to get this answer.
    dropped_parameters: tuple[str, ...] = field(default=())


class LlmProvider(abc.ABC):
    """One LLM endpoint."""

    config: ProviderConfig

    @abc.abstractmethod
    async def chat(self, request: ChatRequest) -> ChatResult: ...


# Errors -------------------------------------------------------------------------------------

_KEYLIKE = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-\*\.]{3,}")


def redact(text: str, secret: str | None) -> str:
    """`text` without the key: providers echo keys in their errors ("Incorrect API key
    provided: sk-proj-...sQoA"), and this text is stored and shown."""
    if secret:
        text = text.replace(secret, "[key]")
    return _KEYLIKE.sub(lambda m: f"{m.group(1)}-***", text)[:1000]


class ProviderError(Exception):
    """A failed call. `code` is ours and stable; `message` is safe to store and show (the key
    redacted, never a body we did not understand); `retryable` says whether trying again
    later may work."""

    code = "provider_error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        provider_code: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.provider_code = provider_code
        self.param = param
        self.retry_after = retry_after

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.status is not None:
            record["status"] = self.status
        if self.provider_code:
            record["providerCode"] = self.provider_code
        if self.retry_after is not None:
            record["retryAfter"] = self.retry_after
        return record


class ProviderAuthFailed(ProviderError):
    code = "provider_auth_failed"


class ProviderRateLimited(ProviderError):
    code = "provider_rate_limited"
    retryable = True


class ProviderQuotaExceeded(ProviderError):
    """429 `insufficient_quota`: the account is out of credit; waiting does not help."""

    code = "provider_quota_exceeded"


class ProviderUnavailable(ProviderError):
    """5xx, a timeout, a connection that failed: the endpoint may answer later."""

    code = "provider_unavailable"
    retryable = True


class ProviderTimeout(ProviderUnavailable):
    code = "provider_timeout"


class ProviderRejected(ProviderError):
    """The endpoint refused the request itself (400, 404, 422...)."""

    code = "provider_rejected_request"


class ModelNotFound(ProviderRejected):
    code = "model_not_found"


class TargetRefused(ProviderError):
    """The SSRF guard refused the endpoint's address; nothing was sent."""

    code = "endpoint_refused"


class ProviderRefusal(ProviderError):
    """The model answered with a refusal instead of the requested output."""

    code = "model_refused"


class InvalidOutput(ProviderError):
    """The answer was not the JSON we asked for, even after one repair attempt."""

    code = "invalid_output"


class OutputTruncated(InvalidOutput):
    code = "output_truncated"
