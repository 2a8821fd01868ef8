"""SQL for the console: who may still open a stream, and the outbox replay (account-scoped)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
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


async def event_seq(session: AsyncSession, account_id: uuid.UUID, event_id: str) -> int | None:
    """The outbox position of one of the account's events (None: unknown, or another's)."""
    return await session.scalar(
        select(Event.seq).where(Event.id == event_id, Event.account_id == account_id)
    )


async def newest_events_after(
    session: AsyncSession,
    account_id: uuid.UUID,
    seq: int,
    *,
    type_prefixes: Sequence[str],
    provider_session_id: str | None,
    limit: int,
) -> list[Event]:
    """The account's events after `seq` that pass the filters, newest first, at most `limit`."""
    stmt = select(Event).where(Event.account_id == account_id, Event.seq > seq)
    if type_prefixes:
        stmt = stmt.where(or_(*(Event.type.startswith(p, autoescape=True) for p in type_prefixes)))
    if provider_session_id is not None:
        stmt = stmt.where(
            or_(
                Event.provider_session_id == provider_session_id,
                Event.data["providerSessionId"].astext == provider_session_id,
            )
        )
    return list(await session.scalars(stmt.order_by(Event.seq.desc()).limit(limit)))
