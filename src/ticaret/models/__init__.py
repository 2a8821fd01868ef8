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

__all__ = [
    "Account",
    "ApiAccount",
    "Base",
    "Event",
    "Membership",
    "OutgoingEmail",
    "PasswordToken",
    "Role",
    "TokenPurpose",
    "User",
]
