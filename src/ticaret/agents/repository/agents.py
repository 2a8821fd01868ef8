"""AI agents, each statement scoped by account; a deleted agent is not found."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from asyncpg import Connection
from sqlalchemy import String, any_, bindparam, exists, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.models import AiAgent, Event


async def agent(
    session: AsyncSession, account_id: uuid.UUID, agent_id: uuid.UUID, *, for_update: bool = False
) -> AiAgent | None:
    stmt = select(AiAgent).where(
        AiAgent.account_id == account_id, AiAgent.id == agent_id, AiAgent.deleted_at.is_(None)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def agent_names(
    session: AsyncSession, account_id: uuid.UUID, agent_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The names of the account's live agents among `agent_ids` (what conversations show)."""
    rows = await session.execute(
        select(AiAgent.id, AiAgent.name).where(
            AiAgent.account_id == account_id,
            AiAgent.id.in_(list(agent_ids)),
            AiAgent.deleted_at.is_(None),
        )
    )
    return dict(rows.tuples().all())


async def agents_page(
    session: AsyncSession, account_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
) -> list[AiAgent]:
    stmt = select(AiAgent).where(AiAgent.account_id == account_id, AiAgent.deleted_at.is_(None))
    if after is not None:
        stmt = stmt.where(AiAgent.id < after)
    return list(await session.scalars(stmt.order_by(AiAgent.id.desc()).limit(limit + 1)))


async def answered_channels(
    session: AsyncSession, account_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, set[str]]:
    """For a batch of accounts at once: the channel types some live agent of each answers on
    (an account with no agent is left out)."""
    if not account_ids:
        return {}
    rows = await session.execute(
        select(AiAgent.account_id, AiAgent.channels).where(
            AiAgent.account_id.in_(list(account_ids)), AiAgent.deleted_at.is_(None)
        )
    )
    found: dict[uuid.UUID, set[str]] = {}
    for account_id, channels in rows.tuples():
        types = found.setdefault(account_id, set())
        types.update(str(c.get("type")) for c in channels if isinstance(c, dict))
    return found


async def channel_agents(
    session: AsyncSession, account_id: uuid.UUID, channel_type: str
) -> list[AiAgent]:
    """The account's live agents that answer on some inbox of this channel, oldest first."""
    return list(
        await session.scalars(
            select(AiAgent)
            .where(
                AiAgent.account_id == account_id,
                AiAgent.deleted_at.is_(None),
                AiAgent.channels.contains([{"type": channel_type}]),
            )
            .order_by(AiAgent.id)
        )
    )


# Compiled once, run outside a transaction (core.db.RawQuery): the agent start's first question
# for every relayed commit of conversation messages.
_ANY_EVENT_WITH_AGENTS = RawQuery(
    select(Event.id)
    .where(
        Event.id == any_(bindparam("event_ids", type_=ARRAY(String))),
        exists().where(AiAgent.account_id == Event.account_id, AiAgent.deleted_at.is_(None)),
    )
    .limit(1)
)


async def any_event_of_accounts_with_agents(conn: Connection, event_ids: list[str]) -> bool:
    """Whether any of these events is of an account with a live agent (only those can start
    a run: a message asking for an agent names one of its account's agents)."""
    return bool(await _ANY_EVENT_WITH_AGENTS.fetch(conn, event_ids=event_ids))
