"""Accounts, their members and their API accounts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.accounts import repository
from ticaret.accounts.errors import (
    AccountNotFound,
    AlreadyMember,
    ApiAccountNotFound,
    ApiAccountRevoked,
    LastOwner,
    MemberNotFound,
    OwnerRequired,
    RoleTooHigh,
    UnknownPhoneRegion,
)
from ticaret.accounts.events import (
    API_ACCOUNT_CREATED,
    API_ACCOUNT_REVOKED,
    API_ACCOUNT_SECRET_ROTATED,
    MEMBER_ADDED,
    MEMBER_REMOVED,
    MEMBER_ROLE_CHANGED,
    ApiAccountCreated,
    ApiAccountRef,
    MemberAdded,
    MemberRemoved,
    MemberRoleChanged,
)
from ticaret.accounts.schemas import (
    AccountOut,
    AccountSettingsOut,
    AccountSettingsUpdate,
    ApiAccountOut,
    ApiAccountWithSecret,
    MemberOut,
)
from ticaret.auth import service as auth_service
from ticaret.auth.repository import user_by_email
from ticaret.core import phones
from ticaret.core.auth import AccountContext, ApiAccountInfo, UserRef
from ticaret.core.db import reading
from ticaret.core.envelope import Page, PageParams, build_page, format_timestamp, from_row
from ticaret.core.events import emit
from ticaret.core.ratelimit import limit_attempts
from ticaret.core.security import hash_token, new_api_key, new_api_secret
from ticaret.core.versioning import check_version
from ticaret.models import Account, ApiAccount, Membership, MembershipStatus, Role, User
from ticaret.settings import Settings


def account_out(account: Account, role: Role) -> AccountOut:
    return from_row(AccountOut, account, role=role)


def member_out(membership: Membership, user: User) -> MemberOut:
    return MemberOut(
        id=membership.id,
        account_id=membership.account_id,
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=membership.role,
        invitation_pending=membership.status == MembershipStatus.invited,
        created_at=membership.created_at,
        updated_at=membership.updated_at,
        entity_version=membership.entity_version,
    )


def api_account_out(api_account: ApiAccount) -> ApiAccountOut:
    status = "revoked" if api_account.revoked_at else "active"
    return from_row(ApiAccountOut, api_account, status=status)


def _check_can_grant(ctx: AccountContext, role: Role) -> None:
    # Owners manage owners; an admin can hand out anything up to admin.
    if role == Role.owner and ctx.role != Role.owner:
        raise OwnerRequired()


# Accounts -------------------------------------------------------------------------------


def _account_json(row: Sequence[Any], role: Role) -> dict[str, Any]:
    # AccountOut on the wire (tests/accounts checks the two agree).
    account_id, name, created_at, updated_at, version = row[:5]
    return {
        "id": str(account_id),
        "name": name,
        "role": role.value if isinstance(role, Role) else str(role),
        "createdAt": format_timestamp(created_at),
        "updatedAt": format_timestamp(updated_at),
        "entityVersion": str(version),
    }


async def list_accounts(
    ctx_user: UserRef | None, api_account: ApiAccountInfo | None, page: PageParams
) -> dict[str, Any]:
    """The caller's accounts as `Page[AccountOut]` JSON (read outside any transaction)."""
    async with reading() as conn:
        if api_account is not None:
            row = await repository.account_row(conn, api_account.account_id)
            rows = [_account_json(row, api_account.role)] if row else []
            return {"rows": rows, "nextCursor": None, "hasMore": False}
        assert ctx_user is not None
        fetched = await repository.account_rows_of_user(
            conn, ctx_user.id, page.after_id(), page.limit
        )
    kept, cursor, more = build_page(fetched, page.limit, lambda r: [r[0]])
    return {
        "rows": [_account_json(row, Role(row[5])) for row in kept],
        "nextCursor": cursor,
        "hasMore": more,
    }


async def create_account(session: AsyncSession, user: User, name: str) -> AccountOut:
    account = await auth_service.create_account_with_owner(session, user, name)
    return account_out(account, Role.owner)


# Members --------------------------------------------------------------------------------


