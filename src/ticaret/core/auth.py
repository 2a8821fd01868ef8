"""Who is calling (principal), in which account (tenant context), with which role.

One dependency per route resolves all three (`account_context`, `path_account`, or
`authenticate` for routes without an account), reading the credential headers itself. What it
learns from the database is kept in this process for `auth.cache_ttl_seconds` (5 s by default):

* an API key's account, role, secret hash and revocation;
* a user (as `UserRef`) with whether the login session of the token is still open;
* a user's role in an account (only active memberships grant one).

Any change to those rows drops the entries at once, in every process: a flush that touches a
`User`, `AuthSession`, `Membership` or `ApiAccount` (revoke, rotate, role change, removal,
invitation accepted, password reset, logout) and any bulk UPDATE/DELETE of those tables
invalidates after commit through `core.cache` (Redis pub/sub). Should a message be lost, the
TTL is the bound: a revoked key or an ended session stops working within `cache_ttl_seconds`.
On a miss, principal, membership and role come from one query.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Request, routing
from fastapi.security import APIKeyHeader, HTTPBearer
from sqlalchemy import and_, bindparam, event, select, update
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.session import ORMExecuteState

from ticaret.core.cache import MISSING, SharedCache
from ticaret.core.db import DbSession, RawQuery, after_commit, no_transaction
from ticaret.core.errors import AccountRequired, BadRequest, Forbidden, NotFound, Unauthorized
from ticaret.core.events import Actor
from ticaret.core.security import AccessClaims, decode_access_token, token_matches
from ticaret.models import ApiAccount, AuthSession, Membership, MembershipStatus, Role, User
from ticaret.settings import get_settings

# Declared as security schemes so /docs shows the three ways to authenticate (see
# `document_security`: the dependency reads the headers itself, one call instead of three).
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


@dataclass(frozen=True, slots=True)
class UserRef:
    """The calling user as the request knows them (a snapshot, never a row to change)."""

    id: uuid.UUID
    email: str
    name: str
    token_version: int
    email_verified_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @property
    def entity_version(self) -> str:
        return str(self.version)


@dataclass(frozen=True, slots=True)
class ApiAccountInfo:
    """The calling API account (a snapshot; the secret only as its hash)."""

    id: uuid.UUID
    account_id: uuid.UUID
    name: str
    role: Role
    secret_hash: str
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    user: UserRef | None = None
    api_account: ApiAccountInfo | None = None
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


@dataclass(frozen=True, slots=True)
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


# The caches ---------------------------------------------------------------------------------


def _ttl() -> float:
    return float(get_settings().auth.cache_ttl_seconds)


@dataclass(frozen=True, slots=True)
class _UserEntry:
    user: UserRef
    session_open: bool


_api_keys: SharedCache[ApiAccountInfo] = SharedCache("auth_api_keys", ttl=_ttl)
_users: SharedCache[_UserEntry] = SharedCache("auth_users", ttl=_ttl)
# (user id, account id) -> role, None for "no active membership"; (user id, None) -> the
# user's accounts when they have exactly one (None otherwise).
_roles: SharedCache[Role | None] = SharedCache("auth_roles", ttl=_ttl)
_only_accounts: SharedCache[tuple[tuple[uuid.UUID, Role], ...]] = SharedCache(
    "auth_only_account", ttl=_ttl
)
_AUTH_CACHES = (_api_keys, _users, _roles, _only_accounts)

# Decoded access tokens (the signature check is the costly part), until their expiry.
_CLAIMS_MAX = 10_000
_claims: dict[str, tuple[AccessClaims, float]] = {}


def _user_tag(user_id: uuid.UUID | str) -> str:
    return f"user:{user_id}"


def _api_tag(api_account_id: uuid.UUID | str) -> str:
    return f"api_account:{api_account_id}"


def _invalidate(session: Session, tags: set[str]) -> None:
    if not tags:
        return
    listed = sorted(tags)
    for auth_cache in _AUTH_CACHES:
        auth_cache.drop(listed)

    async def _publish() -> None:
        for auth_cache in _AUTH_CACHES:
            await auth_cache.invalidate(listed)

    after_commit(session, _publish)  # type: ignore[arg-type]


@event.listens_for(Session, "after_flush")
def _rows_changed(session: Session, flush: UOWTransaction) -> None:
    """Any flushed change to who may do what drops the cached answers (after commit too)."""
    tags: set[str] = set()
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, User):
            tags.add(_user_tag(row.id))
        elif isinstance(row, AuthSession | Membership):
            tags.add(_user_tag(row.user_id))
        elif isinstance(row, ApiAccount):
            tags.add(_api_tag(row.id))
    _invalidate(session, tags)


_GUARDED_TABLES = frozenset(
    {User.__tablename__, AuthSession.__tablename__, Membership.__tablename__}
    | {ApiAccount.__tablename__}
)


@event.listens_for(Session, "do_orm_execute")
def _bulk_change(state: ORMExecuteState) -> None:
    """A bulk UPDATE/DELETE of those tables (ending every session of a user, say) cannot be
    traced to rows cheaply: every auth entry goes."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _GUARDED_TABLES:
        _invalidate(state.session, {"*"})


