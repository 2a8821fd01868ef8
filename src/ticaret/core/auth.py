"""Who is calling (principal), in which account (tenant context), with which role."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from ticaret.core.db import DbSession
from ticaret.core.errors import AccountRequired, BadRequest, Forbidden, NotFound, Unauthorized
from ticaret.core.events import Actor
from ticaret.core.security import decode_access_token, token_matches
from ticaret.models import ApiAccount, AuthSession, Membership, MembershipStatus, Role, User
from ticaret.settings import get_settings

# Declared as security schemes so /docs shows the three ways to authenticate.
bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="AccessToken", description="Access token from POST /auth/login"
)
api_key_scheme = APIKeyHeader(
    name="x-api-key", auto_error=False, scheme_name="ApiKey", description="API account key"
)
api_secret_scheme = APIKeyHeader(
    name="x-api-secret",
    auto_error=False,
    scheme_name="ApiSecret",
    description="API account secret (shown once)",
)

# Writing lastUsedAt on every call would turn each read into a write; once a minute is plenty.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class Principal:
    user: User | None = None
    api_account: ApiAccount | None = None
    # The login session of a user's access token (None for API accounts and older tokens).
    session_id: uuid.UUID | None = None
    # Ticaret itself acting for the account (the AI's automatic replies): no user, no key.
    service: Actor | None = None

    @classmethod
    def acting_as(cls, actor: Actor) -> Principal:
        return cls(service=actor)

    @property
    def actor(self) -> Actor:
        if self.service is not None:
            return self.service
        if self.api_account is not None:
            return Actor("api_account", str(self.api_account.id))
        assert self.user is not None
        return Actor("user", str(self.user.id))

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.user.id if self.user is not None else None


@dataclass(frozen=True)
class AccountContext:
    principal: Principal
    account_id: uuid.UUID
    role: Role

    @property
    def actor(self) -> Actor:
        return self.principal.actor

    def require(self, role: Role) -> None:
        if not self.role.at_least(role):
            raise Forbidden(
                f"This needs the {role.value} role or higher; you are {self.role.value}.",
                code="insufficient_role",
            )


async def _api_principal(session: AsyncSession, key: str, secret: str) -> Principal:
    api_account = await session.scalar(select(ApiAccount).where(ApiAccount.key == key))
    if (
        api_account is None
        or api_account.revoked_at is not None
        or not token_matches(secret, api_account.secret_hash)
    ):
        raise Unauthorized("Invalid API key or secret.", code="invalid_api_credentials")
    now = datetime.now(UTC)
    if api_account.last_used_at is None or now - api_account.last_used_at > LAST_USED_RESOLUTION:
        # A plain UPDATE (no version bump) so usage never conflicts with an admin's edit.
        await session.execute(
            update(ApiAccount)
            .where(ApiAccount.id == api_account.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        # Reflect it without marking the row dirty: a dirty row would be flushed again with
        # a version check, and concurrent calls with the same key would conflict.
        set_committed_value(api_account, "last_used_at", now)
    return Principal(api_account=api_account)


async def _user_principal(session: AsyncSession, token: str) -> Principal:
    claims = decode_access_token(get_settings(), token)
    if claims is None:
        raise Unauthorized("The access token is invalid or expired.", code="invalid_token")
    if claims.session_id is None:
        user = await session.get(User, claims.user_id)
    else:
        # One round trip: the user and whether their login session is still open.
        row = (
            await session.execute(
                select(User, AuthSession.revoked_at)
                .join(AuthSession, AuthSession.user_id == User.id)
                .where(User.id == claims.user_id, AuthSession.id == claims.session_id)
            )
        ).first()
        user = row[0] if row is not None and row[1] is None else None
    if user is None or user.token_version != claims.token_version:
        raise Unauthorized("The access token is no longer valid.", code="invalid_token")
    return Principal(user=user, session_id=claims.session_id)


async def get_principal(
    session: DbSession,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
    api_secret: Annotated[str | None, Depends(api_secret_scheme)],
) -> Principal:
    if (api_key or api_secret) and bearer is not None:
        # Two identities in one request: picking either would be a guess about who is calling.
        raise BadRequest(
            "Send either a Bearer token or x-api-key and x-api-secret, not both.",
            code="ambiguous_credentials",
        )
    if api_key or api_secret:
        if not (api_key and api_secret):
            raise Unauthorized(
                "Send both x-api-key and x-api-secret.", code="invalid_api_credentials"
            )
        return await _api_principal(session, api_key, api_secret)
    if bearer is not None and bearer.credentials:
        return await _user_principal(session, bearer.credentials)
    raise Unauthorized("Authenticate with a Bearer token or x-api-key and x-api-secret.")


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def require_user(principal: CurrentPrincipal) -> User:
    if principal.user is None:
        raise Forbidden("This endpoint is for users, not API accounts.", code="user_required")
    return principal.user


CurrentUser = Annotated[User, Depends(require_user)]


async def _membership_role(
    session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID
) -> Role | None:
    return await session.scalar(
        select(Membership.role).where(
            Membership.account_id == account_id,
            Membership.user_id == user_id,
            # An invitation grants nothing until it is accepted.
            Membership.status == MembershipStatus.active,
        )
    )


async def resolve_account(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID | None, *, from_path: bool
) -> AccountContext:
    """The account the call acts in, and the caller's role there.

    A path id the caller cannot see is 404 (never reveal it exists); an `x-account-id`
    the caller is no member of is 403.
    """
    if principal.api_account is not None:
        own = principal.api_account.account_id
        if account_id is not None and account_id != own:
            if from_path:
                raise NotFound("Account not found.")
            raise Forbidden("This API key belongs to another account.", code="account_mismatch")
        return AccountContext(principal, own, principal.api_account.role)

    assert principal.user is not None
    if account_id is None:
        rows = (
            await session.execute(
                select(Membership.account_id, Membership.role)
                .where(
                    Membership.user_id == principal.user.id,
                    Membership.status == MembershipStatus.active,
                )
                .limit(2)
            )
        ).all()
        if len(rows) != 1:
            raise (
                AccountRequired()
                if rows
                else Forbidden("This user belongs to no account.", code="no_account")
            )
        return AccountContext(principal, rows[0][0], rows[0][1])

    role = await _membership_role(session, account_id, principal.user.id)
    if role is None:
        if from_path:
            raise NotFound("Account not found.")
        raise Forbidden("You are not a member of this account.", code="not_a_member")
    return AccountContext(principal, account_id, role)


def _parse_account_header(value: str | None) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise BadRequest("x-account-id must be an account id.", code="invalid_account_id") from exc


@cache
def account_context(min_role: Role = Role.viewer) -> Callable[..., Awaitable[AccountContext]]:
    """Dependency: the account named by `x-account-id` (or the caller's only one)."""

    async def dependency(
        session: DbSession,
        principal: CurrentPrincipal,
        x_account_id: Annotated[
            str | None,
            Header(description="Account to act in; optional when the user has one account."),
        ] = None,
    ) -> AccountContext:
        ctx = await resolve_account(
            session, principal, _parse_account_header(x_account_id), from_path=False
        )
        ctx.require(min_role)
        return ctx

    return dependency


@cache
def path_account(min_role: Role = Role.viewer) -> Callable[..., Awaitable[AccountContext]]:
    """Dependency: the account in `/accounts/{accountId}/...`."""

    async def dependency(
        session: DbSession,
        principal: CurrentPrincipal,
        account_id: Annotated[uuid.UUID, Path(alias="accountId")],
    ) -> AccountContext:
        ctx = await resolve_account(session, principal, account_id, from_path=True)
        ctx.require(min_role)
        return ctx

    return dependency


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