async def list_members(
    session: AsyncSession, ctx: AccountContext, page: PageParams
) -> Page[MemberOut]:
    fetched = await repository.members_page(session, ctx.account_id, page.after_id(), page.limit)
    kept, cursor, more = build_page(fetched, page.limit, lambda r: [r[0].id])
    return Page[MemberOut](
        rows=[member_out(m, u) for m, u in kept], next_cursor=cursor, has_more=more
    )


async def add_member(
    session: AsyncSession,
    settings: Settings,
    ctx: AccountContext,
    *,
    email: str,
    name: str | None,
    role: Role,
) -> MemberOut:
    _check_can_grant(ctx, role)
    account = await repository.account(session, ctx.account_id)
    if account is None:
        raise AccountNotFound()
    user = await user_by_email(session, email)
    if user is not None and await repository.member(session, ctx.account_id, user.id) is not None:
        raise AlreadyMember()
    # Someone who has signed in is linked at once; an address nobody has signed in with gets an
    # invitation email (and a membership that grants nothing until it is accepted).
    invited = user is None or user.password_hash is None
    if invited:
        # Each invitation mails a stranger: an account must not become a mail cannon.
        await limit_attempts(
            "invitations",
            str(ctx.account_id),
            limit=settings.auth.invitations_per_hour,
            window_seconds=3600,
        )
    if user is None:
        user = User(email=email, name=name or email.split("@", 1)[0], password_hash=None)
        session.add(user)
        await session.flush()
    membership = Membership(
        account_id=ctx.account_id,
        user_id=user.id,
        role=role,
        status=MembershipStatus.invited if invited else MembershipStatus.active,
    )
    session.add(membership)
    await session.flush()
    if invited:
        inviter = ctx.principal.user.name if ctx.principal.user else "An integration"
        await auth_service.send_invitation(
            session,
            settings,
            user=user,
            account=account,
            membership=membership,
            inviter=inviter or "A teammate",
        )
    emit(
        session,
        MEMBER_ADDED,
        MemberAdded(user_id=user.id, email=user.email, role=role, invited=invited),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    return member_out(membership, user)


async def _member_or_404(
    session: AsyncSession, ctx: AccountContext, user_id: uuid.UUID
) -> tuple[Membership, User]:
    found = await repository.member(session, ctx.account_id, user_id, for_update=True)
    if found is None:
        raise MemberNotFound()
    return found


async def _ensure_other_owner_remains(
    session: AsyncSession, ctx: AccountContext, user_id: uuid.UUID
) -> None:
    owners = await repository.lock_owner_ids(session, ctx.account_id)
    if [o for o in owners if o != user_id] == []:
        raise LastOwner()


async def change_role(
    session: AsyncSession,
    ctx: AccountContext,
    user_id: uuid.UUID,
    role: Role,
    entity_version: str | None,
) -> MemberOut:
    membership, user = await _member_or_404(session, ctx, user_id)
    check_version(membership, entity_version)
    if membership.role == role:
        return member_out(membership, user)
    _check_can_grant(ctx, role)
    _check_can_grant(ctx, membership.role)
    if membership.role == Role.owner:
        await _ensure_other_owner_remains(session, ctx, user_id)
    previous = membership.role
    membership.role = role
    await session.flush()
    emit(
        session,
        MEMBER_ROLE_CHANGED,
        MemberRoleChanged(user_id=user.id, previous_role=previous, role=role),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    return member_out(membership, user)


async def remove_member(session: AsyncSession, ctx: AccountContext, user_id: uuid.UUID) -> None:
    membership, user = await _member_or_404(session, ctx, user_id)
    _check_can_grant(ctx, membership.role)
    if membership.role == Role.owner:
        await _ensure_other_owner_remains(session, ctx, user_id)
    await session.delete(membership)
    await session.flush()
    emit(
        session,
        MEMBER_REMOVED,
        MemberRemoved(user_id=user.id, role=membership.role),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )


# API accounts ---------------------------------------------------------------------------


async def list_api_accounts(
    session: AsyncSession, ctx: AccountContext, page: PageParams
) -> Page[ApiAccountOut]:
    fetched = await repository.api_accounts_page(
        session, ctx.account_id, page.after_id(), page.limit
    )
    kept, cursor, more = build_page(fetched, page.limit, lambda a: [a.id])
    return Page[ApiAccountOut](
        rows=[api_account_out(a) for a in kept], next_cursor=cursor, has_more=more
    )


def _with_secret(api_account: ApiAccount, secret: str) -> ApiAccountWithSecret:
    status = "revoked" if api_account.revoked_at else "active"
    return from_row(ApiAccountWithSecret, api_account, status=status, secret=secret)


async def create_api_account(
    session: AsyncSession, ctx: AccountContext, *, name: str, role: Role
) -> ApiAccountWithSecret:
    # A credential can never hold more power than whoever minted it.
    if not ctx.role.at_least(role):
        raise RoleTooHigh("You cannot create an API account above your own role.")
    secret = new_api_secret()
    api_account = ApiAccount(
        account_id=ctx.account_id,
        name=name,
        role=role,
        key=new_api_key(),
        secret_hash=hash_token(secret),
        secret_last4=secret[-4:],
        created_by_user_id=ctx.principal.user_id,
    )
    session.add(api_account)
    await session.flush()
    emit(
        session,
        API_ACCOUNT_CREATED,
        ApiAccountCreated(api_account_id=api_account.id, name=name, role=role),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    return _with_secret(api_account, secret)


async def _api_account_or_404(
    session: AsyncSession, ctx: AccountContext, api_account_id: uuid.UUID
) -> ApiAccount:
    api_account = await repository.api_account(session, ctx.account_id, api_account_id)
    if api_account is None:
        raise ApiAccountNotFound()
    if not ctx.role.at_least(api_account.role):
        raise RoleTooHigh("This API account has a higher role than yours.")
    return api_account


async def rotate_secret(
    session: AsyncSession, ctx: AccountContext, api_account_id: uuid.UUID
) -> ApiAccountWithSecret:
    api_account = await _api_account_or_404(session, ctx, api_account_id)
    if api_account.revoked_at is not None:
        raise ApiAccountRevoked()
    secret = new_api_secret()
    # The old hash is replaced in the same transaction: the old secret fails from commit on.
    api_account.secret_hash = hash_token(secret)
    api_account.secret_last4 = secret[-4:]
    api_account.secret_rotated_at = datetime.now(UTC)
    await session.flush()
    emit(
        session,
        API_ACCOUNT_SECRET_ROTATED,
        ApiAccountRef(api_account_id=api_account.id),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    return _with_secret(api_account, secret)


async def revoke(
    session: AsyncSession, ctx: AccountContext, api_account_id: uuid.UUID
) -> ApiAccountOut:
    api_account = await _api_account_or_404(session, ctx, api_account_id)
    if api_account.revoked_at is None:
        api_account.revoked_at = datetime.now(UTC)
        await session.flush()
        emit(
            session,
            API_ACCOUNT_REVOKED,
            ApiAccountRef(api_account_id=api_account.id),
            account_id=ctx.account_id,
            actor=ctx.actor,
        )
    return api_account_out(api_account)


# Settings ------------------------------------------------------------------------------------


def _settings_out(account: Account) -> AccountSettingsOut:
    return AccountSettingsOut(
        account_id=account.id,
        default_phone_region=account.default_phone_region,
        phone_region=phones.region_or_default(account.default_phone_region),
        entity_version=account.entity_version,
    )


async def _account_or_404(session: AsyncSession, account_id: uuid.UUID) -> Account:
    account = await repository.account(session, account_id)
    if account is None:
        raise AccountNotFound()
    return account


async def get_settings(session: AsyncSession, ctx: AccountContext) -> AccountSettingsOut:
    return _settings_out(await _account_or_404(session, ctx.account_id))


async def update_settings(
    session: AsyncSession,
    ctx: AccountContext,
    body: AccountSettingsUpdate,
    expected_version: str | None,
) -> AccountSettingsOut:
    account = await _account_or_404(session, ctx.account_id)
    check_version(account, expected_version)
    if "default_phone_region" in body.model_fields_set:
        region = body.default_phone_region.upper() if body.default_phone_region else None
        if region is not None and region not in phones.SUPPORTED_REGIONS:
            raise UnknownPhoneRegion(
                details={"fields": [{"path": "defaultPhoneRegion", "message": "unknown region"}]}
            )
        if region != account.default_phone_region:
            account.default_phone_region = region
            await session.flush()
    return _settings_out(account)
