"""Event types of accounts, their members and their API accounts."""

from __future__ import annotations

import uuid

from ticaret.core.events import EventPayload, event_type
from ticaret.models import Role


class AccountCreated(EventPayload):
    account_id: uuid.UUID
    name: str


class MemberAdded(EventPayload):
    user_id: uuid.UUID
    email: str
    role: Role
    invited: bool


class MemberRoleChanged(EventPayload):
    user_id: uuid.UUID
    previous_role: Role
    role: Role


class MemberRemoved(EventPayload):
    user_id: uuid.UUID
    role: Role


class ApiAccountCreated(EventPayload):
    api_account_id: uuid.UUID
    name: str
    role: Role


class ApiAccountRef(EventPayload):
    api_account_id: uuid.UUID


ACCOUNT_CREATED = event_type(
    "account.created", "An account was created; its creator is its owner.", AccountCreated
)
MEMBER_ADDED = event_type(
    "account.user.added",
    "A user joined the account (`invited`: a new user was sent an invitation).",
    MemberAdded,
)
MEMBER_ROLE_CHANGED = event_type(
    "account.user.role_changed", "A member's role changed.", MemberRoleChanged
)
MEMBER_REMOVED = event_type(
    "account.user.removed", "A user was removed from the account.", MemberRemoved
)
API_ACCOUNT_CREATED = event_type(
    "api_account.created", "An API account was created (never its secret).", ApiAccountCreated
)
API_ACCOUNT_SECRET_ROTATED = event_type(
    "api_account.secret_rotated",
    "An API account's secret was replaced; the old one stopped working.",
    ApiAccountRef,
)
API_ACCOUNT_REVOKED = event_type(
    "api_account.revoked", "An API account was revoked; its key stopped working.", ApiAccountRef
)
