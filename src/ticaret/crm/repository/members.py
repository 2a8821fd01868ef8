"""Users of the account (active members) as the CRM needs them, and the account's setting."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from asyncpg import Connection
from sqlalchemy import Uuid, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
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


_USER_NAMES_RAW = RawQuery(
    select(User.id, User.name).where(User.id == any_(bindparam("ids", type_=ARRAY(Uuid()))))
)


async def user_names_raw(conn: Connection, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """`users_by_id`, names only, outside a transaction."""
    if not user_ids:
        return {}
    rows = await _USER_NAMES_RAW.fetch(conn, ids=list(set(user_ids)))
    return {row["id"]: row["name"] for row in rows}
