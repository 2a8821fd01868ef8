"""What the agents domain reads and writes of conversations beyond the conversations domain's
own functions: whether a person answered after a message, the AI cost of runs that posted
nothing, and a conversation's inbox (to match an agent's channels). Scoped by account."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import (
    Conversation,
    ConversationMessage,
    MessageRole,
    MetaThread,
    WaSession,
)


async def operator_replied_after(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID, message_id: uuid.UUID
) -> bool:
    """Whether a person of the workspace wrote in the conversation after this message (in the
    conversation's own order: time, then id)."""
    trigger = (
        select(ConversationMessage.created_at, ConversationMessage.id)
        .where(ConversationMessage.account_id == account_id, ConversationMessage.id == message_id)
        .subquery()
    )
    later = (
        select(ConversationMessage.id)
        .join(trigger, trigger.c.id == message_id)
        .where(
            ConversationMessage.account_id == account_id,
            ConversationMessage.conversation_id == conversation_id,
            ConversationMessage.role == MessageRole.operator,
            or_(
                ConversationMessage.created_at > trigger.c.created_at,
                and_(
                    ConversationMessage.created_at == trigger.c.created_at,
                    ConversationMessage.id > trigger.c.id,
                ),
            ),
        )
    )
    return bool(await session.scalar(select(exists(later))))


async def add_cost(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID, cost: Decimal
) -> None:
    await session.execute(
        update(Conversation)
        .where(Conversation.account_id == account_id, Conversation.id == conversation_id)
        .values(total_cost=Conversation.total_cost + cost)
        .execution_options(synchronize_session=False)
    )


async def provider_session_id(session: AsyncSession, wa_session_id: uuid.UUID) -> str | None:
    """By primary key: the session of a conversation the caller already loaded by account."""
    return await session.scalar(
        select(WaSession.provider_session_id).where(WaSession.id == wa_session_id)
    )


async def thread_asset_id(session: AsyncSession, meta_thread_id: uuid.UUID) -> uuid.UUID | None:
    """By primary key: the Page or Instagram account of a conversation's thread."""
    return await session.scalar(select(MetaThread.asset_id).where(MetaThread.id == meta_thread_id))
