"""What conversations need to know about AI agents, asked of the agents domain through one
registered lookup (`ticaret.wiring`), so this domain does not import it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.conversations.errors import AgentNotFound

AgentNames = Callable[
    [AsyncSession, uuid.UUID, Collection[uuid.UUID]], Awaitable[dict[uuid.UUID, str]]
]

_names: AgentNames | None = None


def register_agent_names(lookup: AgentNames) -> None:
    global _names
    _names = lookup


async def agent_names(
    session: AsyncSession, account_id: uuid.UUID, agent_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The names of the account's agents among `agent_ids` (deleted or unknown ones absent)."""
    if _names is None or not agent_ids:
        return {}
    return await _names(session, account_id, agent_ids)


async def require_agent(
    session: AsyncSession, account_id: uuid.UUID, agent_id: uuid.UUID | None
) -> None:
    """An agent named in a request must be one of the account's (404 otherwise), once the
    agents domain answers; before it is wired, any id is taken as given."""
    if agent_id is None or _names is None:
        return
    if agent_id not in await _names(session, account_id, [agent_id]):
        raise AgentNotFound()
