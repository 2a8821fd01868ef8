"""SQL of conversation messages, each statement scoped by account."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import ConversationMessage


async def message(
    session: AsyncSession, account_id: uuid.UUID, message_id: uuid.UUID
) -> ConversationMessage | None:
    query = select(ConversationMessage).where(
        ConversationMessage.account_id == account_id, ConversationMessage.id == message_id
    )
    return (await session.scalars(query)).one_or_none()


async def add(session: AsyncSession, **fields: Any) -> ConversationMessage:
    row = ConversationMessage(**fields)
    session.add(row)
    await session.flush()
    return row


async def add_mirrored(session: AsyncSession, **fields: Any) -> uuid.UUID | None:
    """A channel message's copy, once per account: `None` when it is stored already."""
    return await session.scalar(
        insert(ConversationMessage)
        .values(**fields)
        .on_conflict_do_nothing(
            index_elements=["account_id", "source", "source_message_id"],
            index_where=ConversationMessage.source_message_id.is_not(None),
        )
        .returning(ConversationMessage.id)
    )


async def add_mirrored_many(
    session: AsyncSession, rows: list[dict[str, Any]]
) -> dict[uuid.UUID, ConversationMessage]:
    """A batch of channel messages' copies in one multi-row statement, by id; a message
    stored already (once per account) is not returned."""
    if not rows:
        return {}
    stored = await session.scalars(
        insert(ConversationMessage)
        .on_conflict_do_nothing(
            index_elements=["account_id", "source", "source_message_id"],
            index_where=ConversationMessage.source_message_id.is_not(None),
        )
        .returning(ConversationMessage),
        sorted(rows, key=lambda row: row["id"]),  # one lock order for every batch
    )
    return {row.id: row for row in stored}


async def by_source(
    session: AsyncSession, account_id: uuid.UUID, source: str, source_message_id: uuid.UUID
) -> ConversationMessage | None:
    query = select(ConversationMessage).where(
        ConversationMessage.account_id == account_id,
        ConversationMessage.source == source,
        ConversationMessage.source_message_id == source_message_id,
    )
    return (await session.scalars(query)).one_or_none()


async def page_oldest_first(
    session: AsyncSession,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ConversationMessage]:
    query = select(ConversationMessage).where(
        ConversationMessage.account_id == account_id,
        ConversationMessage.conversation_id == conversation_id,
    )
    if after is not None:
        moment, last_id = after
        query = query.where(
            or_(
                ConversationMessage.created_at > moment,
                and_(ConversationMessage.created_at == moment, ConversationMessage.id > last_id),
            )
        )
    query = query.order_by(ConversationMessage.created_at, ConversationMessage.id).limit(limit)
    return list(await session.scalars(query))


async def recent(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID, limit: int
) -> list[ConversationMessage]:
    """The last `limit` messages, oldest first (what an agent reads as context)."""
    query = (
        select(ConversationMessage)
        .where(
            ConversationMessage.account_id == account_id,
            ConversationMessage.conversation_id == conversation_id,
        )
        .order_by(ConversationMessage.created_at.desc(), ConversationMessage.id.desc())
        .limit(limit)
    )
    return list(reversed(list(await session.scalars(query))))


async def all_oldest_first(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID
) -> list[ConversationMessage]:
    query = (
        select(ConversationMessage)
        .where(
            ConversationMessage.account_id == account_id,
            ConversationMessage.conversation_id == conversation_id,
        )
        .order_by(ConversationMessage.created_at, ConversationMessage.id)
    )
    return list(await session.scalars(query))
