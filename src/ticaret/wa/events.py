"""Event types of the WhatsApp domain: sessions, messages, chats and labels.

Events about a session's conversation go to every account that sees the session (its owner
and the accounts it is shared with); label events only to the account whose label it is.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from ticaret.core.events import EventPayload, event_type
from ticaret.models import LabelChange, LabelTarget, SessionStatus, ShareStatus
from ticaret.wa.schemas import ChatData, MessageData


class SessionStatusChanged(EventPayload):
    provider_session_id: str
    status: SessionStatus
    previous_status: SessionStatus
    raw_status: str | None
    me_jid: str | None


class SessionDeleted(EventPayload):
    provider_session_id: str
    name: str
    owner_account_id: uuid.UUID


class SessionShareChanged(EventPayload):
    """A share offer: made, accepted, declined or withdrawn. Goes to the owner and the target."""

    share_id: uuid.UUID
    provider_session_id: str
    session_name: str
    owner_account_id: uuid.UUID
    account_id: uuid.UUID = Field(description="The account the session is (was) offered to.")
    status: ShareStatus


class MessageDeleted(MessageData):
    scope: Literal["everyone", "me"]


class LabelRef(EventPayload):
    id: uuid.UUID
    name: str
    color: str


class LabelChanged(EventPayload):
    action: LabelChange
    target_type: LabelTarget
    label: LabelRef
    provider_session_id: str | None
    remote_jid: str | None
    message_id: str | None


SESSION_STATUS_CHANGED = event_type(
    "wa.session.status_changed",
    "A session's status changed (pairing, connected, logged out, failed).",
    SessionStatusChanged,
)
SESSION_DELETED = event_type(
    "wa.session.deleted",
    "The owner deleted a session; every account that used it loses it.",
    SessionDeleted,
)
SESSION_SHARED = event_type(
    "wa.session.shared",
    "A session was offered to another account; its admin accepts or declines the offer.",
    SessionShareChanged,
)
SESSION_SHARE_ACCEPTED = event_type(
    "wa.session.share_accepted",
    "The target account accepted a share: from now on it sees the session's conversation.",
    SessionShareChanged,
)
SESSION_SHARE_DECLINED = event_type(
    "wa.session.share_declined", "The target account declined a share.", SessionShareChanged
)
SESSION_UNSHARED = event_type(
    "wa.session.unshared",
    "A share ended: the owner withdrew it, or the target account dropped its access.",
    SessionShareChanged,
)
MESSAGE_RECEIVED = event_type("wa.message.received", "A customer's message arrived.", MessageData)
MESSAGE_SENT = event_type(
    "wa.message.sent",
    "A message of ours was sent: through the API (once the gateway accepted it) or from a "
    "linked phone.",
    MessageData,
)
MESSAGE_UPDATED = event_type(
    "wa.message.updated",
    "A message changed: delivery or read ack, an edit, a reaction on it, or a failed send.",
    MessageData,
)
MESSAGE_DELETED = event_type(
    "wa.message.deleted",
    "A message was deleted, for everyone or only on our side (`scope`).",
    MessageDeleted,
)
CHAT_UPDATED = event_type(
    "wa.chat.updated",
    "A chat changed: its last message, unread count or name.",
    ChatData,
)
LABEL_CHANGED = event_type(
    "wa.label.changed",
    "A label was created, updated or deleted, or added to or removed from a chat or message.",
    LabelChanged,
)
