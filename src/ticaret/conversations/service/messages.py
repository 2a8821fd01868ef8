"""Messages of a conversation: posting one (the API's send, an AI agent's reply), listing
them oldest first, and the history in WhatTalk's words.

`post_message` is the one way a message is added by us: it stores it, moves the
conversation's counters in the same transaction, sends it through the channel when the
conversation has one and a person or an agent of the workspace wrote it, and emits
`conversation.message.created` (the agents domain consumes it to answer).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.conversations import events
from ticaret.conversations.errors import (
    AttachmentNotFound,
    ChannelMismatch,
    ConversationClosed,
    ConversationNotFound,
    MessageNotFound,
    NoContent,
    ParentInOtherConversation,
)
from ticaret.conversations.repository import attachments as attachment_repository
from ticaret.conversations.repository import conversations as conversation_repository
from ticaret.conversations.repository import messages as repository
from ticaret.conversations.schemas.conversations import HistoryEntry
from ticaret.conversations.schemas.messages import (
    ChannelOperationOut,
    ConversationMessageOut,
    FunctionCall,
    MessageCreated,
    MessageSent,
    SendMessage,
    SendResult,
)
from ticaret.conversations.service import delivery
from ticaret.conversations.service.agents import require_agent
from ticaret.conversations.service.customers import resolve_customer
from ticaret.conversations.service.delivery import Origin
from ticaret.conversations.service.views import message_out
from ticaret.core.auth import AccountContext, Principal
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.core.events import Actor, emit
from ticaret.models import (
    CHANNEL_TYPES,
    Conversation,
    ConversationAttachment,
    ConversationMessage,
    ConversationStatus,
    ConversationType,
    MessageRole,
    MessageSender,
    MetaThread,
    Role,
    WaSession,
)

AI_ACTOR = Actor("ai", None)
# What an agent or the API posts without a request behind it (jobs).
_NO_ORIGIN = Origin(ip=None, user_agent="ticaret-conversations")


def choose_language(content: dict[str, str], preferred: str | None) -> str | None:
    """The conversation's language when the message has it, else the first one written."""
    if preferred is not None and preferred in content:
        return preferred
    return next(iter(content), None)


def _context_for(account_id: uuid.UUID, role: MessageRole) -> AccountContext:
    # A job (an agent's run) has no caller: the channel send is recorded as the AI's.
    actor = AI_ACTOR if role == MessageRole.assistant else Actor.system()
    return AccountContext(Principal.acting_as(actor), account_id, Role.agent)


