"""Build the gateway adapter for a stored session (credentials decrypted only here)."""

from __future__ import annotations

from ticaret.core.http import get_http_client, guarded_client
from ticaret.core.security import secret_box
from ticaret.models import WaSession
from ticaret.settings import get_settings
from ticaret.wa.gateways import GatewayConfig, WhatsAppGateway, gateway_for
from ticaret.wa.gateways.addresses import gateway_policy


def webhook_url(provider_session_id: str) -> str:
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/wa/provider-events/{provider_session_id}"


def webhook_secret(wa_session: WaSession) -> str:
    return secret_box(get_settings()).decrypt(wa_session.webhook_secret_encrypted)


def session_gateway(wa_session: WaSession, *, timeout: float | None = None) -> WhatsAppGateway:
    """The adapter for a stored session. Its HTTP client is the SSRF-guarded one: the base URL
    is the tenant's choice, and every connection is checked against the operator's policy."""
    settings = get_settings()
    box = secret_box(settings)
    api_key = box.decrypt(wa_session.api_key_encrypted) if wa_session.api_key_encrypted else None
    config = GatewayConfig(
        base_url=wa_session.base_url or "sandbox://local",
        api_key=api_key,
        instance=wa_session.provider_session_id,
        webhook_url=webhook_url(wa_session.provider_session_id),
        webhook_secret=box.decrypt(wa_session.webhook_secret_encrypted),
        timeout=timeout or 15.0,
        media_hosts=frozenset(h.strip().lower() for h in settings.wa.media_hosts),
    )
    return gateway_for(wa_session.provider, guarded_client(gateway_policy(settings)), config)


_parsers: dict[str, WhatsAppGateway] = {}


def parser_for(provider: str) -> WhatsAppGateway:
    """An adapter that only reads webhooks (verify with a given secret, key, sanitize, parse):
    no credentials, no calls; one per provider per process."""
    gateway = _parsers.get(provider)
    if gateway is None:
        config = GatewayConfig(
            base_url="http://parser.invalid",
            api_key=None,
            instance="",
            webhook_url="",
            webhook_secret="",
        )
        gateway = gateway_for(provider, get_http_client(), config)
        _parsers[provider] = gateway
    return gateway
