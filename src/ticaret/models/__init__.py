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
    "Membership",
    "OutgoingEmail",
    "PasswordToken",
    "Role",
    "TokenPurpose",
    "User",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookFanout",
    "WebhookStatus",
]
