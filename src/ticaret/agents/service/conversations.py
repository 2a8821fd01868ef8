"""The agents domain's side of conversations: what a run reads (the conversation, its recent
history, whether a person answered), and what it does to one (post its reply through
`conversations.service.messages.post_message`, hand it to people, count its cost)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.agents.events import CONVERSATION_HANDOFF, ConversationHandoff
from ticaret.agents.repository import conversations as repository
from ticaret.conversations.repository import conversations as conversation_repository
from ticaret.conversations.repository import messages as message_repository
from ticaret.conversations.schemas.conversations import Assignee, ConversationUpdate
from ticaret.conversations.service.conversations import update_conversation
from ticaret.conversations.service.messages import post_message
from ticaret.core.auth import AccountContext, Principal
from ticaret.core.events import Actor, emit
from ticaret.crm.repository import customers as customers_repository
from ticaret.models import (
    AiAgent,
    AiAgentRun,
    ConversationMessage,
    MessageRole,
    MessageSender,
    Role,
)


@dataclass(frozen=True)
class ConversationView:
    id: uuid.UUID
    account_id: uuid.UUID
    type: str
    status: str
    ai_enabled: bool
    agent_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    customer_title: str | None
    language: str | None
    wa_session_id: uuid.UUID | None
    meta_thread_id: uuid.UUID | None
    channel_identifier: str | None


async def load(
    session: AsyncSession,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    *,
    lock: bool = False,
    with_customer: bool = False,
) -> ConversationView | None:
    """`with_customer`: the customer's name too (for the prompt). `lock`: hold the
    conversation's row until commit. A person's message moves the row's
    counters, so a reply posted under the lock sees every message committed before it."""
    row = await conversation_repository.conversation(
        session, account_id, conversation_id, for_update=lock
    )
    if row is None:
        return None
    if lock:
        await session.refresh(row)
    title = None
    if with_customer and row.customer_id is not None:
        customer = await customers_repository.customer(session, account_id, row.customer_id)
        title = customer.title if customer is not None else None
    return ConversationView(
        id=row.id,
        account_id=row.account_id,
        type=row.type,
        status=row.status,
        ai_enabled=row.ai_enabled,
        agent_id=row.agent_id,
        customer_id=row.customer_id,
        customer_title=title,
        language=row.language,
        wa_session_id=row.wa_session_id,
        meta_thread_id=row.meta_thread_id,
        channel_identifier=row.channel_identifier,
    )


def _text(message: ConversationMessage) -> str:
    if message.text:
        return message.text
    written = next((text for text in message.content.values() if text), None)
    if written:
        return written
    return "[attachment]" if message.attachment_ids else ""


async def history(
    session: AsyncSession, conversation: ConversationView, *, limit: int
) -> list[dict[str, Any]]:
    """The conversation's last messages as chat messages: the customer is the user; the
    workspace (agents and people alike) is the assistant."""
    rows = await message_repository.recent(session, conversation.account_id, conversation.id, limit)
    chat: list[dict[str, Any]] = []
    for row in rows:
        text = _text(row)
        if not text:
            continue
        role = "user" if row.role == MessageRole.user else "assistant"
        chat.append({"role": role, "content": text})
    return chat


async def operator_replied_after(
    session: AsyncSession, conversation: ConversationView, message_id: uuid.UUID
) -> bool:
    return await repository.operator_replied_after(
        session, conversation.account_id, conversation.id, message_id
    )


async def add_cost(session: AsyncSession, conversation: ConversationView, cost: Decimal) -> None:
    """The cost of a run that posted nothing still counts in the conversation's totalCost."""
    if cost:
        await repository.add_cost(session, conversation.account_id, conversation.id, cost)


async def post_reply(
    session: AsyncSession,
    conversation: ConversationView,
    run: AiAgentRun,
    content: dict[str, str],
    function_calls: list[dict[str, Any]],
) -> uuid.UUID:
    message, _ = await post_message(
        session,
        account_id=conversation.account_id,
        conversation_id=conversation.id,
        role=MessageRole.assistant,
        sender=MessageSender.workspace,
        content=content,
        function_calls=function_calls or None,
        agent_run_id=run.id,
        cost=run.cost,
        tokens=run.total_tokens,
    )
    return message.id


async def hand_off(
    session: AsyncSession,
    conversation: ConversationView,
    agent: AiAgent,
    run: AiAgentRun,
    *,
    reason: str,
) -> None:
    """AI off on the conversation, assigned to the agent's handoff group (when it has one),
    through the conversations domain's own update (its `conversation.updated` event), as the
    run's actor; then `conversation.handoff`."""
    actor = Actor("ai", str(run.id))
    change = ConversationUpdate(ai_enabled=False)
    if agent.handoff_group_id is not None:
        change.assignee = Assignee(type="group", id=agent.handoff_group_id)
    ctx = AccountContext(Principal.acting_as(actor), conversation.account_id, Role.agent)
    await update_conversation(session, ctx, conversation.id, change)
    emit(
        session,
        CONVERSATION_HANDOFF,
        ConversationHandoff(
            conversation_id=conversation.id,
            agent_id=agent.id,
            run_id=run.id,
            group_id=agent.handoff_group_id,
            reason=reason,
        ),
        account_id=conversation.account_id,
        actor=actor,
    )


async def inbox_of(session: AsyncSession, conversation: ConversationView) -> str | None:
    """The inbox an agent's channel entry names: a session's providerSessionId, a thread's
    asset id, or an api/widget conversation's channelIdentifier."""
    if conversation.wa_session_id is not None:
        return await repository.provider_session_id(session, conversation.wa_session_id)
    if conversation.meta_thread_id is not None:
        asset = await repository.thread_asset_id(session, conversation.meta_thread_id)
        return str(asset) if asset is not None else None
    return conversation.channel_identifier
