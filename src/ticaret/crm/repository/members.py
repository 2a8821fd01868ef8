"""Users of the account (active members) as the CRM needs them, and the account's setting."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import Account, Membership, MembershipStatus, User


async def phone_region(session: AsyncSession, account_id: uuid.UUID) -> str | None:
    return await session.scalar(
        select(Account.default_phone_region).where(Account.id == account_id)
    )


async def members(
    session: AsyncSession, account_id: uuid.UUID, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, User]:
    """The active members among `user_ids`."""
    if not user_ids:
        return {}
    rows = await session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.account_id == account_id,
            Membership.status == MembershipStatus.active,
            User.id.in_(list(user_ids)),
        )
    )
    return {user.id: user for user in rows}


async def users_by_id(
    session: AsyncSession, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, User]:
    """Users named by rows of this account (representatives, watchers), for their names; by
    primary key alone, since the rows were checked against the account when written."""
    if not user_ids:
        return {}
    rows = await session.scalars(select(User).where(User.id.in_(list(set(user_ids)))))
    return {user.id: user for user in rows}
