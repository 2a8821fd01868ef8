"""Sessions and their shares."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from asyncpg import Connection, Record
from sqlalchemy import BindParameter, bindparam, delete, exists, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.core.ids import new_id
from ticaret.models import WaSession, WaSessionShare


def _visible_to(account_id: uuid.UUID | BindParameter[Any]) -> Any:
    shared = exists().where(
        WaSessionShare.session_id == WaSession.id, WaSessionShare.account_id == account_id
    )
    return or_(WaSession.account_id == account_id, shared)


async def accessible_session(
    session: AsyncSession, account_id: uuid.UUID, provider_session_id: str
) -> WaSession | None:
    """The session, if it is the account's own or shared with it."""
    return await session.scalar(
        select(WaSession).where(
            WaSession.provider_session_id == provider_session_id,
            WaSession.deleted_at.is_(None),
            _visible_to(account_id),
        )
    )


async def first_accessible_sessions(
    session: AsyncSession, account_id: uuid.UUID, limit: int
) -> list[WaSession]:
    return list(
        await session.scalars(
            select(WaSession)
            .where(WaSession.deleted_at.is_(None), _visible_to(account_id))
            .limit(limit)
        )
    )


async def sessions_page(
    session: AsyncSession, account_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[WaSession]:
    stmt = select(WaSession).where(WaSession.deleted_at.is_(None), _visible_to(account_id))
    if after is not None:
        stmt = stmt.where(WaSession.id < after)
    return list(await session.scalars(stmt.order_by(WaSession.id.desc()).limit(limit + 1)))


async def live_session_by_provider_id(
    session: AsyncSession, provider_session_id: str
) -> WaSession | None:
    """Not scoped: the gateway calls in with the session's id and proves it with its secret."""
    return await session.scalar(
        select(WaSession).where(
            WaSession.provider_session_id == provider_session_id, WaSession.deleted_at.is_(None)
        )
    )


async def session_by_id(session: AsyncSession, session_id: uuid.UUID) -> WaSession | None:
    """For jobs, by primary key."""
    return await session.get(WaSession, session_id)


# Shares -------------------------------------------------------------------------------------


async def account_ids(session: AsyncSession, wa: WaSession) -> list[uuid.UUID]:
    """The owner and every account the session is shared with."""
    shared = await session.scalars(
        select(WaSessionShare.account_id).where(WaSessionShare.session_id == wa.id)
    )
    return [wa.account_id, *shared]


async def shared_with(
    session: AsyncSession, session_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The accounts each session is shared with, in the order they were added."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {session_id: [] for session_id in session_ids}
    if not session_ids:
        return found
    links = await session.execute(
        select(WaSessionShare.session_id, WaSessionShare.account_id)
        .where(WaSessionShare.session_id.in_(session_ids))
        .order_by(WaSessionShare.id)
    )
    for session_id, account_id in links.tuples():
        found[session_id].append(account_id)
    return found


async def add_share(
    session: AsyncSession,
    wa: WaSession,
    account_id: uuid.UUID,
    created_by_type: str,
    created_by_id: str | None,
) -> datetime | None:
    """When the share was created; None when it existed already."""
    return await session.scalar(
        insert(WaSessionShare)
        .values(
            id=new_id(),
            session_id=wa.id,
            account_id=account_id,
            created_by_type=created_by_type,
            created_by_id=created_by_id,
        )
        .on_conflict_do_nothing(constraint="uq_wa_session_shares_session_account")
        .returning(WaSessionShare.created_at)
    )


async def remove_share(session: AsyncSession, wa: WaSession, account_id: uuid.UUID) -> bool:
    removed = await session.execute(
        delete(WaSessionShare)
        .where(WaSessionShare.session_id == wa.id, WaSessionShare.account_id == account_id)
        .returning(WaSessionShare.id)
    )
    return removed.first() is not None


async def remove_all_shares(session: AsyncSession, wa: WaSession) -> None:
    await session.execute(delete(WaSessionShare).where(WaSessionShare.session_id == wa.id))


# Hot lists read outside a transaction: statements compiled once (core.db.RawQuery). ----------

_VISIBLE_RAW = RawQuery(
    select(WaSession.id, WaSession.provider_session_id).where(
        WaSession.provider_session_id == bindparam("provider_session_id"),
        WaSession.deleted_at.is_(None),
        _visible_to(bindparam("account_id")),
    )
)
_FIRST_VISIBLE_RAW = RawQuery(
    select(WaSession.id, WaSession.provider_session_id)
    .where(WaSession.deleted_at.is_(None), _visible_to(bindparam("account_id")))
    .limit(bindparam("limit"))
)


async def visible_session_raw(
    conn: Connection, account_id: uuid.UUID, provider_session_id: str | None
) -> list[Record]:
    """`accessible_session` (or, unnamed, up to two `first_accessible_sessions`): id and
    providerSessionId only."""
    if provider_session_id:
        return await _VISIBLE_RAW.fetch(
            conn, provider_session_id=provider_session_id, account_id=account_id
        )
    return await _FIRST_VISIBLE_RAW.fetch(conn, account_id=account_id, limit=2)
