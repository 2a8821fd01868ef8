from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.core.events import EventPayload
from ticaret.crm.schemas.assignments import AssignmentBrief
from ticaret.crm.schemas.identities import ChatLink
from ticaret.models import (
    ChatType,
    LabelChange,
    LabelStatus,
    LabelTarget,
    MessageAction,
    MessageType,
    OperationStatus,
    SessionStatus,
    ShareStatus,
)
from ticaret.wa.errors import InvalidLabelIds
from ticaret.wa.gateways.addresses import base_url_refusal, normalized_base_url

Provider = Literal["evolution", "waha", "sandbox"]
LabelMode = Literal["any", "all"]
ProviderSessionField = Annotated[
    str | None,
    Field(default=None, max_length=100, description="Session; may also be a query parameter."),
]

# Sessions ----------------------------------------------------------------------------------


class SessionConfig(ApiModel):
    base_url: str | None = Field(
        default=None, max_length=500, description="The gateway's base URL (Evolution/WAHA)."
    )
    api_key: str | None = Field(default=None, max_length=500, description="Stored encrypted.")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        # The shape is checked here (422); where it points is checked by the service against
        # the operator's policy, then again on every connection.
        if value is None:
            return value
        refusal = base_url_refusal(value)
        if refusal is not None:
            raise ValueError(refusal)
        return normalized_base_url(value)


class SessionCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    provider: Provider
    config: SessionConfig | None = None


class ShareOut(ResponseModel):
    """A share as its owner sees it: offered to an account, and whether it was accepted."""

    id: uuid.UUID
    provider_session_id: str
    account_id: uuid.UUID = Field(description="The account the session is offered to.")
    status: ShareStatus
    created_at: Timestamp
    responded_at: Timestamp | None


class SessionOut(ResponseModel):
    id: uuid.UUID
    provider_session_id: str
    account_id: uuid.UUID = Field(description="The owner account.")
    access: Literal["owner", "shared"]
    name: str
    provider: str
    base_url: str | None = Field(description="The gateway's address (owner only).")
    has_api_key: bool = Field(description="Whether an API key is stored (owner only).")
    status: SessionStatus
    raw_status: str | None
    status_changed_at: Timestamp | None
    status_error: str | None = Field(
        default=None, description="Set when the live status could not be read from the gateway."
    )
    me_jid: str | None
    me_phone: str | None
    me_name: str | None
    webhook_url: str | None = Field(description="Where the gateway posts events (owner only).")
    shared_with: list[uuid.UUID] = Field(description="Accounts that accepted a share (owner only).")
    shares: list[ShareOut] = Field(
        default_factory=list, description="Every share offer and its status (owner only)."
    )
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class SessionCreated(SessionOut):
    webhook_secret: str = Field(
        description="Shown once: gateways you configure by hand must send it in "
        "X-Ticaret-Webhook-Secret (WAHA may sign with it instead)."
    )


class PairingOut(ResponseModel):
    provider_session_id: str
    status: SessionStatus
    connected: bool
    qr: str | None = Field(description="The raw string encoded in the QR code.")
    qr_image: str | None = Field(description="data:image/png;base64,...")
    pairing_code: str | None


class ShareCreate(ApiModel):
    account_id: uuid.UUID


class ShareOfferOut(ResponseModel):
    """A share as the account it is offered to sees it."""

    id: uuid.UUID
    provider_session_id: str
    session_name: str
    owner_account_id: uuid.UUID
    status: ShareStatus
    created_at: Timestamp
    responded_at: Timestamp | None


class Removed(ResponseModel):
    removed: bool
    scope: Literal["session", "share"] | None = None


# Contacts and chats -------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelFilter:
    """`labelId` / `labelIds` of a list query: rows with any (or all) of these labels."""

    ids: list[uuid.UUID]
    mode: LabelMode

    @classmethod
    def build(
        cls, label_id: uuid.UUID | None, label_ids: list[str] | None, mode: LabelMode
    ) -> LabelFilter | None:
        ids: list[uuid.UUID] = [label_id] if label_id else []
        for raw in label_ids or []:
            for part in raw.split(","):
                if part.strip():
                    try:
                        ids.append(uuid.UUID(part.strip()))
                    except ValueError as exc:
                        raise InvalidLabelIds() from exc
        unique = list(dict.fromkeys(ids))
        return cls(unique, mode) if unique else None


class LabelBrief(ResponseModel):
    id: uuid.UUID
    name: str
    color: str


class ContactOut(ResponseModel):
    id: uuid.UUID
    provider_session_id: str
    jid: str
    lid: str | None
    phone: str | None
    name: str | None
    push_name: str | None
    is_group: bool
    profile_pic_url: str | None
    created_at: Timestamp
    updated_at: Timestamp


class ChatData(EventPayload):
    """A chat as every account that sees its session sees it (events carry this)."""

    id: uuid.UUID
    provider_session_id: str
    remote_jid: str
    alt_jid: str | None
    type: ChatType
    name: str | None
    last_message_at: Timestamp | None
    last_message_preview: str | None
    last_message_from_me: bool | None
    unread_count: int
    archived: bool
    created_at: Timestamp
    updated_at: Timestamp


class ChatOut(ChatData):
    labels: list[LabelBrief] = Field(description="This account's labels on the chat.")
    assignment: AssignmentBrief | None = Field(
        default=None, description="Who owns the chat in this account (CRM)."
    )
    customer_link: ChatLink | None = Field(
        default=None, description="This account's CRM customer (and contact) of the chat."
    )


# Messages -----------------------------------------------------------------------------------


