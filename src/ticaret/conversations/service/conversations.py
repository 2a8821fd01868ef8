"""Conversations: listing across channels, creating api / widget ones, the detail, and the
update a person makes to take a conversation over from the AI."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.conversations import events
from ticaret.conversations.errors import ConversationNotFound
from ticaret.conversations.repository import conversations as repository
from ticaret.conversations.schemas.conversations import (
    AssigneeOut,
    ChannelRefs,
    ConversationCreate,
    ConversationData,
    ConversationFilter,
    ConversationOut,
    ConversationUpdate,
    ConversationUpdated,
    CustomerBrief,
)
from ticaret.conversations.service.agents import require_agent
from ticaret.conversations.service.customers import resolve_customer
from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.core.events import Actor, emit
from ticaret.core.ids import new_id
from ticaret.crm.service.people import require_groups, require_members
from ticaret.models import Conversation, ConversationStatus


async def conversation_or_404(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID
) -> Conversation:
    row = await repository.conversation(session, account_id, conversation_id)
    if row is None:
        raise ConversationNotFound()
    return row


def day_range(
    date_from: date | None, date_to: date | None
) -> tuple[datetime | None, datetime | None]:
    """Whole UTC days: `dateTo` includes its day."""
    start = datetime.combine(date_from, time.min, UTC) if date_from is not None else None
    end = (
        datetime.combine(date_to, time.min, UTC) + timedelta(days=1)
        if date_to is not None
        else None
    )
    return start, end


async def list_conversations(
    session: AsyncSession, ctx: AccountContext, page: PageParams, filters: ConversationFilter
) -> Page[ConversationOut]:
    start, end = day_range(filters.date_from, filters.date_to)
    query = repository.filtered(
        ctx.account_id,
        type_=filters.type,
        agent_id=filters.agent_id,
        customer_id=filters.customer_id,
        status=filters.status,
        ai_enabled=filters.ai_enabled,
        created_from=start,
        created_before=end,
    )
    rows = await repository.page_newest_first(
        session, query, after=page.after_time_and_id(), limit=page.limit + 1
    )
    kept, cursor, more = build_page(rows, page.limit, lambda c: [c.created_at, c.id])
    return Page[ConversationOut](
        rows=await conversations_out(session, kept), next_cursor=cursor, has_more=more
    )


async def create_conversation(
    session: AsyncSession, ctx: AccountContext, body: ConversationCreate
) -> ConversationOut:
    await require_agent(session, ctx.account_id, body.agent_id)
    match = await resolve_customer(session, ctx, body.customer_id, body.customer)
    row = repository.add(
        session,
        id=new_id(),
        account_id=ctx.account_id,
        type=body.type,
        status=ConversationStatus.open,
        ai_enabled=body.ai_enabled,
        agent_id=body.agent_id,
        customer_id=match.customer_id if match else None,
        contact_id=match.contact_id if match else None,
        language=body.language,
        channel_identifier=body.channel_identifier,
        message_count=0,
        created_by_type=ctx.actor.type,
        created_by_id=ctx.actor.id,
    )
    await session.flush()
    emit_created(session, row, ctx.actor)
    return (await conversations_out(session, [row]))[0]


def emit_created(session: AsyncSession, row: Conversation, actor: Actor) -> None:
    emit(
        session,
        events.CONVERSATION_CREATED,
        _data(row),
        account_id=row.account_id,
        actor=actor,
    )


def _data(row: Conversation) -> ConversationData:
    return ConversationData(
        id=row.id,
        type=row.type,
        status=row.status,
        ai_enabled=row.ai_enabled,
        agent_id=row.agent_id,
        customer_id=row.customer_id,
        assignee_user_id=row.assignee_user_id,
        assignee_group_id=row.assignee_group_id,
        message_count=row.message_count,
        total_cost=row.total_cost,
    )


async def get_conversation(
    session: AsyncSession, ctx: AccountContext, conversation_id: uuid.UUID
) -> ConversationOut:
    row = await conversation_or_404(session, ctx.account_id, conversation_id)
    return (await conversations_out(session, [row]))[0]


async def update_conversation(
    session: AsyncSession,
    ctx: AccountContext,
    conversation_id: uuid.UUID,
    body: ConversationUpdate,
) -> ConversationOut:
    row = await repository.conversation(session, ctx.account_id, conversation_id, for_update=True)
    if row is None:
        raise ConversationNotFound()
    sent = body.model_fields_set
    changed: list[str] = []
    if "status" in sent and body.status is not None and body.status != row.status:
        row.status = body.status
        changed.append("status")
    if "ai_enabled" in sent and body.ai_enabled is not None and body.ai_enabled != row.ai_enabled:
        row.ai_enabled = body.ai_enabled
        changed.append("aiEnabled")
    if "assignee" in sent:
        user_id = group_id = None
        if body.assignee is not None and body.assignee.type == "user":
            await require_members(session, ctx.account_id, [body.assignee.id], "assignee.id")
            user_id = body.assignee.id
        elif body.assignee is not None:
            await require_groups(session, ctx.account_id, [body.assignee.id], "assignee.id")
            group_id = body.assignee.id
        if (user_id, group_id) != (row.assignee_user_id, row.assignee_group_id):
            row.assignee_user_id, row.assignee_group_id = user_id, group_id
            changed.append("assignee")
    if "language" in sent and body.language != row.language:
        row.language = body.language
        changed.append("language")
    if "agent_id" in sent and body.agent_id != row.agent_id:
        await require_agent(session, ctx.account_id, body.agent_id)
        row.agent_id = body.agent_id
        changed.append("agentId")
    if changed:
        await session.flush()
        await session.refresh(row)
        emit(
            session,
            events.CONVERSATION_UPDATED,
            ConversationUpdated(**_data(row).model_dump(), changed=changed),
            account_id=row.account_id,
            actor=ctx.actor,
        )
    return (await conversations_out(session, [row]))[0]


async def conversations_out(
    session: AsyncSession, rows: Sequence[Conversation]
) -> list[ConversationOut]:
    customer_ids = {r.customer_id for r in rows if r.customer_id is not None}
    session_ids = {r.wa_session_id for r in rows if r.wa_session_id is not None}
    thread_ids = {r.meta_thread_id for r in rows if r.meta_thread_id is not None}
    customers = await repository.customers_by_id(session, customer_ids)
    psids = await repository.provider_session_ids(session, session_ids)
    assets = await repository.thread_assets(session, thread_ids)
    out = []
    for row in rows:
        customer = customers.get(row.customer_id) if row.customer_id else None
        out.append(
            ConversationOut(
                id=row.id,
                account_id=row.account_id,
                type=row.type,
                status=row.status,
                ai_enabled=row.ai_enabled,
                agent_id=row.agent_id,
                customer_id=row.customer_id,
                contact_id=row.contact_id,
                customer=CustomerBrief(id=customer.id, title=customer.title)
                if customer is not None and customer.deleted_at is None
                else None,
                assignee=AssigneeOut(user_id=row.assignee_user_id, group_id=row.assignee_group_id),
                language=row.language,
                channel_identifier=row.channel_identifier,
                channel=ChannelRefs(
                    provider_session_id=psids.get(row.wa_session_id) if row.wa_session_id else None,
                    remote_jid=row.remote_jid,
                    asset_id=assets.get(row.meta_thread_id) if row.meta_thread_id else None,
                    thread_id=row.meta_thread_id,
                ),
                message_count=row.message_count,
                total_cost=row.total_cost,
                last_message_at=row.last_message_at,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
        )
    return out
