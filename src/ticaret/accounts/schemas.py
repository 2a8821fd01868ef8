from __future__ import annotations

import uuid
from typing import Literal

from pydantic import EmailStr, Field

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.models import Role


class AccountCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200)


class AccountOut(ResponseModel):
    id: uuid.UUID
    name: str
    role: Role = Field(description="The caller's role in this account.")
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class AccountSettingsOut(ResponseModel):
    account_id: uuid.UUID
    default_phone_region: str | None = Field(
        description="ISO 3166 region that phone numbers without a country code are read in."
    )
    phone_region: str = Field(description="The region in effect (TR when none is set).")
    entity_version: str = Field(description="The account's.")


class AccountSettingsUpdate(ApiModel):
    default_phone_region: str | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="An ISO 3166 region such as TR or DE; null goes back to TR.",
    )
    entity_version: str | None = None


class MemberAdd(ApiModel):
    email: EmailStr
    name: str | None = Field(default=None, max_length=200)
    role: Role


class MemberUpdate(ApiModel):
    role: Role
    entity_version: str | None = None


class MemberOut(ResponseModel):
    id: uuid.UUID = Field(description="Membership id.")
    account_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    role: Role
    invitation_pending: bool = Field(description="True until the user sets a password.")
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class ApiAccountCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.agent


class ApiAccountOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    name: str
    role: Role
    key: str = Field(description="Public key, sent as x-api-key.")
    secret_last4: str
    status: Literal["active", "revoked"]
    last_used_at: Timestamp | None
    secret_rotated_at: Timestamp | None
    revoked_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class ApiAccountWithSecret(ApiAccountOut):
    secret: str = Field(description="Shown once: store it now, it cannot be read again.")
