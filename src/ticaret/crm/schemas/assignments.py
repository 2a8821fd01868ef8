from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.crm.schemas.common import ActorOut, EntityVersion
from ticaret.models import AssigneeType, AssignmentTarget

MAX_BULK = 1000
Reason = Field(default=None, max_length=500, description="Why; kept in the history.")


class AssignmentSet(ApiModel):
    provider_session_id: str | None = Field(
        default=None, max_length=100, description="The WhatsApp session; may be a query parameter."
    )
    assignee_type: AssigneeType
    assignee_id: uuid.UUID = Field(description="A member (user) or a CRM group of the account.")
    reason: str | None = Reason
    entity_version: EntityVersion


class Assignee(ResponseModel):
    type: AssigneeType
    id: uuid.UUID
    name: str | None = Field(description="The user's or group's name (null once removed).")


class AssignmentOut(ResponseModel):
    target_type: AssignmentTarget
    provider_session_id: str
    remote_jid: str
    message_id: str | None
    status: Literal["assigned", "unassigned"]
    assignee: Assignee | None
    scope: Literal["chat", "message"] = Field(
        description="Where the assignment comes from: a message without its own assignment "
        "follows its chat's."
    )
    reason: str | None
    assigned_at: Timestamp | None
    assigned_by: ActorOut | None
    entity_version: str = Field(
        description="Of this target's own assignment (`0` before the first one)."
    )


class AssignmentBrief(ResponseModel):
    """`assignment` on WhatsApp chat and message objects (the calling account's)."""

    scope: Literal["chat", "message"] = Field(
        description="A message without its own assignment shows its chat's."
    )
    assignee: Assignee
    assigned_at: Timestamp | None


class ChatRef(ApiModel):
    provider_session_id: str = Field(min_length=1, max_length=100)
    remote_jid: str = Field(min_length=1, max_length=128)


class MessageRef(ChatRef):
    message_id: str = Field(min_length=1, max_length=200)


class BulkAssignChats(ApiModel):
    chats: list[ChatRef] = Field(min_length=1, max_length=MAX_BULK)
    assignee_type: AssigneeType
    assignee_id: uuid.UUID
    reason: str | None = Reason


class BulkUnassignChats(ApiModel):
    chats: list[ChatRef] = Field(min_length=1, max_length=MAX_BULK)
    reason: str | None = Reason


class BulkAssignMessages(ApiModel):
    messages: list[MessageRef] = Field(min_length=1, max_length=MAX_BULK)
    assignee_type: AssigneeType
    assignee_id: uuid.UUID
    reason: str | None = Reason


class BulkUnassignMessages(ApiModel):
    messages: list[MessageRef] = Field(min_length=1, max_length=MAX_BULK)
    reason: str | None = Reason


class BulkResult(ResponseModel):
    bulk_id: uuid.UUID = Field(description="Names this request's rows in the history.")
    changed: int
    unchanged: int = Field(description="Targets that were already as asked (no history row).")
    rows: list[AssignmentOut]


class AssigneeRef(ResponseModel):
    type: AssigneeType
    id: uuid.UUID


class AssignmentChangeOut(ResponseModel):
    id: uuid.UUID
    target_type: AssignmentTarget
    provider_session_id: str
    remote_jid: str
    message_id: str | None
    from_assignee: AssigneeRef | None
    to_assignee: AssigneeRef | None
    reason: str | None
    bulk_id: uuid.UUID | None
    actor: ActorOut
    created_at: Timestamp