# Loading (one query on a miss) --------------------------------------------------------------

_API_ACCOUNT_BY_KEY = RawQuery(
    select(
        ApiAccount.id,
        ApiAccount.account_id,
        ApiAccount.name,
        ApiAccount.role,
        ApiAccount.secret_hash,
        ApiAccount.revoked_at,
        ApiAccount.last_used_at,
    ).where(ApiAccount.key == bindparam("key"))
)

_USER_COLUMNS = (
    User.id,
    User.email,
    User.name,
    User.token_version,
    User.email_verified_at,
    User.created_at,
    User.updated_at,
    User.version,
)


def _user_query(with_session: bool, with_account: bool) -> RawQuery:
    """User (and login session, and role in an account): one statement per shape."""
    statement = select(*_USER_COLUMNS).where(User.id == bindparam("user_id"))
    if with_session:
        statement = statement.add_columns(AuthSession.revoked_at, AuthSession.id).outerjoin(
            AuthSession,
            and_(AuthSession.user_id == User.id, AuthSession.id == bindparam("session_id")),
        )
    if with_account:
        statement = statement.add_columns(Membership.role).outerjoin(
            Membership,
            and_(
                Membership.user_id == User.id,
                Membership.account_id == bindparam("account_id"),
                # An invitation grants nothing until it is accepted.
                Membership.status == MembershipStatus.active,
            ),
        )
    return RawQuery(statement)


_USER_QUERIES = {
    (session, account): _user_query(session, account)
    for session in (False, True)
    for account in (False, True)
}
_ROLE = RawQuery(
    select(Membership.role).where(
        Membership.account_id == bindparam("account_id"),
        Membership.user_id == bindparam("user_id"),
        Membership.status == MembershipStatus.active,
    )
)
_TWO_ACCOUNTS = RawQuery(
    select(Membership.account_id, Membership.role)
    .where(Membership.user_id == bindparam("user_id"), Membership.status == MembershipStatus.active)
    .limit(2)
)
_TOUCH = RawQuery(
    update(ApiAccount)
    .where(ApiAccount.id == bindparam("api_account_id"))
    .values(last_used_at=bindparam("now"))
)


async def _read(query: RawQuery, **params: Any) -> list[tuple[Any, ...]]:
    """A read outside any transaction (auth runs before, and apart from, the request's own)."""
    async with no_transaction() as conn:
        return [tuple(row) for row in await query.fetch(conn, **params)]


def _user_ref(row: tuple[Any, ...]) -> UserRef:
    return UserRef(
        id=row[0],
        email=row[1],
        name=row[2],
        token_version=row[3],
        email_verified_at=row[4],
        created_at=row[5],
        updated_at=row[6],
        version=row[7],
    )


async def _load_user(
    user_id: uuid.UUID, session_id: uuid.UUID | None, account_id: uuid.UUID | None
) -> tuple[_UserEntry | None, Role | None]:
    """User, login session and (when `account_id` is given) role: one query."""
    rows = await _read(
        _USER_QUERIES[(session_id is not None, account_id is not None)],
        user_id=user_id,
        session_id=session_id,
        account_id=account_id,
    )
    if not rows:
        return None, None
    row = rows[0]
    extra: list[Any] = list(row[8:])
    session_open = True
    if session_id is not None:
        revoked_at, found_session = extra[0], extra[1]
        session_open = found_session is not None and revoked_at is None
        extra = extra[2:]
    role = Role(extra[0]) if account_id is not None and extra[0] is not None else None
    return _UserEntry(_user_ref(row), session_open), role


def _decode(token: str) -> AccessClaims | None:
    now = time.time()
    known = _claims.get(token)
    if known is not None and known[1] > now:
        return known[0]
    claims = decode_access_token(get_settings(), token)
    if claims is None:
        return None
    if len(_claims) >= _CLAIMS_MAX:
        _claims.clear()
    expires = claims.issued_at.timestamp() + get_settings().auth.access_token_ttl_seconds
    _claims[token] = (claims, min(expires, now + 60))
    return claims