class MessageData(EventPayload):
    """A message as every account that sees its session sees it (events carry this)."""

    id: uuid.UUID
    provider_session_id: str
    remote_jid: str
    message_id: str
    from_me: bool
    participant: str | None
    sender_jid_resolved: str | None
    sender_phone: str | None
    sender_name: str | None
    push_name: str | None
    chat_type: ChatType
    type: MessageType
    text: str | None = Field(description="Null once deleted for everyone.")
    emoji: str | None
    reaction_target: str | None
    mentions: list[str]
    quoted_message: dict[str, Any] | None
    has_media: bool
    mime_type: str | None
    media: dict[str, Any] | None
    location: dict[str, Any] | None
    contacts: list[str] | None
    reactions: dict[str, str]
    status: int = Field(
        description="Ack: -1 error, 0 pending, 1 server, 2 device, 3 read, 4 played"
    )
    receipt: dict[str, Any]
    is_forwarded: bool
    edited: bool
    edited_at: Timestamp | None
    deleted_for_me: bool
    deleted_for_everyone: bool
    origin: dict[str, Any] | None
    source_timestamp: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class MessageOut(MessageData):
    labels: list[LabelBrief] = Field(description="This account's labels on the message.")
    assignment: AssignmentBrief | None = Field(
        default=None,
        description="Who owns the message in this account (CRM): its own assignment, or its "
        "chat's (`scope`).",
    )
    customer_link: ChatLink | None = Field(
        default=None,
        description="This account's CRM customer of the message: the chat's, or in a group "
        "the sender's when the sender is mapped.",
    )


class OperationOut(ResponseModel):
    id: uuid.UUID
    action: MessageAction
    status: OperationStatus
    attempts: int
    last_error: str | None
    result: dict[str, Any] | None
    next_attempt_at: Timestamp | None
    completed_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class OperationRetry(ApiModel):
    provider_session_id: ProviderSessionField


class ActionResult(ResponseModel):
    message: MessageOut | None
    operation: OperationOut


class MediaSource(ApiModel):
    url: str | None = Field(default=None, max_length=2000, description="Public http(s) URL.")
    data: str | None = Field(default=None, description="The file itself, base64 encoded.")
    mimetype: str = Field(min_length=3, max_length=200)
    filename: str | None = Field(default=None, max_length=255)
    kind: Literal["image", "video", "audio", "document"] | None = None


class _Action(ApiModel):
    provider_session_id: ProviderSessionField


class SendText(_Action):
    action: Literal[MessageAction.send_text]
    text: str = Field(min_length=1, max_length=65536)
    mentions: list[str] = Field(default_factory=list, max_length=100)


class SendMedia(_Action):
    action: Literal[MessageAction.send_media]
    media: MediaSource
    caption: str | None = Field(default=None, max_length=4096)
    quoted_message_id: str | None = Field(default=None, max_length=200)


class Reply(_Action):
    action: Literal[MessageAction.reply]
    quoted_message_id: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=65536)
    mentions: list[str] = Field(default_factory=list, max_length=100)


class React(_Action):
    action: Literal[MessageAction.react]
    message_id: str = Field(min_length=1, max_length=200)
    emoji: str = Field(max_length=32, description="Empty string removes our reaction.")


class Edit(_Action):
    action: Literal[MessageAction.edit]
    message_id: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=65536)


class Delete(_Action):
    action: Literal[MessageAction.delete]
    message_id: str = Field(min_length=1, max_length=200)


class Forward(_Action):
    action: Literal[MessageAction.forward]
    message_id: str = Field(min_length=1, max_length=200)
    to_remote_jid: str = Field(min_length=3, max_length=128)


ActionRequest = Annotated[
    SendText | SendMedia | Reply | React | Edit | Delete | Forward,
    Field(discriminator="action"),
]


class MarkRead(ApiModel):
    provider_session_id: ProviderSessionField
    message_ids: list[str] | None = Field(default=None, max_length=500)


class ReadResult(ResponseModel):
    chat: ChatOut
    operation: OperationOut | None


# Labels -------------------------------------------------------------------------------------

Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="#RRGGBB")]


class LabelCreate(ApiModel):
    name: str = Field(min_length=1, max_length=100)
    color: Color
    description: str | None = Field(default=None, max_length=500)


class LabelUpdate(ApiModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    color: Color | None = None
    description: str | None = Field(default=None, max_length=500)
    status: LabelStatus | None = None
    entity_version: str | None = None


class LabelOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    name: str
    color: str
    description: str | None
    status: LabelStatus
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class LabelLink(ApiModel):
    provider_session_id: ProviderSessionField
    label_id: uuid.UUID


class LabelSet(ApiModel):
    provider_session_id: ProviderSessionField
    label_ids: list[uuid.UUID] = Field(max_length=100)


class LabelHistoryOut(ResponseModel):
    id: uuid.UUID
    label_id: uuid.UUID
    label_name: str
    action: LabelChange
    target_type: LabelTarget
    provider_session_id: str | None
    remote_jid: str | None
    message_id: str | None
    actor_type: str
    actor_id: str | None
    created_at: Timestamp


# Provider events and the sandbox -------------------------------------------------------------


class ReceiverResult(ResponseModel):
    received: bool
    duplicate: bool
    event_id: uuid.UUID | None


class SandboxInbound(ApiModel):
    from_: str = Field(alias="from", min_length=3, max_length=128, description="Phone or JID.")
    text: str | None = Field(default=None, max_length=65536)
    push_name: str | None = Field(default=None, max_length=200)
    with_media: bool = False
    reply_to: str | None = Field(default=None, max_length=200)
    message_id: str | None = Field(default=None, max_length=200)


class SandboxInboundResult(ResponseModel):
    event_id: uuid.UUID | None
    duplicate: bool
    remote_jid: str
    message_id: str
