"""Event types of AI agents: a run ended (its reply posted, or not and why)."""

from __future__ import annotations

import uuid

from pydantic import Field

from ticaret.core.events import EventPayload, event_type
from ticaret.core.money import Money
from ticaret.models.agents import RunStatus, RunTrigger


class AgentRunEnded(EventPayload):
    run_id: uuid.UUID
    agent_id: uuid.UUID
    conversation_id: uuid.UUID
    trigger: RunTrigger
    status: RunStatus
    reason: str | None
    step_count: int
    total_tokens: int
    cost: Money = Field(description="USD.")
    handed_off: bool
    reply_message_id: uuid.UUID | None


RUN_COMPLETED = event_type(
    "ai.run.completed",
    "An AI agent run posted its reply into the conversation (status `completed`, or "
    "`handed_off` when a handoff rule sent the conversation to people).",
    AgentRunEnded,
)
RUN_FAILED = event_type(
    "ai.run.failed",
    "An AI agent run ended without a reply: the provider failed (`failed`), the agent used "
    "its steps without a final answer (`max_steps_reached`), a person answered first "
    "(`superseded`) or AI was turned off on the conversation (`cancelled`); `reason` says why.",
    AgentRunEnded,
)


class ConversationHandoff(EventPayload):
    conversation_id: uuid.UUID
    agent_id: uuid.UUID
    run_id: uuid.UUID
    group_id: uuid.UUID | None = Field(description="The CRM group it was assigned to.")
    reason: str


# Declared here because only an agent hands a conversation off; it belongs to the
# conversation's event family (subscribers follow `conversation.*`).
CONVERSATION_HANDOFF = event_type(
    "conversation.handoff",
    "An AI agent handed a conversation to people: AI is off on it and it is assigned to the "
    "agent's handoff group (when the agent has one).",
    ConversationHandoff,
)
