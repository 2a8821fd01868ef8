"""The adapter for OpenAI and every endpoint that speaks its Chat Completions API (Azure
OpenAI's /openai/v1, OpenRouter, a local Ollama or vLLM), through the official `openai` SDK.

The SDK's HTTP client is the process's SSRF-guarded one (`core.http.guarded_client`): the base
URL is the tenant's choice, and every connection is checked against the policy (public
addresses, or what the operator allowed for a local model server). The SDK's own retries are
off: the analysis job retries, so attempts, backoff and the provider's Retry-After are recorded
on the analysis. Every SDK error becomes a `ProviderError` with a message fit to show.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletion

from ticaret.ai.providers.base import (
    ChatRequest,
    ChatResult,
    LlmProvider,
    ModelNotFound,
    ProviderAuthFailed,
    ProviderConfig,
    ProviderError,
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    TargetRefused,
    Usage,
    redact,
)
from ticaret.core.http import RefusedTarget, describe_transport_error, guarded_client

# Sent as the key to endpoints that need none (a local Ollama): the SDK requires one.
NO_KEY = "no-key"
# Parameters some models refuse ("only the default temperature is supported"): the call is
# made once more without them rather than failing the analysis.
_DROPPABLE = ("temperature",)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a 429 or 503 asks for: `retry-after-ms`, or `retry-after` in seconds or as an
    HTTP date."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _error_fields(exc: openai.APIStatusError) -> tuple[str, str | None, str | None]:
    """(message, code, param) from the error body `{"error": {message, type, param, code}}`
    (the SDK hands us the inner object), or what we can say without one."""
    body = exc.body
    message: str | None = None
    if isinstance(body, dict):
        raw = body.get("message")
        message = raw if isinstance(raw, str) and raw else None
    if message is None:
        message = f"HTTP {exc.status_code} from the AI endpoint"
    return message, exc.code, exc.param


def _status_error(exc: openai.APIStatusError, api_key: str | None) -> ProviderError:
    message, code, param = _error_fields(exc)
    message = redact(message, api_key)
    status = exc.status_code
    common: dict[str, Any] = {"status": status, "provider_code": code, "param": param}
    if status in (401, 403):
        return ProviderAuthFailed(message, **common)
    if status == 429:
        if code == "insufficient_quota":
            return ProviderQuotaExceeded(message, **common)
        headers = cast(Mapping[str, str], exc.response.headers)
        return ProviderRateLimited(message, retry_after=retry_after_seconds(headers), **common)
    if status == 404 and (code == "model_not_found" or "model" in message.lower()):
        return ModelNotFound(message, **common)
    if status >= 500 or status in (408, 409):
        headers = cast(Mapping[str, str], exc.response.headers)
        return ProviderUnavailable(message, retry_after=retry_after_seconds(headers), **common)
    return ProviderRejected(message, **common)


def _connection_error(exc: openai.APIConnectionError) -> ProviderError:
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout("The AI endpoint did not answer in time.")
    if cause is not None and (
        isinstance(cause, RefusedTarget) or "refused target" in describe_transport_error(cause)
    ):
        return TargetRefused(describe_transport_error(cause))
    reason = describe_transport_error(cause) if cause is not None else "connection failed"
    return ProviderUnavailable(f"The AI endpoint could not be reached ({reason}).")


class OpenAICompatibleProvider(LlmProvider):
    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._client = openai.AsyncOpenAI(
            api_key=config.api_key or NO_KEY,
            base_url=config.base_url,
            # The guarded client is shared by the process; the SDK never closes a client it
            # was given.
            http_client=cast(Any, guarded_client(config.policy)),
            max_retries=0,
            timeout=config.timeout,
        )

    async def chat(self, request: ChatRequest) -> ChatResult:
        params: dict[str, Any] = {"model": request.model, "messages": list(request.messages)}
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.response_format is not None:
            params["response_format"] = request.response_format.as_param()
        if request.max_completion_tokens is not None:
            params["max_completion_tokens"] = request.max_completion_tokens
        dropped: list[str] = []
        started = time.perf_counter()
        while True:
            try:
                completion = await self._client.chat.completions.create(**params)
                break
            except openai.APIStatusError as exc:
                error = _status_error(exc, self.config.api_key)
                if (
                    isinstance(error, ProviderRejected)
                    and error.param in _DROPPABLE
                    and error.param in params
                ):
                    dropped.append(error.param)
                    del params[error.param]
                    continue
                raise error from None
            except openai.APIConnectionError as exc:
                raise _connection_error(exc) from None
        latency_ms = int((time.perf_counter() - started) * 1000)
        if not isinstance(completion, ChatCompletion) or not completion.choices:
            raise ProviderRejected("The AI endpoint did not answer with a chat completion.")
        choice = completion.choices[0]
        usage = completion.usage
        return ChatResult(
            content=choice.message.content,
            refusal=getattr(choice.message, "refusal", None),
            finish_reason=choice.finish_reason,
            response_id=completion.id,
            model=completion.model,
            usage=Usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
            if usage is not None
            else Usage(),
            latency_ms=latency_ms,
            dropped_parameters=tuple(dropped),
        )
