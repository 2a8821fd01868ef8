"""Structured output: a pydantic model in, a validated instance of it out.

Where the endpoint supports Structured Outputs, the request carries the model's JSON schema
(`response_format: {type: json_schema, strict: true}`) and the endpoint enforces it. Where it
does not (it answers 400 about `response_format`, as many OpenAI-compatible servers do), the
call is made in JSON mode with the schema in the instructions, and the answer is validated
here. An answer that does not validate gets one repair attempt: the model sees its answer and
the validation errors and answers again. A refusal, a truncated answer or a second invalid
answer is an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from ticaret.ai.providers.base import (
    ChatMessage,
    ChatRequest,
    ChatResult,
    InvalidOutput,
    LlmProvider,
    OutputTruncated,
    ProviderRefusal,
    ProviderRejected,
    ResponseFormat,
    Usage,
)
from ticaret.models import StructuredOutput

M = TypeVar("M", bound=BaseModel)


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in the form strict Structured Outputs accept: every object
    closed (`additionalProperties: false`) with every property required (optional ones are
    nullable instead), no defaults."""
    schema = model.model_json_schema()

    def tighten(node: Any, *, names: bool = False) -> Any:
        # `names`: the node maps property names to schemas (a property may be called "title").
        if isinstance(node, dict):
            node = {
                k: tighten(v, names=k in ("properties", "$defs") and not names)
                for k, v in node.items()
                if names or k not in ("default", "title")
            }
            if not names and node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            return node
        if isinstance(node, list):
            return [tighten(item) for item in node]
        return node

    tightened: dict[str, Any] = tighten(schema)
    return tightened


@dataclass(frozen=True)
class StructuredResult(Generic[M]):
    output: M
    mode: StructuredOutput
    repaired: bool
    # The last call's answer (its id and model); usage and latency cover every call made.
    final: ChatResult
    usage: Usage
    latency_ms: int
    raw: dict[str, Any]


def _unsupported_format(error: ProviderRejected) -> bool:
    text = error.message.lower()
    return error.param == "response_format" or "response_format" in text or "json_schema" in text


def _json_instructions(model: type[BaseModel]) -> str:
    return (
        "Answer with one JSON object and nothing else. It must match this JSON schema:\n"
        + json.dumps(strict_json_schema(model), separators=(",", ":"))
    )


def _decode(result: ChatResult, model: type[M]) -> tuple[M, dict[str, Any]]:
    """The validated output, or ValueError / ValidationError saying what is wrong."""
    if result.refusal:
        raise ProviderRefusal(f"The model refused: {result.refusal[:500]}")
    if result.finish_reason == "length":
        raise OutputTruncated("The answer was cut off at the token limit.")
    if result.finish_reason == "content_filter":
        raise ProviderRefusal("The provider's content filter withheld the answer.")
    content = (result.content or "").strip()
    if content.startswith("```"):
        # Models in JSON mode sometimes fence their answer.
        content = content.strip("`").removeprefix("json").strip()
    raw = json.loads(content)
    if not isinstance(raw, dict):
        raise ValueError("the answer is not a JSON object")
    return model.model_validate(raw), raw


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()[:10]
        )
    return str(exc)[:500]


async def complete_json(
    provider: LlmProvider,
    *,
    model_name: str,
    messages: Sequence[ChatMessage],
    output: type[M],
    temperature: float | None,
    mode: StructuredOutput | None = None,
    max_completion_tokens: int | None = None,
) -> StructuredResult[M]:
    """One answer as `output`. `mode` is what the endpoint is known to support (None:
    unknown, Structured Outputs are tried first)."""
    calls: list[ChatResult] = []
    used = mode or StructuredOutput.json_schema
    conversation = list(messages)

    async def call(format_: ResponseFormat) -> ChatResult:
        result = await provider.chat(
            ChatRequest(
                model=model_name,
                messages=conversation,
                temperature=temperature,
                response_format=format_,
                max_completion_tokens=max_completion_tokens,
            )
        )
        calls.append(result)
        return result

    def json_mode_conversation() -> list[ChatMessage]:
        return [{"role": "system", "content": _json_instructions(output)}, *messages]

    schema_format = ResponseFormat("json_schema", output.__name__, strict_json_schema(output))
    if used is StructuredOutput.json_schema:
        try:
            result = await call(schema_format)
        except ProviderRejected as exc:
            if not _unsupported_format(exc):
                raise
            used = StructuredOutput.json_object
            conversation = json_mode_conversation()
            result = await call(ResponseFormat("json_object"))
    else:
        conversation = json_mode_conversation()
        result = await call(ResponseFormat("json_object"))

    repaired = False
    try:
        parsed, raw = _decode(result, output)
    except (ValueError, ValidationError) as first:
        # One repair: the model sees what it said and what is wrong with it.
        conversation = [
            *conversation,
            {"role": "assistant", "content": result.content or ""},
            {
                "role": "user",
                "content": "That answer is not valid JSON for the required schema ("
                + _problem(first)
                + "). Answer again with the corrected JSON object only.",
            },
        ]
        format_ = (
            schema_format if used is StructuredOutput.json_schema else ResponseFormat("json_object")
        )
        result = await call(format_)
        try:
            parsed, raw = _decode(result, output)
        except (ValueError, ValidationError) as second:
            raise InvalidOutput(
                f"The answer did not match the schema after one repair: {_problem(second)}"
            ) from None
        repaired = True
    usage = Usage()
    for made in calls:
        usage = usage + made.usage
    return StructuredResult(
        output=parsed,
        mode=used,
        repaired=repaired,
        final=result,
        usage=usage,
        latency_ms=sum(made.latency_ms for made in calls),
        raw=raw,
    )
