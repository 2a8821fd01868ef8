"""Requests and responses of `/ai/agents` and `/ai/runs`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.core.money import Money
from ticaret.models.agents import AgentTool, RunStatus, RunTrigger

VERSION_DESCRIPTION = "entityVersion the change was based on (or send If-Match); 409 if stale."
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Language = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z]{2,3}(-[a-z]{2})?$"),
]
AgentName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Instructions = Annotated[str, StringConstraints(max_length=20000)]
ModelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

ChannelType = Literal["whatsapp", "meta", "instagram", "widget", "api"]


class AgentChannel(ApiModel):
    """A channel (or one inbox of it) where the agent answers customers on its own."""

    type: ChannelType
    channel_id: str | None = Field(
        default=None,
        max_length=300,
        description="One inbox of the channel: a WhatsApp session's providerSessionId, a Page's "
        "assetId, an Instagram account's igAccountId, or the channelIdentifier of api/widget "
        "conversations. Null: every inbox of that channel.",
    )


class HandoffRules(ApiModel):
    """When the agent hands a conversation to people instead of answering."""

    keywords: list[Keyword] = Field(
        default_factory=list,
        max_length=50,
        description="A customer message containing one of these (any case) goes to people "
        "at once, without asking the model.",
    )
    on_human_request: bool = Field(
        default=True,
        description='A customer asking for a person ("temsilci", "human", ...) is handed off.',
    )
    low_confidence: bool = Field(
        default=True,
        description="The model is told to hand off (handoff_to_human) when it is not sure.",
    )


DEFAULT_TOOLS = list(AgentTool)


class AgentCreate(ApiModel):
    name: AgentName
    instructions: Instructions = ""
    model: ModelName | None = Field(default=None, description="Null: the AI settings' model.")
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="Null: the AI settings' temperature."
    )
    tools: list[AgentTool] = Field(default_factory=lambda: list(DEFAULT_TOOLS))
    channels: list[AgentChannel] = Field(
        default_factory=list,
        max_length=50,
        description="Where it answers on its own (default: nowhere; it then answers only when "
        "a send asks for it with `ai.agentId`, and in its test chat).",
    )
    handoff_rules: HandoffRules = Field(default_factory=HandoffRules)
    handoff_group_id: uuid.UUID | None = Field(
        default=None, description="The CRM group a handed-off conversation is assigned to."
    )
    max_steps: int = Field(default=5, ge=1, le=20, description="Model calls per run at most.")
    language: Language | None = Field(default=None, description="Null: the AI settings' one.")
    context_messages: int = Field(default=20, ge=1, le=100)

    @field_validator("tools")
    @classmethod
    def _unique(cls, value: list[AgentTool]) -> list[AgentTool]:
        return list(dict.fromkeys(value))


class AgentUpdate(ApiModel):
    name: AgentName | None = None
    instructions: Instructions | None = None
    model: ModelName | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    tools: list[AgentTool] | None = None
    channels: list[AgentChannel] | None = Field(default=None, max_length=50)
    handoff_rules: HandoffRules | None = None
    handoff_group_id: uuid.UUID | None = None
    max_steps: int | None = Field(default=None, ge=1, le=20)
    language: Language | None = None
    context_messages: int | None = Field(default=None, ge=1, le=100)
    entity_version: str | None = Field(default=None, description=VERSION_DESCRIPTION)

    @field_validator("tools")
    @classmethod
    def _unique(cls, value: list[AgentTool] | None) -> list[AgentTool] | None:
        return list(dict.fromkeys(value)) if value is not None else None


class AgentOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    name: str
    instructions: str
    model: str | None = Field(description="Null: the AI settings' model (see resolvedModel).")
    resolved_model: str = Field(description="The model a run started now would use.")
    temperature: float | None
    tools: list[AgentTool]
    channels: list[AgentChannel]
    handoff_rules: HandoffRules
    handoff_group_id: uuid.UUID | None
    max_steps: int
    language: str | None
    context_messages: int
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class Deleted(ResponseModel):
    deleted: bool


# Runs ---------------------------------------------------------------------------------------


class TokenUsage(ResponseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class FunctionCallOut(ResponseModel):
    id: str = Field(description="The model's tool call id.")
    name: str
    arguments: Any = Field(description="What the model passed (parsed JSON, or the raw text).")
    result: Any = Field(description="What the function answered the model.")
    error: bool = Field(description="The result is an error the model was told about.")


class StepOut(ResponseModel):
    position: int
    content: str | None
    function_calls: list[FunctionCallOut]
    finish_reason: str | None
    response_id: str | None
    model: str | None
    usage: TokenUsage
    cost: Money = Field(description="USD.")
    latency_ms: int
    created_at: Timestamp


class RunOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    agent_id: uuid.UUID
    conversation_id: uuid.UUID
    trigger: RunTrigger
    trigger_message_id: uuid.UUID | None
    status: RunStatus
    reason: str | None = Field(description="Why the run ended as it did (when not completed).")
    error: dict[str, Any] | None
    model: str | None
    step_count: int
    usage: TokenUsage
    cost: Money = Field(description="USD, from the configured per-model prices.")
    cost_note: str | None = Field(description="Set when the model has no configured price.")
    handed_off: bool
    reply_message_id: uuid.UUID | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    steps: list[StepOut] | None = Field(
        default=None, description="Every step, in order (run detail only)."
    )


class AgentTest(ApiModel):
    content: str | dict[str, str] = Field(
        description="The customer's message: text, or a map of language → text.",
        examples=["Merhaba, keten gömlek var mı?"],
    )
    conversation_id: uuid.UUID | None = Field(
        default=None, description="Go on with one of this agent's test conversations."
    )
    customer_id: uuid.UUID | None = Field(
        default=None, description="The CRM customer the test conversation plays (orders)."
    )

    @model_validator(mode="after")
    def _content(self) -> AgentTest:
        texts = [self.content] if isinstance(self.content, str) else list(self.content.values())
        if not texts or not all(text.strip() for text in texts):
            raise ValueError("content must have text")
        if any(len(text) > 4000 for text in texts):
            raise ValueError("content is 4000 characters at most")
        return self


class AgentTestOut(ResponseModel):
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    run: RunOut