async def _api_principal(key: str, secret: str) -> Principal:
    ref = _api_keys.get(key)
    if ref is MISSING:
        epoch = _api_keys.epoch
        rows = await _read(_API_ACCOUNT_BY_KEY, key=key)
        if not rows:
            raise Unauthorized("Invalid API key or secret.", code="invalid_api_credentials")
        row = rows[0]
        ref = ApiAccountInfo(
            id=row[0],
            account_id=row[1],
            name=row[2],
            role=Role(row[3]),
            secret_hash=row[4],
            revoked_at=row[5],
            last_used_at=row[6],
        )
        _api_keys.put(key, ref, epoch, tags=[_api_tag(ref.id)])
    assert isinstance(ref, ApiAccountInfo)
    if ref.revoked_at is not None or not token_matches(secret, ref.secret_hash):
        raise Unauthorized("Invalid API key or secret.", code="invalid_api_credentials")
    await _touch(ref)
    return Principal(api_account=ref)


_touched: dict[uuid.UUID, datetime] = {}


async def api_account_context(key: str, secret: str) -> AccountContext:
    """The account of an API key and secret given some other way than the two headers (the
    WhatTalk-compatible routes take them as one Bearer token). Raises Unauthorized."""
    principal = await _api_principal(key, secret)
    assert principal.api_account is not None
    return AccountContext(principal, principal.api_account.account_id, principal.api_account.role)


async def _touch(ref: ApiAccountInfo) -> None:
    now = datetime.now(UTC)
    last = _touched.get(ref.id) or ref.last_used_at
    if last is not None and now - last <= LAST_USED_RESOLUTION:
        return
    _touched[ref.id] = now
    # A plain UPDATE (no version bump) on its own connection, so usage never conflicts with an
    # admin's edit and never drops the cached key.
    async with no_transaction() as conn:
        await _TOUCH.execute(conn, api_account_id=ref.id, now=now)


def _check_user(entry: _UserEntry | None, claims: AccessClaims) -> UserRef:
    if entry is None or not entry.session_open or entry.user.token_version != claims.token_version:
        raise Unauthorized("The access token is no longer valid.", code="invalid_token")
    return entry.user


async def _user_principal(token: str, account_id: uuid.UUID | None = None) -> Principal:
    """The user of an access token; with `account_id`, their role there is cached on the way
    (one query for both on a miss)."""
    claims = _decode(token)
    if claims is None:
        raise Unauthorized("The access token is invalid or expired.", code="invalid_token")
    key = (claims.user_id, claims.session_id)
    entry: _UserEntry | Any | None = _users.get(key)
    if entry is MISSING:
        epoch = _users.epoch
        role_key = (claims.user_id, account_id)
        want_role = account_id is not None and _roles.get(role_key) is MISSING
        role_epoch = _roles.epoch
        loaded, role = await _load_user(
            claims.user_id, claims.session_id, account_id if want_role else None
        )
        entry = loaded
        if loaded is not None:
            tags = [_user_tag(claims.user_id)]
            _users.put(key, loaded, epoch, tags=tags)
            if want_role:
                _roles.put(role_key, role, role_epoch, tags=tags)
    assert entry is None or isinstance(entry, _UserEntry)
    return Principal(user=_check_user(entry, claims), session_id=claims.session_id)


def _header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    return value or None


async def principal_from(request: Request, account_id: uuid.UUID | None = None) -> Principal:
    """The caller of `request` (once per request, however many dependencies ask)."""
    known = request.scope.get("ticaret.principal")
    if isinstance(known, Principal):
        return known
    api_key = _header(request, "x-api-key")
    api_secret = _header(request, "x-api-secret")
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    has_bearer = bool(authorization) and scheme.lower() == "bearer"
    if (api_key or api_secret) and has_bearer:
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
        principal = await _api_principal(api_key, api_secret)
    elif has_bearer and credentials.strip():
        principal = await _user_principal(credentials.strip(), account_id)
    else:
        raise Unauthorized("Authenticate with a Bearer token or x-api-key and x-api-secret.")
    request.scope["ticaret.principal"] = principal
    return principal


async def authenticate(request: Request) -> Principal:
    """Dependency: the caller, user or API account."""
    return await principal_from(request)


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


async def require_user(principal: CurrentPrincipal, session: DbSession) -> User:
    """The calling user as a row of the request's session (for routes that change it)."""
    if principal.user is None:
        raise Forbidden("This endpoint is for users, not API accounts.", code="user_required")
    user = await session.get(User, principal.user.id)
    if user is None:
        raise Unauthorized("The access token is no longer valid.", code="invalid_token")
    return user


