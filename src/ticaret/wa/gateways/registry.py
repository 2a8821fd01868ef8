from __future__ import annotations

import httpx

from ticaret.wa.gateways.base import GatewayConfig, WhatsAppGateway
from ticaret.wa.gateways.evolution import EvolutionGateway
from ticaret.wa.gateways.sandbox import SandboxGateway
from ticaret.wa.gateways.waha import WahaGateway

_GATEWAYS: dict[str, type[WhatsAppGateway]] = {}


def register_gateway(provider: str, gateway_class: type[WhatsAppGateway]) -> None:
    """Make `gateway_for(provider, ...)` build `gateway_class` (e.g. a sandbox gateway)."""
    existing = _GATEWAYS.get(provider)
    if existing is not None and existing is not gateway_class:
        raise ValueError(f"provider {provider!r} is already registered to {existing.__name__}")
    _GATEWAYS[provider] = gateway_class


def providers() -> frozenset[str]:
    return frozenset(_GATEWAYS)


def gateway_for(provider: str, http: httpx.AsyncClient, config: GatewayConfig) -> WhatsAppGateway:
    try:
        gateway_class = _GATEWAYS[provider]
    except KeyError:
        raise ValueError(f"unknown WhatsApp gateway provider {provider!r}") from None
    return gateway_class(http, config)


register_gateway(EvolutionGateway.provider, EvolutionGateway)
register_gateway(WahaGateway.provider, WahaGateway)
register_gateway(SandboxGateway.provider, SandboxGateway)
