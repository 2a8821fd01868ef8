"""CRM groups (teams) and their members."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from asyncpg import Connection
from sqlalchemy import Uuid, any_, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.crm.repository import contains_folded
from ticaret.models import CrmGroup, CrmGroupMember, Membership, MembershipStatus, User


async def group(
    session: AsyncSession, account_id: uuid.UUID, group_id: uuid.UUID, *, for_update: bool = False
) -> CrmGroup | None:
    stmt = select(CrmGroup).where(CrmGroup.account_id == account_id, CrmGroup.id == group_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def groups_by_id(
    session: AsyncSession, account_id: uuid.UUID, group_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CrmGroup]:
    if not group_ids:
        return {}
    rows = await session.scalars(
        select(CrmGroup).where(
            CrmGroup.account_id == account_id, CrmGroup.id.in_(list(set(group_ids)))
        )
    )
    return {row.id: row for row in rows}


async def group_named(session: AsyncSession, account_id: uuid.UUID, name: str) -> CrmGroup | None:
    return await session.scalar(
        select(CrmGroup).where(
            CrmGroup.account_id == account_id, func.lower(CrmGroup.name) == name.lower()
        )
    )


async def groups_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    after: uuid.UUID | None,
    limit: int,
    q: str | None = None,
    user_id: uuid.UUID | None = None,
) -> list[CrmGroup]:
    stmt = select(CrmGroup).where(CrmGroup.account_id == account_id)
    if q:
        stmt = stmt.where(contains_folded(CrmGroup.name, q))
    if user_id is not None:
        stmt = stmt.where(
            CrmGroup.id.in_(
                select(CrmGroupMember.group_id).where(
                    CrmGroupMember.account_id == account_id, CrmGroupMember.user_id == user_id
                )
            )
        )
    if after is not None:
        stmt = stmt.where(CrmGroup.id < after)
    return list(await session.scalars(stmt.order_by(CrmGroup.id.desc()).limit(limit + 1)))


def _active_members(account_id: uuid.UUID) -> object:
    return select(Membership.user_id).where(
        Membership.account_id == account_id, Membership.status == MembershipStatus.active
    )


async def member_counts(
    session: AsyncSession, account_id: uuid.UUID, group_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not group_ids:
        return {}
    rows = await session.execute(
        select(CrmGroupMember.group_id, func.count())
        .where(
            CrmGroupMember.account_id == account_id,
            CrmGroupMember.group_id.in_(list(group_ids)),
            CrmGroupMember.user_id.in_(_active_members(account_id)),  # type: ignore[arg-type]
        )
        .group_by(CrmGroupMember.group_id)
    )
    return {group_id: count for group_id, count in rows.tuples()}


async def members(
    session: AsyncSession, account_id: uuid.UUID, group_id: uuid.UUID
) -> list[tuple[CrmGroupMember, User]]:
    """Members still in the account (a user removed from the account drops out)."""
    rows = await session.execute(
        select(CrmGroupMember, User)
        .join(User, User.id == CrmGroupMember.user_id)
        .where(
            CrmGroupMember.account_id == account_id,
            CrmGroupMember.group_id == group_id,
            CrmGroupMember.user_id.in_(_active_members(account_id)),  # type: ignore[arg-type]
        )
        .order_by(CrmGroupMember.created_at, CrmGroupMember.id)
    )
    return [(member, user) for member, user in rows.tuples()]


async def member_ids(
    session: AsyncSession, account_id: uuid.UUID, group_id: uuid.UUID
) -> set[uuid.UUID]:
    return set(
        await session.scalars(
            select(CrmGroupMember.user_id).where(
                CrmGroupMember.account_id == account_id, CrmGroupMember.group_id == group_id
            )
        )
    )


def add_member(
    session: AsyncSession, account_id: uuid.UUID, group_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    session.add(CrmGroupMember(account_id=account_id, group_id=group_id, user_id=user_id))


async def remove_members(
    session: AsyncSession, account_id: uuid.UUID, group_id: uuid.UUID, user_ids: Sequence[uuid.UUID]
) -> int:
    if not user_ids:
        return 0
    result = await session.execute(
        delete(CrmGroupMember).where(
            CrmGroupMember.account_id == account_id,
            CrmGroupMember.group_id == group_id,
            CrmGroupMember.user_id.in_(list(user_ids)),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def groups_of_user(
    session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID
) -> list[uuid.UUID]:
    return list(
        await session.scalars(
            select(CrmGroupMember.group_id).where(
                CrmGroupMember.account_id == account_id, CrmGroupMember.user_id == user_id
            )
        )
    )


async def delete_group(session: AsyncSession, group: CrmGroup) -> None:
    await session.delete(group)


_GROUP_NAMES_RAW = RawQuery(
    select(CrmGroup.id, CrmGroup.name).where(
        CrmGroup.account_id == bindparam("account_id"),
        CrmGroup.id == any_(bindparam("ids", type_=ARRAY(Uuid()))),
    )
)


async def group_names_raw(
    conn: Connection, account_id: uuid.UUID, group_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """`groups_by_id`, names only, outside a transaction."""
    if not group_ids:
        return {}
    rows = await _GROUP_NAMES_RAW.fetch(conn, account_id=account_id, ids=list(set(group_ids)))
    return {row["id"]: row["name"] for row in rows}
