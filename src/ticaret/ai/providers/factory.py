"""The provider an account's settings describe (its key decrypted only here), and the SSRF
policy its endpoint is reached under."""

from __future__ import annotations

from ticaret.ai.providers.base import LlmProvider, ProviderConfig
from ticaret.ai.providers.openai_compatible import OpenAICompatibleProvider
from ticaret.core.security import secret_box
from ticaret.core.ssrf import OutboundPolicy
from ticaret.models import AccountAiSettings, AiProvider
from ticaret.settings import Settings, get_settings


def endpoint_policy(settings: Settings) -> OutboundPolicy:
    """Public addresses, the configured OpenAI base URL's host, and what the operator allowed
    for self-hosted model servers."""
    config = settings.ai
    return OutboundPolicy.from_entries(
        config.private_endpoint_hosts, allow_private=config.allow_private_endpoints
    ).allowing(config.openai_base_url)


def base_url_of(provider: str, base_url: str | None, settings: Settings) -> str | None:
    if provider == AiProvider.openai:
        return settings.ai.openai_base_url
    return base_url


def provider_config(
    provider: str,
    base_url: str | None,
    api_key: str | None,
    *,
    timeout: float,
    settings: Settings | None = None,
) -> ProviderConfig:
    settings = settings or get_settings()
    url = base_url_of(provider, base_url, settings)
    assert url is not None, "an openai_compatible provider is saved with its base URL"
    return ProviderConfig(
        name=provider,
        base_url=url,
        api_key=api_key,
        timeout=timeout,
        policy=endpoint_policy(settings),
    )


def stored_api_key(row: AccountAiSettings) -> str | None:
    if row.api_key_encrypted is None:
        return None
    return secret_box(get_settings()).decrypt(row.api_key_encrypted)


def uses_llm(row: AccountAiSettings | None) -> bool:
    """Whether analyses go to an LLM: OpenAI with a key, or a compatible endpoint (a local
    model server may need no key). Otherwise the deterministic analyser runs."""
    if row is None:
        return False
    if row.provider == AiProvider.openai:
        return row.api_key_encrypted is not None
    return row.base_url is not None


def provider_for(row: AccountAiSettings, *, timeout: float | None = None) -> LlmProvider:
    settings = get_settings()
    config = provider_config(
        row.provider,
        row.base_url,
        stored_api_key(row),
        timeout=timeout or settings.ai.request_timeout_seconds,
        settings=settings,
    )
    return OpenAICompatibleProvider(config)
