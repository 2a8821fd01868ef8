"""An account's AI settings: read (with this month's usage), change, test against the provider,
and remove the key.

The key is encrypted at rest (`core.security.secret_box`) and never leaves: responses carry
`hasApiKey` and its last four characters. The base URL of an OpenAI-compatible endpoint is
the tenant's choice, so it is checked against the SSRF policy when saved (a readable 422) and
every call goes through the guarded client.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.ai.errors import (
    AiKeyRejected,
    AiProviderRateLimited,
    AiProviderUnavailable,
    AiRequestRejected,
    ApiKeyRequired,
    BaseUrlRequired,
    UnsafeAiEndpoint,
)
from ticaret.ai.providers.base import (
    InvalidOutput,
    ModelNotFound,
    ProviderAuthFailed,
    ProviderError,
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderRefusal,
    ProviderRejected,
    ProviderUnavailable,
    TargetRefused,
)
from ticaret.ai.providers.factory import (
    endpoint_policy,
    provider_config,
    stored_api_key,
    uses_llm,
)
from ticaret.ai.providers.openai_compatible import OpenAICompatibleProvider
from ticaret.ai.providers.structured import complete_json
from ticaret.ai.repository import settings as repository
from ticaret.ai.schemas import (
    AiSettingsOut,
    AiSettingsUpdate,
    MonthUsage,
    SettingsTest,
    SettingsTestResult,
)
from ticaret.ai.service.results import this_month
from ticaret.core.auth import AccountContext
from ticaret.core.errors import AppError
from ticaret.core.security import secret_box
from ticaret.core.ssrf import UnsafeUrl, check_url
from ticaret.core.versioning import check_version
from ticaret.models import AccountAiSettings, AiProvider, StructuredOutput
from ticaret.settings import get_settings

# What an account without saved settings has.
DEFAULT_TEMPERATURE = 0.2
DEFAULT_LANGUAGE = "tr"
DEFAULT_CONCURRENCY = 5
DEFAULT_CONTEXT = 10


def default_settings(account_id: uuid.UUID) -> AccountAiSettings:
    return AccountAiSettings(
        account_id=account_id,
        provider=AiProvider.openai,
        base_url=None,
        model=get_settings().ai.default_model,
        vision_model=None,
        api_key_encrypted=None,
        api_key_last4=None,
        temperature=DEFAULT_TEMPERATURE,
        language=DEFAULT_LANGUAGE,
        auto_analyze_inbound=True,
        auto_reply=False,
        max_concurrent_analyses=DEFAULT_CONCURRENCY,
        monthly_token_budget=None,
        context_messages=DEFAULT_CONTEXT,
        structured_output=None,
    )


async def month_usage(
    session: AsyncSession, account_id: uuid.UUID, budget: int | None
) -> MonthUsage:
    month = this_month()
    row = await repository.month_usage(session, account_id, month)
    total = row.total_tokens if row is not None else 0
    return MonthUsage(
        month=month.strftime("%Y-%m"),
        requests=row.requests if row is not None else 0,
        prompt_tokens=row.prompt_tokens if row is not None else 0,
        completion_tokens=row.completion_tokens if row is not None else 0,
        total_tokens=total,
        cost_estimate=row.cost_estimate if row is not None else Decimal("0"),
        budget=budget,
        budget_left=max(budget - total, 0) if budget is not None else None,
    )


async def _out(session: AsyncSession, row: AccountAiSettings, *, stored: bool) -> AiSettingsOut:
    return AiSettingsOut(
        provider=AiProvider(row.provider),
        base_url=row.base_url,
        model=row.model,
        vision_model=row.vision_model,
        has_api_key=row.api_key_encrypted is not None,
        api_key_last4=row.api_key_last4,
        temperature=row.temperature,
        language=row.language,
        auto_analyze_inbound=row.auto_analyze_inbound,
        auto_reply=row.auto_reply,
        max_concurrent_analyses=row.max_concurrent_analyses,
        monthly_token_budget=row.monthly_token_budget,
        context_messages=row.context_messages,
        structured_output=StructuredOutput(row.structured_output)
        if row.structured_output
        else None,
        engine="llm" if uses_llm(row) else "deterministic",
        usage=await month_usage(session, row.account_id, row.monthly_token_budget),
        updated_at=row.updated_at if stored else None,
        entity_version=row.entity_version if stored else "0",
    )


async def get_settings_out(session: AsyncSession, ctx: AccountContext) -> AiSettingsOut:
    row = await repository.settings_of(session, ctx.account_id)
    if row is None:
        return await _out(session, default_settings(ctx.account_id), stored=False)
    return await _out(session, row, stored=True)


async def _check_endpoint(base_url: str) -> None:
    try:
        await check_url(base_url, endpoint_policy(get_settings()), subject="AI endpoints")
    except UnsafeUrl as exc:
        raise UnsafeAiEndpoint(f"This base URL cannot be used: {exc}") from None


# Settings a PUT may set to null (the rest keep their value when sent null).
_NULLABLE = frozenset({"base_url", "vision_model", "monthly_token_budget"})


class _Unsaved:
    """Settings never saved: the defaults, at version "0"."""

    entity_version = "0"


async def _stored_or_new(
    session: AsyncSession, account_id: uuid.UUID, expected_version: str | None
) -> tuple[AccountAiSettings, bool]:
    row = await repository.settings_of(session, account_id, lock=True)
    check_version(row if row is not None else _Unsaved(), expected_version)
    if row is None:
        return default_settings(account_id), True
    return row, False


async def update_settings(
    session: AsyncSession,
    ctx: AccountContext,
    body: AiSettingsUpdate,
    expected_version: str | None,
) -> AiSettingsOut:
    row, new = await _stored_or_new(session, ctx.account_id, expected_version)
    changes = body.model_dump(exclude_unset=True, exclude={"entity_version", "api_key"})
    endpoint_before = (row.provider, row.base_url)
    for name, value in changes.items():
        if value is None and name not in _NULLABLE:
            continue  # null keeps a setting that must have a value
        setattr(row, name, value)
    if row.provider == AiProvider.openai:
        row.base_url = None
    elif not row.base_url:
        raise BaseUrlRequired()
    elif (row.provider, row.base_url) != endpoint_before:
        await _check_endpoint(row.base_url)
    if body.api_key is not None:
        row.api_key_encrypted = secret_box(get_settings()).encrypt(body.api_key)
        row.api_key_last4 = body.api_key[-4:]
    if (row.provider, row.base_url) != endpoint_before:
        row.structured_output = None  # another endpoint: what it supports is unknown again
        if body.api_key is None and not new:
            # A key belongs to its endpoint: an OpenAI key must not go to the new address.
            row.api_key_encrypted = None
            row.api_key_last4 = None
    if new:
        session.add(row)
    await session.flush()
    return await _out(session, row, stored=True)


async def delete_api_key(session: AsyncSession, ctx: AccountContext) -> AiSettingsOut:
    """The key is gone and automation is off (automatic analysis and replies); turning
    analysis back on without a key runs the deterministic analyser."""
    row, new = await _stored_or_new(session, ctx.account_id, None)
    row.api_key_encrypted = None
    row.api_key_last4 = None
    row.auto_analyze_inbound = False
    row.auto_reply = False
    if new:
        session.add(row)
    await session.flush()
    return await _out(session, row, stored=True)


class ConnectionCheck(BaseModel):
    """The smallest structured answer: proves the model answers and follows a schema."""

    model_config = ConfigDict(extra="forbid")

    ok: bool


def _test_error(error: ProviderError) -> AppError:
    if isinstance(error, ProviderAuthFailed):
        return AiKeyRejected(f"The provider rejected the API key: {error.message}")
    if isinstance(error, ProviderRateLimited):
        wait = error.retry_after
        return AiProviderRateLimited(
            f"The provider is rate limiting this key: {error.message}",
            headers={"Retry-After": str(max(int(wait + 0.999), 1))} if wait is not None else None,
        )
    if isinstance(error, TargetRefused):
        return UnsafeAiEndpoint(f"This base URL cannot be used: {error.message}")
    if isinstance(error, ProviderUnavailable):
        return AiProviderUnavailable(f"The AI endpoint did not answer: {error.message}")
    if isinstance(error, ProviderQuotaExceeded | ProviderRejected):
        return AiRequestRejected(f"The provider refused the request: {error.message}")
    return AiProviderUnavailable(error.message)


async def test_settings(
    session: AsyncSession, ctx: AccountContext, body: SettingsTest
) -> SettingsTestResult:
    """One real call (a tiny structured answer) with the saved settings, or the ones given."""
    stored = await repository.settings_of(session, ctx.account_id)
    current = stored or default_settings(ctx.account_id)
    provider = body.provider or AiProvider(current.provider)
    same_endpoint = provider == current.provider and body.base_url is None
    base_url = body.base_url if body.base_url is not None else current.base_url
    if provider == AiProvider.openai:
        base_url = None
    api_key = body.api_key or (stored_api_key(current) if same_endpoint else None)
    model = body.model or current.model
    if provider == AiProvider.openai and not api_key:
        raise ApiKeyRequired()
    if provider == AiProvider.openai_compatible:
        if not base_url:
            raise BaseUrlRequired()
        await _check_endpoint(base_url)
    config_ = get_settings()
    llm = OpenAICompatibleProvider(
        provider_config(
            provider, base_url, api_key, timeout=config_.ai.test_timeout_seconds, settings=config_
        )
    )
    messages = [
        {"role": "system", "content": "This is a connection test. Answer with ok = true."},
        {"role": "user", "content": "ping"},
    ]
    endpoint = config_.ai.openai_base_url if provider == AiProvider.openai else str(base_url)
    try:
        checked = await complete_json(
            llm, model_name=model, messages=messages, output=ConnectionCheck, temperature=None
        )
    except (ModelNotFound, ProviderRefusal, InvalidOutput) as error:
        # The endpoint and the key work; the model is missing, or did not answer as asked.
        missing = isinstance(error, ModelNotFound)
        return SettingsTestResult(
            provider=provider,
            base_url=endpoint,
            model=model,
            model_available=not missing,
            structured_output=False,
            mode=None,
            latency_ms=0,
            response_id=None,
            message=(
                "The endpoint answered, but not for this model: "
                if missing
                else "The model answered but not with the JSON asked for: "
            )
            + error.message,
        )
    except ProviderError as error:
        raise _test_error(error) from None
    if stored is not None and same_endpoint and body.model in (None, stored.model):
        await repository.record_structured_output(session, ctx.account_id, checked.mode)
    schema = checked.mode is StructuredOutput.json_schema
    return SettingsTestResult(
        provider=provider,
        base_url=endpoint,
        model=model,
        model_available=True,
        structured_output=schema,
        mode=checked.mode,
        latency_ms=checked.latency_ms,
        response_id=checked.final.response_id,
        message="The model answered with structured output."
        if schema
        else "The model answered in JSON mode: this endpoint does not enforce JSON schemas, "
        "answers are validated and repaired once when they do not fit.",
    )
