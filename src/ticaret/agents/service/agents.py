"""AI agents: create, read, change (entityVersion), soft-delete; and the test chat.

An agent's model, temperature and language default to the account's AI settings at each run
(null on the agent), so changing the settings moves every agent that did not pick its own.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.agents.errors import (
    AgentChannelNotFound,
    AgentNotFound,
    HandoffGroupNotFound,
    TestConversationNotFound,
)
from ticaret.agents.repository import agents as repository
from ticaret.agents.schemas import (
    AgentChannel,
    AgentCreate,
    AgentOut,
    AgentTest,
    AgentTestOut,
    AgentUpdate,
    HandoffRules,
)
from ticaret.agents.service import runs
from ticaret.agents.service.runs import Dispatch
from ticaret.ai.repository import settings as settings_repository
from ticaret.ai.service.settings import default_settings
from ticaret.conversations.repository import conversations as conversation_repository
from ticaret.conversations.service.messages import post_message
from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.core.versioning import check_version
from ticaret.crm.errors import CustomerNotFound
from ticaret.crm.repository import customers as customers_repository
from ticaret.crm.repository import groups as groups_repository
from ticaret.models import (
    AccountAiSettings,
    AiAgent,
    ConversationStatus,
    ConversationType,
    MessageRole,
    MessageSender,
    Platform,
)
from ticaret.models.agents import RunTrigger
from ticaret.social.repository import assets as assets_repository
from ticaret.wa.repository import sessions as sessions_repository


async def agent_or_404(
    session: AsyncSession, account_id: uuid.UUID, agent_id: uuid.UUID, *, for_update: bool = False
) -> AiAgent:
    agent = await repository.agent(session, account_id, agent_id, for_update=for_update)
    if agent is None:
        raise AgentNotFound()
    return agent


async def _settings(session: AsyncSession, account_id: uuid.UUID) -> AccountAiSettings:
    row = await settings_repository.settings_of(session, account_id)
    return row if row is not None else default_settings(account_id)


def _out(agent: AiAgent, settings: AccountAiSettings) -> AgentOut:
    return from_row(
        AgentOut,
        agent,
        resolved_model=runs.resolved_model(agent, settings),
        channels=[AgentChannel.model_validate(c) for c in agent.channels],
        handoff_rules=HandoffRules.model_validate(agent.handoff_rules),
    )


async def _check_group(
    session: AsyncSession, account_id: uuid.UUID, group_id: uuid.UUID | None
) -> None:
    if (
        group_id is not None
        and await groups_repository.group(session, account_id, group_id) is None
    ):
        raise HandoffGroupNotFound()


async def _check_channels(
    session: AsyncSession, account_id: uuid.UUID, channels: list[AgentChannel]
) -> list[dict[str, Any]]:
    """An inbox named by id must be one the account sees; another account's is not found."""
    for channel in channels:
        if channel.channel_id is None:
            continue
        found: object | None
        if channel.type == ConversationType.whatsapp:
            found = await sessions_repository.accessible_session(
                session, account_id, channel.channel_id
            )
        elif channel.type in (ConversationType.meta, ConversationType.instagram):
            platform = (
                Platform.facebook if channel.type == ConversationType.meta else Platform.instagram
            )
            try:
                asset_id = uuid.UUID(channel.channel_id)
            except ValueError:
                raise AgentChannelNotFound() from None
            found = await assets_repository.asset(session, account_id, asset_id, platform)
        else:
            continue  # api / widget: the integrator's own identifier, no object of ours
        if found is None:
            raise AgentChannelNotFound(
                f"No {channel.type} inbox of this account has the id {channel.channel_id!r}."
            )
    unique = {(c.type, c.channel_id): c for c in channels}
    return [c.model_dump(mode="json", by_alias=True) for c in unique.values()]


async def list_agents(
    session: AsyncSession, ctx: AccountContext, page: PageParams
) -> Page[AgentOut]:
    rows = await repository.agents_page(
        session, ctx.account_id, after=page.after_id(), limit=page.limit
    )
    kept, cursor, more = build_page(rows, page.limit, lambda a: [a.id])
    settings = await _settings(session, ctx.account_id)
    return Page[AgentOut](rows=[_out(a, settings) for a in kept], next_cursor=cursor, has_more=more)


