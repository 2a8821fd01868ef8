"""Conversations: the list filters, creation of api / widget conversations, the detail and the
human takeover update."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from ticaret.conversations.schemas.common import Cost, LanguageCode
from ticaret.conversations.schemas.messages import CustomerInput, FunctionCall
from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.core.events import EventPayload
from ticaret.models import ConversationStatus, ConversationType, MessageRole


class ConversationCreate(ApiModel):
    type: Literal[ConversationType.api, ConversationType.widget] = ConversationType.api
    channel_identifier: str | None = Field(
        default=None, max_length=300, description="Where it lives on your side (a site, ...)."
    )
    customer_id: uuid.UUID | None = None
    customer: CustomerInput | None = Field(
        default=None, description="Found by externalId, then email, then phone; else created."
    )
    language: LanguageCode | None = None
    agent_id: uuid.UUID | None = Field(default=None, description="The AI agent that answers it.")
    ai_enabled: bool = True

    @model_validator(mode="after")
    def _one_customer(self) -> ConversationCreate:
        if self.customer_id is not None and self.customer is not None:
            raise ValueError("send customerId or customer, not both")
        return self


class Assignee(ApiModel):
    type: Literal["user", "group"]
    id: uuid.UUID


class ConversationUpdate(ApiModel):
    status: ConversationStatus | None = None
    ai_enabled: bool | None = Field(
        default=None, description="false hands the conversation to people (human takeover)."
    )
    assignee: Assignee | None = Field(
        default=None, description="A user or a group of the account; null clears it."
    )
    language: LanguageCode | None = None
    agent_id: uuid.UUID | None = None


class ConversationFilter(ApiModel):
    type: ConversationType | None = None
    agent_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    status: ConversationStatus | None = None
    ai_enabled: bool | None = None
    date_from: date | None = Field(default=None, description="Created on or after (UTC day).")
    date_to: date | None = Field(default=None, description="Created on or before (UTC day).")


class CustomerBrief(ResponseModel):
    id: uuid.UUID
    title: str


class ChannelRefs(ResponseModel):
    provider_session_id: str | None = Field(description="The WhatsApp session.")
    remote_jid: str | None = Field(description="The WhatsApp chat.")
    asset_id: uuid.UUID | None = Field(description="The Page or Instagram account.")
    thread_id: uuid.UUID | None = Field(description="The Messenger / Instagram thread.")


class AssigneeOut(ResponseModel):
    user_id: uuid.UUID | None
    group_id: uuid.UUID | None


class ConversationOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    type: ConversationType
    status: ConversationStatus
    ai_enabled: bool
    agent_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    customer: CustomerBrief | None
    assignee: AssigneeOut
    language: str | None
    channel_identifier: str | None
    channel: ChannelRefs
    message_count: int
    total_cost: Cost
    last_message_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class ConversationData(EventPayload):
    id: uuid.UUID
    type: ConversationType
    status: ConversationStatus
    ai_enabled: bool
    agent_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    assignee_user_id: uuid.UUID | None
    assignee_group_id: uuid.UUID | None
    message_count: int
    total_cost: Cost


class ConversationUpdated(ConversationData):
    changed: list[str]


class HistoryEntry(ResponseModel):
    """WhatTalk's history entry, with the time added; `function_calls` keeps WhatTalk's
    spelling and is absent when the message made none."""

    role: MessageRole
    content: str
    function_calls: list[FunctionCall] | None = Field(
        default=None, serialization_alias="function_calls", exclude_if=lambda calls: calls is None
    )
    created_at: Timestamp


class History(ResponseModel):
    history: list[HistoryEntry]
