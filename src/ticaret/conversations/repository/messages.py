"""SQL of conversation messages, each statement scoped by account."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
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


# A batch of channel messages' copies: one statement text whatever the batch's size (arrays,
# not a VALUES list per row count), compiled and prepared once. A mirrored copy has no
# attachments or flags, and its content is its one language's text. Rows go in id order: one
# lock order for every batch.
_ADD_MIRRORED_MANY = RawQuery(
    text(
        """
    INSERT INTO conversation_messages (id, account_id, conversation_id, role, sender, content,
        language, text, attachment_ids, flags, customer_id, source, source_message_id,
        actor_type, created_at)
    SELECT m.id, m.account_id, m.conversation_id, m.role, m.sender,
        jsonb_build_object(m.language, m.text), m.language, m.text, '{}', '{}', m.customer_id,
        m.source, m.source_message_id, m.actor_type, m.created_at
    FROM unnest(CAST(:ids AS uuid[]), CAST(:accounts AS uuid[]), CAST(:conversations AS uuid[]),
        CAST(:roles AS text[]), CAST(:senders AS text[]), CAST(:languages AS text[]),
        CAST(:texts AS text[]), CAST(:customers AS uuid[]), CAST(:sources AS text[]),
        CAST(:source_ids AS uuid[]), CAST(:actor_types AS text[]),
        CAST(:created AS timestamptz[]))
        AS m(id, account_id, conversation_id, role, sender, language, text, customer_id, source,
            source_message_id, actor_type, created_at)
    ORDER BY m.id
    ON CONFLICT (account_id, source, source_message_id) WHERE source_message_id IS NOT NULL
    DO NOTHING
    RETURNING id
    """
    ).columns(cast(Table, ConversationMessage.__table__).c.id)
)


async def add_mirrored_many(session: AsyncSession, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """A batch of channel messages' copies (each row: `mirror._copy`'s columns) in one
    statement; the ids of those it stored (a message stored already, once per account, is
    not)."""
    if not rows:
        return set()
    for row in rows:
        # What the statement writes for every copy; a row saying otherwise is not a copy.
        assert row["content"] == {row["language"]: row["text"]}
        assert not row["attachment_ids"] and not row["flags"]
    stored = await _ADD_MIRRORED_MANY.fetch(
        session,
        ids=[row["id"] for row in rows],
        accounts=[row["account_id"] for row in rows],
        conversations=[row["conversation_id"] for row in rows],
        roles=[str(row["role"]) for row in rows],
        senders=[str(row["sender"]) for row in rows],
        languages=[row["language"] for row in rows],
        texts=[row["text"] for row in rows],
        customers=[row["customer_id"] for row in rows],
        sources=[str(row["source"]) for row in rows],
        source_ids=[row["source_message_id"] for row in rows],
        actor_types=[row["actor_type"] for row in rows],
        created=[row["created_at"] for row in rows],
    )
    return {row[0] for row in stored}


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
