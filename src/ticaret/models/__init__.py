"""All models, imported together so relationships across domains resolve and Alembic sees them."""

from ticaret.models.account import (
    Account,
    ApiAccount,
    Membership,
    OutgoingEmail,
    PasswordToken,
    Role,
    TokenPurpose,
    User,
)
from ticaret.models.base import Base
from ticaret.models.event import Event
from ticaret.models.wa import (
    IdempotencyKey,
    WaChat,
    WaChatLabel,
    WaContact,
    WaInboxEvent,
    WaLabel,
    WaLabelHistory,
    WaMessage,
    WaMessageLabel,
    WaMessageOperation,
    WaSession,
    WaSessionShare,
)
from ticaret.models.webhook import (
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookFanout,
    WebhookStatus,
)

__all__ = [
    "Account",
    "ApiAccount",
    "Base",
    "DeliveryStatus",
    "Event",
    "IdempotencyKey",
    "Membership",
    "OutgoingEmail",
    "PasswordToken",
    "Role",
    "TokenPurpose",
    "User",
    "WaChat",
    "WaChatLabel",
    "WaContact",
    "WaInboxEvent",
    "WaLabel",
    "WaLabelHistory",
    "WaMessage",
    "WaMessageLabel",
    "WaMessageOperation",
    "WaSession",
    "WaSessionShare",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookFanout",
    "WebhookStatus",
]
