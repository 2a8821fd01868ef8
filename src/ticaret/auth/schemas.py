from __future__ import annotations

import uuid
from typing import Literal

from pydantic import EmailStr, Field

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.models import Role

Password = Field(min_length=8, max_length=128, description="8 to 128 characters.")


class RegisterRequest(ApiModel):
    email: EmailStr
    password: str = Password
    name: str = Field(min_length=1, max_length=200)
    account_name: str | None = Field(default=None, min_length=1, max_length=200)


class LoginRequest(ApiModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)


class ForgotPasswordRequest(ApiModel):
    email: EmailStr


class ResetPasswordRequest(ApiModel):
    token: str = Field(min_length=10, max_length=200)
    password: str = Password


class VerifyEmailRequest(ApiModel):
    token: str = Field(min_length=10, max_length=200)


class RefreshRequest(ApiModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class LogoutRequest(ApiModel):
    refresh_token: str | None = Field(
        default=None,
        min_length=10,
        max_length=200,
        description="Also end the session this refresh token belongs to.",
    )


class UserOut(ResponseModel):
    id: uuid.UUID
    email: str
    name: str
    email_verified_at: Timestamp | None = Field(
        description="When the address was confirmed with a mailed token; accepting invitations "
        "needs it."
    )
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class MembershipOut(ResponseModel):
    account_id: uuid.UUID
    account_name: str
    role: Role


class TokenPair(ResponseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(
        description="Single use: POST /auth/refresh returns a new pair and retires this one."
    )
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires.")


class LoginResponse(TokenPair):
    user: UserOut
    accounts: list[MembershipOut]


class InvitationOut(ResponseModel):
    id: uuid.UUID = Field(description="Invitation (membership) id.")
    account_id: uuid.UUID
    account_name: str
    role: Role
    invited_at: Timestamp


class ApiAccountPrincipalOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    name: str
    role: Role


class MeResponse(ResponseModel):
    principal_type: Literal["user", "api_account"]
    user: UserOut | None = None
    api_account: ApiAccountPrincipalOut | None = None
    accounts: list[MembershipOut]


class Acknowledged(ResponseModel):
    ok: bool = True
    message: str
