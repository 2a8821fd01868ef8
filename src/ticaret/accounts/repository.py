"""SQL for accounts, memberships and API accounts; every statement is scoped by account."""

from __future__ import annotations

import uuid

from asyncpg import Connection, Record
from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.models import Account, ApiAccount, Membership, MembershipStatus, Role, User


def _accounts_of_user(user_id: uuid.UUID) -> Select[Account, Role]:
    return (
        select(Account, Membership.role)
        .join(Membership, Membership.account_id == Account.id)
        .where(
            Membership.user_id == user_id,
            Membership.status == MembershipStatus.active,
            Account.deleted_at.is_(None),
        )
    )


# GET /accounts is the hottest authenticated read: statements built once, plain rows out.
_ACCOUNT_ROW = (Account.id, Account.name, Account.created_at, Account.updated_at, Account.version)
_ACCOUNTS_OF_USER = (
    select(*_ACCOUNT_ROW, Membership.role)
    .join(Membership, Membership.account_id == Account.id)
    .where(
        Membership.user_id == bindparam("user_id"),
        Membership.status == MembershipStatus.active,
        Account.deleted_at.is_(None),
    )
    .order_by(Account.id.desc())
    .limit(bindparam("limit"))
)
_ACCOUNTS_OF_USER_AFTER = RawQuery(_ACCOUNTS_OF_USER.where(Account.id < bindparam("after")))
_ACCOUNTS_OF_USER_FIRST = RawQuery(_ACCOUNTS_OF_USER)
_ACCOUNT_BY_ID = RawQuery(
    select(*_ACCOUNT_ROW).where(Account.id == bindparam("account_id"), Account.deleted_at.is_(None))
)


async def account_rows_of_user(
    conn: Connection, user_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[Record]:
    """(id, name, created_at, updated_at, version, role) of the user's accounts, newest first;
    `limit + 1` rows so the caller knows whether there is more."""
    if after is None:
        return await _ACCOUNTS_OF_USER_FIRST.fetch(conn, user_id=user_id, limit=limit + 1)
    return await _ACCOUNTS_OF_USER_AFTER.fetch(conn, user_id=user_id, limit=limit + 1, after=after)


async def account_row(conn: Connection, account_id: uuid.UUID) -> Record | None:
    """(id, name, created_at, updated_at, version) of a live account."""
    return await _ACCOUNT_BY_ID.fetchrow(conn, account_id=account_id)


async def accounts_page(
    session: AsyncSession, user_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[tuple[Account, Role]]:
    stmt = _accounts_of_user(user_id)
    if after is not None:
        stmt = stmt.where(Account.id < after)
    rows = await session.execute(stmt.order_by(Account.id.desc()).limit(limit + 1))
    return list(rows.tuples())


async def account(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.scalar(
        select(Account).where(Account.id == account_id, Account.deleted_at.is_(None))
    )


async def members_page(
    session: AsyncSession, account_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[tuple[Membership, User]]:
    stmt = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.account_id == account_id)
    )
    if after is not None:
        stmt = stmt.where(Membership.id < after)
    rows = await session.execute(stmt.order_by(Membership.id.desc()).limit(limit + 1))
    return list(rows.tuples())


async def member(
    session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Membership, User] | None:
    stmt = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.account_id == account_id, Membership.user_id == user_id)
    )
    if for_update:
        stmt = stmt.with_for_update(of=Membership)
    row = (await session.execute(stmt)).tuples().first()
    return row


async def lock_owner_ids(session: AsyncSession, account_id: uuid.UUID) -> list[uuid.UUID]:
    """Owners of the account, locked so two concurrent demotions cannot both pass the check."""
    rows = await session.scalars(
        select(Membership.user_id)
        .where(
            Membership.account_id == account_id,
            Membership.role == Role.owner,
            # An invited owner is not an owner yet.
            Membership.status == MembershipStatus.active,
        )
        .with_for_update()
    )
    return list(rows)


async def api_accounts_page(
    session: AsyncSession, account_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[ApiAccount]:
    stmt = select(ApiAccount).where(ApiAccount.account_id == account_id)
    if after is not None:
        stmt = stmt.where(ApiAccount.id < after)
    rows = await session.scalars(stmt.order_by(ApiAccount.id.desc()).limit(limit + 1))
    return list(rows)


async def api_account(
    session: AsyncSession, account_id: uuid.UUID, api_account_id: uuid.UUID
) -> ApiAccount | None:
    return await session.scalar(
        select(ApiAccount)
        .where(ApiAccount.account_id == account_id, ApiAccount.id == api_account_id)
        .with_for_update()
    )
