"""SQL for accounts, memberships and API accounts; every statement is scoped by account."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

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
