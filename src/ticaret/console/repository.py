"""SQL for the console: who may still open a stream, and the outbox in replay order
(account-scoped)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import literal, literal_column, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import ApiAccount, Event, Membership, Role, User


async def api_account(session: AsyncSession, api_account_id: uuid.UUID) -> ApiAccount | None:
    return await session.get(ApiAccount, api_account_id)


async def user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def member_role(
    session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID
) -> Role | None:
    return await session.scalar(
        select(Membership.role).where(
            Membership.account_id == account_id, Membership.user_id == user_id
        )
    )


# The oldest transaction id still running: every transaction below it has ended, so no event
# can appear any more below it. The stream hands out events only up to this horizon.
HORIZON = "(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"

Position = tuple[int, int]  # (xid, seq): the replay order


async def event_position(
    session: AsyncSession, account_id: uuid.UUID, event_id: str
) -> Position | None:
    """Where one of the account's events is in the replay order (None: unknown, or another's)."""
    row = (
        await session.execute(
            select(Event.xid, Event.seq).where(Event.id == event_id, Event.account_id == account_id)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def tail_position(session: AsyncSession, account_id: uuid.UUID) -> Position:
    """The newest position below the horizon: a stream that starts from now starts here."""
    row = (
        await session.execute(
            select(Event.xid, Event.seq)
            .where(Event.account_id == account_id, Event.xid < literal_column(HORIZON))
            .order_by(Event.xid.desc(), Event.seq.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row is not None else (-1, -1)


def _filtered(stmt: Any, type_prefixes: Sequence[str], provider_session_id: str | None) -> Any:
    if type_prefixes:
        stmt = stmt.where(or_(*(Event.type.startswith(p, autoescape=True) for p in type_prefixes)))
    if provider_session_id is not None:
        stmt = stmt.where(
            or_(
                Event.provider_session_id == provider_session_id,
                Event.data["providerSessionId"].astext == provider_session_id,
            )
        )
    return stmt


async def events_after(
    session: AsyncSession,
    account_id: uuid.UUID,
    after: Position,
    *,
    type_prefixes: Sequence[str],
    provider_session_id: str | None,
    limit: int,
    newest: bool = False,
) -> list[Event]:
    """The account's events after `after` and below the horizon that pass the filters, in
    replay order (`newest`: the last `limit` of them, newest first)."""
    position = tuple_(Event.xid, Event.seq)
    stmt = select(Event).where(
        Event.account_id == account_id,
        position > tuple_(literal(after[0]), literal(after[1])),
        Event.xid < literal_column(HORIZON),
    )
    stmt = _filtered(stmt, type_prefixes, provider_session_id)
    order = (Event.xid.desc(), Event.seq.desc()) if newest else (Event.xid, Event.seq)
    return list(await session.scalars(stmt.order_by(*order).limit(limit)))


async def held_back(
    session: AsyncSession,
    account_id: uuid.UUID,
    after: Position,
    *,
    type_prefixes: Sequence[str],
    provider_session_id: str | None,
) -> bool:
    """Whether events after `after` wait above the horizon (an older transaction still runs)."""
    stmt = select(Event.id).where(
        Event.account_id == account_id,
        tuple_(Event.xid, Event.seq) > tuple_(literal(after[0]), literal(after[1])),
        Event.xid >= literal_column(HORIZON),
    )
    stmt = _filtered(stmt, type_prefixes, provider_session_id)
    return await session.scalar(stmt.limit(1)) is not None
