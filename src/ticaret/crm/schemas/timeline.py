"""The customer timeline: one feed of items of several kinds, newest first. A new source is
one item model here and one source registered with `service.timeline.source` (the orders'
is `orders/timeline.py`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field

from ticaret.core.envelope import ResponseModel, Timestamp
from ticaret.core.money import Money
from ticaret.crm.schemas.assignments import AssignmentChangeOut
from ticaret.crm.schemas.audit import AuditEntryOut
from ticaret.crm.schemas.comments import CommentOut
from ticaret.crm.schemas.notes import NoteOut
from ticaret.crm.schemas.tasks import TaskOut
from ticaret.models import (
    ChatType,
    FulfillmentStatus,
    MessageType,
    OrderStatus,
    PaymentStatus,
    Platform,
    SocialMessageStatus,
    SocialMessageType,
)


class TimelineMessage(ResponseModel):
    id: uuid.UUID
    provider_session_id: str
    remote_jid: str
    message_id: str
    chat_type: ChatType
    from_me: bool
    type: MessageType
    text: str | None = Field(description="Null once deleted for everyone.")
    sender_name: str | None
    push_name: str | None
    has_media: bool
    status: int
    deleted_for_everyone: bool
    source_timestamp: Timestamp


class TimelineSocialMessage(ResponseModel):
    """A Page or Instagram DM (`/meta/assets/{assetId}/threads/{threadId}/messages` shows it
    whole)."""

    id: uuid.UUID
    platform: Platform
    asset_id: uuid.UUID
    thread_id: uuid.UUID
    participant_id: str = Field(description="The person's PSID or IGSID.")
    participant_name: str | None
    mid: str
    from_me: bool
    type: SocialMessageType
    text: str | None = Field(description="Null once the person deleted it.")
    has_attachments: bool
    status: SocialMessageStatus
    deleted: bool
    source_timestamp: Timestamp


class _Item(ResponseModel):
    id: uuid.UUID = Field(description="The id of the object the item shows.")
    at: Timestamp = Field(description="When it happened; the feed's order.")


class MessageItem(_Item):
    kind: Literal["message"] = "message"
    message: TimelineMessage


class SocialMessageItem(_Item):
    kind: Literal["social_message"] = "social_message"
    message: TimelineSocialMessage


class NoteItem(_Item):
    kind: Literal["note"] = "note"
    note: NoteOut


class CommentItem(_Item):
    kind: Literal["comment"] = "comment"
    comment: CommentOut


class TaskItem(_Item):
    kind: Literal["task"] = "task"
    task: TaskOut


class AssignmentItem(_Item):
    kind: Literal["assignment"] = "assignment"
    assignment: AssignmentChangeOut


class AuditItem(_Item):
    kind: Literal["audit"] = "audit"
    audit: AuditEntryOut


class TimelineOrder(ResponseModel):
    """An order of the customer, as the timeline shows it (the order itself: GET
    /orders/{orderId}). The orders domain fills it (`orders/timeline.py`)."""

    id: uuid.UUID
    order_no: str
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    currency: str
    grand_total: Money
    item_count: int
    source_channel: str | None


class OrderItem(_Item):
    kind: Literal["order"] = "order"
    order: TimelineOrder


TimelineItem = Annotated[
    MessageItem
    | SocialMessageItem
    | NoteItem
    | CommentItem
    | TaskItem
    | AssignmentItem
    | AuditItem
    | OrderItem,
    Field(discriminator="kind"),
]
# `message`: WhatsApp; `social_message`: Page and Instagram DMs; `order`: the customer's orders.
TimelineKind = Literal[
    "message", "social_message", "note", "comment", "task", "assignment", "audit", "order"
]