CurrentUser = Annotated[User, Depends(require_user)]


# The account a call acts in -----------------------------------------------------------------


async def _role_in(user_id: uuid.UUID, account_id: uuid.UUID) -> Role | None:
    role = _roles.get((user_id, account_id))
    if role is MISSING:
        epoch = _roles.epoch
        rows = await _read(_ROLE, account_id=account_id, user_id=user_id)
        role = Role(rows[0][0]) if rows else None
        _roles.put((user_id, account_id), role, epoch, tags=[_user_tag(user_id)])
    assert role is None or isinstance(role, Role)
    return role


async def _accounts_of(user_id: uuid.UUID) -> tuple[tuple[uuid.UUID, Role], ...]:
    """Up to two of the user's active memberships (one is all that is needed to act)."""
    found = _only_accounts.get(user_id)
    if found is MISSING:
        epoch = _only_accounts.epoch
        rows = await _read(_TWO_ACCOUNTS, user_id=user_id)
        found = tuple((row[0], Role(row[1])) for row in rows)
        _only_accounts.put(user_id, found, epoch, tags=[_user_tag(user_id)])
    assert isinstance(found, tuple)
    return found


async def resolve_account(
    principal: Principal, account_id: uuid.UUID | None, *, from_path: bool
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
        rows = await _accounts_of(principal.user.id)
        if len(rows) != 1:
            raise (
                AccountRequired()
                if rows
                else Forbidden("This user belongs to no account.", code="no_account")
            )
        (only_account, only_role), *_ = rows
        return AccountContext(principal, only_account, only_role)

    role = await _role_in(principal.user.id, account_id)
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


async def account_from(request: Request, *, min_role: Role = Role.viewer) -> AccountContext:
    """The caller and the account of `x-account-id` (or their only one), outside a route."""
    account_id = _parse_account_header(request.headers.get("x-account-id"))
    ctx = await resolve_account(
        await principal_from(request, account_id), account_id, from_path=False
    )
    ctx.require(min_role)
    return ctx


@cache
def account_context(min_role: Role = Role.viewer) -> Callable[..., Awaitable[AccountContext]]:
    """Dependency: the account named by `x-account-id` (or the caller's only one)."""

    async def dependency(
        request: Request,
        x_account_id: Annotated[
            str | None,
            Header(description="Account to act in; optional when the user has one account."),
        ] = None,
    ) -> AccountContext:
        account_id = _parse_account_header(x_account_id)
        principal = await principal_from(request, account_id)
        ctx = await resolve_account(principal, account_id, from_path=False)
        ctx.require(min_role)
        return ctx

    dependency.authenticates = True  # type: ignore[attr-defined]
    return dependency


@cache
def path_account(min_role: Role = Role.viewer) -> Callable[..., Awaitable[AccountContext]]:
    """Dependency: the account in `/accounts/{accountId}/...`."""

    async def dependency(
        request: Request,
        account_id: Annotated[uuid.UUID, Path(alias="accountId")],
    ) -> AccountContext:
        principal = await principal_from(request, account_id)
        ctx = await resolve_account(principal, account_id, from_path=True)
        ctx.require(min_role)
        return ctx

    dependency.authenticates = True  # type: ignore[attr-defined]
    return dependency


authenticate.authenticates = True  # type: ignore[attr-defined]


def _authenticates(dependant: Any) -> bool:
    pending = [dependant]
    while pending:
        dependant = pending.pop()
        if getattr(dependant.call, "authenticates", False):
            return True
        pending.extend(dependant.dependencies)
    return False


def document_security(app: FastAPI) -> None:
    """Show the three credentials on every route that authenticates, as separate security
    dependencies would (the one dependency reads the headers itself)."""
    schemes = (bearer_scheme, api_key_scheme, api_secret_scheme)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        for scheme in schemes:
            components[scheme.scheme_name] = scheme.model.model_dump(
                by_alias=True, exclude_none=True, mode="json"
            )
        for route in routing.iter_route_contexts(app.routes):
            dependant = getattr(route, "dependant", None)
            if not getattr(route, "include_in_schema", False) or not _authenticates(dependant):
                continue
            for method in getattr(route, "methods", None) or ():
                operation = schema.get("paths", {}).get(route.path_format, {}).get(method.lower())
                if operation is not None:
                    operation["security"] = [{scheme.scheme_name: []} for scheme in schemes]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
