"""Messages of a conversation: the Connect360 send input, the message as lists show it, and
the event that announces a new one."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import EmailStr, Field, field_validator

from ticaret.conversations.schemas.attachments import AttachmentOut
from ticaret.conversations.schemas.common import Cost, LanguageCode
from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.core.events import EventPayload
from ticaret.models import ConversationType, MessageRole, MessageSender

MAX_TEXT = 20_000


def _content_map(value: dict[str, Any] | None) -> dict[str, str] | None:
    """Every language that has text; Connect360 types the values `unknown`, we keep strings."""
    if value is None:
        return None
    kept: dict[str, str] = {}
    for language, text in value.items():
        if text is None:
            continue
        if not isinstance(text, str):
            raise ValueError(f"content.{language} must be a string")
        if len(text) > MAX_TEXT:
            raise ValueError(f"content.{language} is longer than {MAX_TEXT} characters")
        if text.strip():
            kept[language] = text
    return kept


class CustomerInput(ApiModel):
    """Who the customer is in the integrator's system; found or created in the CRM."""

    id: uuid.UUID | None = Field(default=None, description="A CRM customer of this account.")
    external_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The integrator's own id."
    )
    name: str | None = Field(default=None, max_length=300)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    image: str | None = Field(default=None, max_length=2000)
    metadata: dict[str, Any] | None = None


class AiTrigger(ApiModel):
    agent_id: uuid.UUID = Field(description="The AI agent that answers after the message is saved.")
    channel_id: str | None = Field(
        default=None, max_length=200, description="As `channelId`: the conversation's channel."
    )


class SendMessage(ApiModel):
    """The Connect360 send input (`conversationId` is the path)."""

    content: dict[str, Any] | None = Field(
        default=None,
        description="The text by language (`tr`, `en`, `ar`, ...); every language is kept, "
        "the channel gets the conversation's language or the first one.",
        examples=[{"en": "Hello from the support team.", "tr": "Destek ekibinden merhaba."}],
    )
    attachment_ids: list[uuid.UUID] | None = Field(default=None, max_length=20)
    flags: list[str] | None = Field(default=None, max_length=20)
    parent_id: uuid.UUID | None = Field(default=None, description="The message this replies to.")
    channel_id: str | None = Field(
        default=None,
        max_length=200,
        description="The conversation's channel, when the caller names it: the WhatsApp "
        "providerSessionId, the Page / Instagram asset id, or an api / widget conversation's "
        "channelIdentifier. Another channel is a 422.",
    )
    channel_identifier: str | None = Field(default=None, max_length=300)
    sender: MessageSender = MessageSender.workspace
    customer_id: uuid.UUID | None = None
    customer: CustomerInput | None = None
    ai: AiTrigger | None = None

    @field_validator("content", mode="after")
    @classmethod
    def _languages(cls, value: dict[str, Any] | None) -> dict[str, str] | None:
        content = _content_map(value)
        if content is not None:
            for language in content:
                LanguageCodeCheck.model_validate({"code": language})
        return content

    @field_validator("flags", mode="after")
    @classmethod
    def _flags(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for flag in value:
            if not 1 <= len(flag) <= 50:
                raise ValueError("a flag is 1 to 50 characters")
        return list(dict.fromkeys(value))


class LanguageCodeCheck(ApiModel):
    code: LanguageCode


class SenderOut(ResponseModel):
    type: MessageSender
    customer_id: uuid.UUID | None
    actor_type: str
    actor_id: str | None


class FunctionCall(ResponseModel):
    name: str
    arguments: Any
    result: Any


class ConversationMessageOut(ResponseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    role: MessageRole
    sender: SenderOut
    content: dict[str, str]
    language: str | None = Field(description="The language the channel got.")
    text: str | None = Field(description="The text in that language.")
    parent_id: uuid.UUID | None
    attachments: list[AttachmentOut]
    flags: list[str]
    function_calls: list[FunctionCall] | None
    agent_run_id: uuid.UUID | None
    tokens: int | None
    cost: Cost | None
    channel_identifier: str | None
    operation_id: uuid.UUID | None = Field(description="The channel send's operation.")
    source: Literal["wa", "meta"] | None = Field(
        description="Mirrored from a channel: `wa` (WhatsApp) or `meta` (Messenger/Instagram)."
    )
    source_message_id: uuid.UUID | None
    created_at: Timestamp


class ChannelOperationOut(ResponseModel):
    """The channel's send, as its own operations API shows it (`/wa/operations/{id}` or
    `/meta/operations/{id}`)."""

    id: uuid.UUID
    channel: ConversationType
    kind: str
    status: str
    attempts: int
    last_error: str | None
    created_at: Timestamp


class MessageSent(ResponseModel):
    """A send that no channel carries (api, widget, test, or a customer's message)."""

    message: ConversationMessageOut


class SendResult(MessageSent):
    """A workspace message on a WhatsApp, Messenger or Instagram conversation, with the
    channel's operation that sends it."""

    operation: ChannelOperationOut


class MessageCreated(EventPayload):
    """A message was added to a conversation; `aiAgentId` names the agent asked to answer."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    conversation_type: ConversationType
    role: MessageRole
    sender: MessageSender
    language: str | None
    text: str | None
    agent_run_id: uuid.UUID | None
    ai_agent_id: uuid.UUID | None = Field(
        description="The agent asked to answer: the send's `ai.agentId` (`aiTrigger` "
        "`requested`), or the conversation's agent for a customer message while `aiEnabled` "
        "(`aiTrigger` `auto`: the agent answers if it is enabled on the channel); null when no "
        "run is wanted."
    )
    ai_trigger: Literal["requested", "auto"] | None
    cost: Cost | None
    created_at: Timestamp