async def post_message(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    role: MessageRole | str,
    sender: MessageSender | str,
    content: dict[str, str],
    function_calls: list[dict[str, Any]] | None = None,
    agent_run_id: uuid.UUID | None = None,
    cost: Decimal | None = None,
    tokens: int | None = None,
    deliver: bool = True,
    ctx: AccountContext | None = None,
    parent_id: uuid.UUID | None = None,
    attachment_ids: Sequence[uuid.UUID] = (),
    flags: Sequence[str] = (),
    customer_id: uuid.UUID | None = None,
    channel_identifier: str | None = None,
    ai_agent_id: uuid.UUID | None = None,
    origin: Origin | None = None,
) -> tuple[ConversationMessage, ChannelOperationOut | None]:
    """Store a message, count it, send it through the conversation's channel (workspace
    messages of whatsapp / meta / instagram conversations, unless `deliver=False`) and emit
    `conversation.message.created`.

    An agent's reply: `role="assistant", sender="workspace"`, its `function_calls`
    ([{name, arguments, result}]), `agent_run_id`, `tokens` and `cost` (added to the
    conversation's `totalCost`). `ctx` is the caller (a request's); without one the send is
    recorded as the AI's (assistant) or the system's. `ai_agent_id` asks that agent to answer
    this message (the event carries it)."""
    role = MessageRole(role)
    sender = MessageSender(sender)
    ctx = ctx or _context_for(account_id, role)
    conversation = await conversation_repository.conversation(session, account_id, conversation_id)
    if conversation is None:
        raise ConversationNotFound()
    content = {language: text for language, text in content.items() if text}
    attachment_ids = list(dict.fromkeys(attachment_ids))
    if not content and not attachment_ids:
        raise NoContent()
    if parent_id is not None:
        parent = await repository.message(session, account_id, parent_id)
        if parent is None:
            raise MessageNotFound("The parent message was not found.")
        if parent.conversation_id != conversation.id:
            raise ParentInOtherConversation()
    files: list[ConversationAttachment] = []
    if attachment_ids:
        found = await attachment_repository.attachments(session, account_id, attachment_ids)
        if len(found) != len(attachment_ids):
            raise AttachmentNotFound()
        files = [found[file_id] for file_id in attachment_ids]
    language = choose_language(content, conversation.language)
    text = content[language] if language is not None else None

    workspace = sender == MessageSender.workspace
    operation: ChannelOperationOut | None = None
    source = source_message_id = None
    if deliver and workspace and conversation.type in CHANNEL_TYPES and (text or files):
        if conversation.status == ConversationStatus.closed:
            raise ConversationClosed()
        delivered = await delivery.deliver(
            session, ctx, conversation, text, origin or _NO_ORIGIN, files
        )
        operation = delivered.operation
        if delivered.source_message_id is not None:
            source, source_message_id = delivered.source, delivered.source_message_id

    message = await repository.add(
        session,
        account_id=account_id,
        conversation_id=conversation.id,
        role=role,
        sender=sender,
        content=content,
        language=language,
        text=text,
        parent_id=parent_id,
        attachment_ids=attachment_ids,
        flags=list(dict.fromkeys(flags)),
        function_calls=function_calls,
        agent_run_id=agent_run_id,
        tokens=tokens,
        cost=cost,
        customer_id=customer_id,
        channel_identifier=channel_identifier,
        operation_id=operation.id if operation is not None else None,
        source=source,
        source_message_id=source_message_id,
        actor_type=ctx.actor.type,
        actor_id=ctx.actor.id,
        created_at=datetime.now(UTC),
    )
    await conversation_repository.bump(
        session, account_id, conversation.id, cost=cost, at=message.created_at
    )
    announce(session, conversation, message, ai_agent_id=ai_agent_id, actor=ctx.actor)
    return message, operation


def announce(
    session: AsyncSession,
    conversation: Conversation,
    message: ConversationMessage,
    *,
    ai_agent_id: uuid.UUID | None,
    actor: Actor,
) -> None:
    """`conversation.message.created`. A customer message of a conversation whose AI is on
    names the conversation's agent (`auto`) unless the caller asked for one (`requested`)."""
    trigger: Literal["requested", "auto"] | None = "requested" if ai_agent_id is not None else None
    if (
        ai_agent_id is None
        and message.role == MessageRole.user
        and conversation.ai_enabled
        and conversation.agent_id is not None
        and conversation.status == ConversationStatus.open
    ):
        ai_agent_id, trigger = conversation.agent_id, "auto"
    emit(
        session,
        events.MESSAGE_CREATED,
        MessageCreated(
            id=message.id,
            conversation_id=conversation.id,
            conversation_type=ConversationType(conversation.type),
            role=MessageRole(message.role),
            sender=MessageSender(message.sender),
            language=message.language,
            text=message.text,
            agent_run_id=message.agent_run_id,
            ai_agent_id=ai_agent_id,
            ai_trigger=trigger,
            cost=message.cost,
            created_at=message.created_at,
        ),
        account_id=conversation.account_id,
        actor=actor,
    )


