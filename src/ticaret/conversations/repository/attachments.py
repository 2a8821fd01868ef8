"""SQL of attachments, each statement scoped by account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import ConversationAttachment


async def attachment(
    session: AsyncSession, account_id: uuid.UUID, attachment_id: uuid.UUID
) -> ConversationAttachment | None:
    query = select(ConversationAttachment).where(
        ConversationAttachment.account_id == account_id,
        ConversationAttachment.id == attachment_id,
    )
    return (await session.scalars(query)).one_or_none()


async def attachments(
    session: AsyncSession, account_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ConversationAttachment]:
    if not ids:
        return {}
    query = select(ConversationAttachment).where(
        ConversationAttachment.account_id == account_id, ConversationAttachment.id.in_(ids)
    )
    return {row.id: row for row in await session.scalars(query)}


async def add(session: AsyncSession, **fields: Any) -> ConversationAttachment:
    row = ConversationAttachment(**fields)
    session.add(row)
    await session.flush()
    return row