async def create_agent(session: AsyncSession, ctx: AccountContext, body: AgentCreate) -> AgentOut:
    await _check_group(session, ctx.account_id, body.handoff_group_id)
    agent = AiAgent(
        account_id=ctx.account_id,
        name=body.name,
        instructions=body.instructions,
        model=body.model,
        temperature=body.temperature,
        tools=[tool.value for tool in body.tools],
        channels=await _check_channels(session, ctx.account_id, body.channels),
        handoff_rules=body.handoff_rules.model_dump(mode="json", by_alias=True),
        handoff_group_id=body.handoff_group_id,
        max_steps=body.max_steps,
        language=body.language,
        context_messages=body.context_messages,
    )
    session.add(agent)
    await session.flush()
    return _out(agent, await _settings(session, ctx.account_id))


async def get_agent(session: AsyncSession, ctx: AccountContext, agent_id: uuid.UUID) -> AgentOut:
    agent = await agent_or_404(session, ctx.account_id, agent_id)
    return _out(agent, await _settings(session, ctx.account_id))


# Fields a PATCH may set to null (back to the AI settings' value, or no handoff group).
_NULLABLE = frozenset({"model", "temperature", "language", "handoff_group_id"})


async def update_agent(
    session: AsyncSession,
    ctx: AccountContext,
    agent_id: uuid.UUID,
    body: AgentUpdate,
    expected_version: str | None,
) -> AgentOut:
    agent = await agent_or_404(session, ctx.account_id, agent_id, for_update=True)
    check_version(agent, expected_version)
    given = body.model_fields_set - {"entity_version"}
    for name in given:
        value = getattr(body, name)
        if value is None and name not in _NULLABLE:
            continue  # null keeps a setting that must have a value
        if name == "handoff_group_id":
            await _check_group(session, ctx.account_id, value)
        elif name == "channels":
            value = await _check_channels(session, ctx.account_id, value)
        elif name == "handoff_rules":
            value = value.model_dump(mode="json", by_alias=True)
        elif name == "tools":
            value = [tool.value for tool in value]
        setattr(agent, name, value)
    await session.flush()
    return _out(agent, await _settings(session, ctx.account_id))


async def delete_agent(session: AsyncSession, ctx: AccountContext, agent_id: uuid.UUID) -> None:
    """Soft delete: its runs stay readable; its pending runs are cancelled when they start."""
    agent = await agent_or_404(session, ctx.account_id, agent_id, for_update=True)
    agent.deleted_at = datetime.now(UTC)
    await session.flush()


# The test chat -------------------------------------------------------------------------------


async def test_agent(
    session: AsyncSession, ctx: AccountContext, agent_id: uuid.UUID, body: AgentTest
) -> tuple[AgentTestOut, Dispatch]:
    """The customer's message in a `test` conversation of the agent (a new one, or the one
    named), and a run queued to answer it."""
    agent = await agent_or_404(session, ctx.account_id, agent_id)
    settings = await _settings(session, ctx.account_id)
    language = agent.language or settings.language
    if body.conversation_id is not None:
        conversation = await conversation_repository.conversation(
            session, ctx.account_id, body.conversation_id
        )
        if (
            conversation is None
            or conversation.type != ConversationType.test
            or conversation.agent_id != agent.id
        ):
            raise TestConversationNotFound()
    else:
        if body.customer_id is not None:
            customer = await customers_repository.customer(
                session, ctx.account_id, body.customer_id
            )
            if customer is None:
                raise CustomerNotFound()
        conversation = conversation_repository.add(
            session,
            account_id=ctx.account_id,
            type=ConversationType.test,
            status=ConversationStatus.open,
            agent_id=agent.id,
            ai_enabled=True,
            customer_id=body.customer_id,
            language=language,
            created_by_type=ctx.actor.type,
            created_by_id=ctx.actor.id,
        )
        await session.flush()
    content = body.content if isinstance(body.content, dict) else {language: body.content}
    # The run starts here, not from the message's event, so the answer names it; the event's
    # consumer finds the message taken.
    message, _ = await post_message(
        session,
        account_id=ctx.account_id,
        conversation_id=conversation.id,
        role=MessageRole.user,
        sender=MessageSender.customer,
        content=content,
        ctx=ctx,
        customer_id=conversation.customer_id,
    )
    started = await runs.start_run(
        session,
        account_id=ctx.account_id,
        agent=agent,
        conversation_id=conversation.id,
        trigger=RunTrigger.test,
        trigger_message_id=message.id,
        trigger_at=message.created_at,
    )
    assert started is not None, "a new message has no run yet"
    run, dispatch = started
    return (
        AgentTestOut(conversation_id=conversation.id, message_id=message.id, run=runs.run_out(run)),
        dispatch,
    )
