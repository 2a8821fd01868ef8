"""Sessions and their shares."""

from __future__ import annotations

import uuid
from typing import Any

from asyncpg import Connection, Record
from sqlalchemy import BindParameter, ScalarSelect, bindparam, delete, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.core.ids import new_id
from ticaret.models import ShareStatus, WaSession, WaSessionShare


def _visible_to(account_id: uuid.UUID | BindParameter[Any]) -> Any:
    # Only an accepted share gives access: an offer changes nothing for its target.
    shared = exists().where(
        WaSessionShare.session_id == WaSession.id,
        WaSessionShare.account_id == account_id,
        WaSessionShare.status == ShareStatus.accepted,
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


# Who shares a session, as one value of the session's own row (see `session_with_accounts`).
_SHARED_WITH = (
    select(func.array_agg(WaSessionShare.account_id))
    .where(
        WaSessionShare.session_id == WaSession.id,
        WaSessionShare.status == ShareStatus.accepted,
    )
    .correlate(WaSession)
    .scalar_subquery()
)


async def session_with_accounts(
    session: AsyncSession, session_id: uuid.UUID
) -> tuple[WaSession | None, list[uuid.UUID]]:
    """`session_by_id` and its `account_ids` in one query (an inbox batch needs both)."""
    row = (
        await session.execute(select(WaSession, _SHARED_WITH).where(WaSession.id == session_id))
    ).first()
    if row is None:
        return None, []
    wa, shared = row
    return wa, [wa.account_id, *(uuid.UUID(str(account)) for account in shared or ())]


# Shares -------------------------------------------------------------------------------------


async def account_ids(session: AsyncSession, wa: WaSession) -> list[uuid.UUID]:
    """The owner and every account that accepted a share of the session."""
    shared = await session.scalars(
        select(WaSessionShare.account_id).where(
            WaSessionShare.session_id == wa.id, WaSessionShare.status == ShareStatus.accepted
        )
    )
    return [wa.account_id, *shared]


async def shares_of(
    session: AsyncSession, session_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[WaSessionShare]]:
    """Every offer of each session (any status), in the order they were made."""
    found: dict[uuid.UUID, list[WaSessionShare]] = {session_id: [] for session_id in session_ids}
    if not session_ids:
        return found
    rows = await session.scalars(
        select(WaSessionShare)
        .where(WaSessionShare.session_id.in_(session_ids))
        .order_by(WaSessionShare.id)
    )
    for share in rows:
        found[share.session_id].append(share)
    return found


async def offer_share(
    session: AsyncSession,
    wa: WaSession,
    account_id: uuid.UUID,
    created_by_type: str,
    created_by_id: str | None,
) -> tuple[WaSessionShare, bool]:
    """The offer to `account_id`, and whether it is new: created, or a declined one made again.
    A pending or accepted share stays as it is."""
    stmt = insert(WaSessionShare).values(
        id=new_id(),
        session_id=wa.id,
        account_id=account_id,
        status=ShareStatus.pending,
        created_by_type=created_by_type,
        created_by_id=created_by_id,
    )
    offered = await session.scalar(
        stmt.on_conflict_do_update(
            constraint="uq_wa_session_shares_session_account",
            set_={
                "status": ShareStatus.pending,
                "created_by_type": stmt.excluded.created_by_type,
                "created_by_id": stmt.excluded.created_by_id,
                "responded_at": None,
                "responded_by_type": None,
                "responded_by_id": None,
                "updated_at": func.now(),
            },
            where=WaSessionShare.status == ShareStatus.declined,
        )
        .returning(WaSessionShare)
        .execution_options(populate_existing=True)
    )
    if offered is not None:
        return offered, True
    existing = await share_for_session(session, wa, account_id)
    assert existing is not None
    return existing, False


async def share_for_session(
    session: AsyncSession, wa: WaSession, account_id: uuid.UUID
) -> WaSessionShare | None:
    return await session.scalar(
        select(WaSessionShare).where(
            WaSessionShare.session_id == wa.id, WaSessionShare.account_id == account_id
        )
    )


async def offers_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    status: ShareStatus | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[tuple[WaSessionShare, WaSession]]:
    """Offers made to the account, of sessions that still exist, newest first."""
    stmt = (
        select(WaSessionShare, WaSession)
        .join(WaSession, WaSession.id == WaSessionShare.session_id)
        .where(WaSessionShare.account_id == account_id, WaSession.deleted_at.is_(None))
    )
    if status is not None:
        stmt = stmt.where(WaSessionShare.status == status)
    if after is not None:
        stmt = stmt.where(WaSessionShare.id < after)
    rows = await session.execute(stmt.order_by(WaSessionShare.id.desc()).limit(limit + 1))
    return [(share, wa) for share, wa in rows.tuples()]


async def offer_for_account(
    session: AsyncSession, account_id: uuid.UUID, share_id: uuid.UUID
) -> tuple[WaSessionShare, WaSession] | None:
    """One offer made to the account (locked), with its live session."""
    row = (
        await session.execute(
            select(WaSessionShare, WaSession)
            .join(WaSession, WaSession.id == WaSessionShare.session_id)
            .where(
                WaSessionShare.id == share_id,
                WaSessionShare.account_id == account_id,
                WaSession.deleted_at.is_(None),
            )
            .with_for_update(of=WaSessionShare)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def remove_share(
    session: AsyncSession, wa: WaSession, account_id: uuid.UUID
) -> WaSessionShare | None:
    """The removed share (any status), or None when there was none."""
    return await session.scalar(
        delete(WaSessionShare)
        .where(WaSessionShare.session_id == wa.id, WaSessionShare.account_id == account_id)
        .returning(WaSessionShare)
    )


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


def visible_session_id(provider_session_id: Any, account_id: Any) -> ScalarSelect[Any]:
    """`_VISIBLE_RAW` as a subquery of another statement: the session's id, NULL when it is
    not visible to the account (provider session ids are unique)."""
    return (
        select(WaSession.id)
        .where(
            WaSession.provider_session_id == provider_session_id,
            WaSession.deleted_at.is_(None),
            _visible_to(account_id),
        )
        .scalar_subquery()
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
