"""SQL of the channel rows a batch of message events names, for the mirror job (by primary
key: the ids come from events we emitted; the events carry the account)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import WaMessage, WaSession


async def messages_by_pk(
    session: AsyncSession, message_pks: Collection[uuid.UUID]
) -> dict[uuid.UUID, WaMessage]:
    if not message_pks:
        return {}
    query = select(WaMessage).where(WaMessage.id.in_(list(message_pks)))
    return {row.id: row for row in await session.scalars(query)}


async def sessions_by_id(
    session: AsyncSession, session_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, WaSession]:
    if not session_ids:
        return {}
    query = select(WaSession).where(WaSession.id.in_(list(session_ids)))
    return {row.id: row for row in await session.scalars(query)}
