"""WhatsApp Web gateway adapters (Evolution API v2, WAHA): HTTP calls and webhook parsing."""

from ticaret.wa.gateways.base import (
    WEBHOOK_SECRET_HEADER,
    GatewayConfig,
    MediaInput,
    MessageRef,
    Pairing,
    SentMessage,
    WhatsAppGateway,
)
from ticaret.wa.gateways.errors import (
    GatewayError,
    GatewayNotFound,
    GatewayRejected,
    GatewayUnavailable,
    GatewayUnsupported,
)
from ticaret.wa.gateways.media import MediaStream
from ticaret.wa.gateways.normalized import SessionState, SessionStatus
from ticaret.wa.gateways.registry import gateway_for, providers, register_gateway

__all__ = [
    "WEBHOOK_SECRET_HEADER",
    "GatewayConfig",
    "GatewayError",
    "GatewayNotFound",
    "GatewayRejected",
    "GatewayUnavailable",
    "GatewayUnsupported",
    "MediaInput",
    "MediaStream",
    "MessageRef",
    "Pairing",
    "SentMessage",
    "SessionState",
    "SessionStatus",
    "WhatsAppGateway",
    "gateway_for",
    "providers",
    "register_gateway",
]