async def list_messages(
    session: AsyncSession, ctx: AccountContext, conversation_id: uuid.UUID, page: PageParams
) -> Page[ConversationMessageOut]:
    conversation = await conversation_repository.conversation(
        session, ctx.account_id, conversation_id
    )
    if conversation is None:
        raise ConversationNotFound()
    rows = await repository.page_oldest_first(
        session,
        ctx.account_id,
        conversation.id,
        after=page.after_time_and_id(),
        limit=page.limit + 1,
    )
    kept, cursor, more = build_page(rows, page.limit, lambda m: [m.created_at, m.id])
    return Page[ConversationMessageOut](
        rows=await messages_out(session, ctx.account_id, kept), next_cursor=cursor, has_more=more
    )


async def messages_out(
    session: AsyncSession, account_id: uuid.UUID, rows: Sequence[ConversationMessage]
) -> list[ConversationMessageOut]:
    files = await attachment_repository.attachments(
        session, account_id, list({file_id for row in rows for file_id in row.attachment_ids})
    )
    return [message_out(row, files) for row in rows]


async def send(
    session: AsyncSession,
    ctx: AccountContext,
    conversation_id: uuid.UUID,
    body: SendMessage,
    origin: Origin,
) -> SendResult | MessageSent:
    """The Connect360 send: the customer resolved (or created) first, then the message."""
    conversation = await conversation_repository.conversation(
        session, ctx.account_id, conversation_id
    )
    if conversation is None:
        raise ConversationNotFound()
    for named in (body.channel_id, body.ai.channel_id if body.ai else None):
        if named is not None and named not in await channel_names(session, conversation):
            raise ChannelMismatch()
    await require_agent(session, ctx.account_id, body.ai.agent_id if body.ai else None)
    customer_id: uuid.UUID | None = None
    if body.sender == MessageSender.customer or body.customer_id or body.customer:
        match = await resolve_customer(session, ctx, body.customer_id, body.customer)
        if match is not None:
            customer_id = match.customer_id
            if conversation.customer_id is None and conversation.type not in CHANNEL_TYPES:
                await conversation_repository.set_customer(
                    session, ctx.account_id, conversation.id, match.customer_id, match.contact_id
                )
    customer_message = body.sender == MessageSender.customer
    message, operation = await post_message(
        session,
        account_id=ctx.account_id,
        conversation_id=conversation.id,
        role=MessageRole.user if customer_message else MessageRole.operator,
        sender=body.sender,
        content=body.content or {},
        ctx=ctx,
        parent_id=body.parent_id,
        attachment_ids=body.attachment_ids or [],
        flags=body.flags or [],
        customer_id=customer_id if customer_message else None,
        channel_identifier=body.channel_identifier,
        ai_agent_id=body.ai.agent_id if body.ai is not None else None,
        origin=origin,
    )
    [out] = await messages_out(session, ctx.account_id, [message])
    if operation is None:
        return MessageSent(message=out)
    return SendResult(message=out, operation=operation)


async def channel_names(session: AsyncSession, conversation: Conversation) -> set[str]:
    """What a caller may call the conversation's channel in `channelId`."""
    names = {conversation.channel_identifier} if conversation.channel_identifier else set()
    if conversation.wa_session_id is not None:
        wa = await session.get(WaSession, conversation.wa_session_id)
        if wa is not None:
            names.add(wa.provider_session_id)
    if conversation.meta_thread_id is not None:
        thread = await session.get(MetaThread, conversation.meta_thread_id)
        if thread is not None:
            names |= {str(thread.asset_id), str(thread.id)}
    return names


async def history(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID
) -> list[ConversationMessage]:
    """Every message, oldest first (WhatTalk's history has no pages)."""
    conversation = await conversation_repository.conversation(session, account_id, conversation_id)
    if conversation is None:
        raise ConversationNotFound()
    return await repository.all_oldest_first(session, account_id, conversation.id)


def history_entries(rows: Sequence[ConversationMessage]) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            role=MessageRole(row.role),
            content=row.text or "",
            function_calls=[FunctionCall.model_validate(call) for call in row.function_calls]
            if row.function_calls
            else None,
            created_at=row.created_at,
        )
        for row in rows
    ]
