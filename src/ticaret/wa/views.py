"""Rows to response models, and the account's labels attached to chats and messages."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.envelope import from_row
from ticaret.models import (
    WaChat,
    WaChatLabel,
    WaContact,
    WaLabel,
    WaMessage,
    WaMessageLabel,
    WaMessageOperation,
)
from ticaret.wa.schemas import (
    ChatData,
    ChatOut,
    ContactOut,
    LabelBrief,
    MessageData,
    MessageOut,
    OperationOut,
)

PREVIEW_LENGTH = 200
_PLACEHOLDERS = {
    "image": "[image]",
    "video": "[video]",
    "audio": "[audio]",
    "voice": "[voice message]",
    "document": "[document]",
    "sticker": "[sticker]",
    "location": "[location]",
    "contacts": "[contact card]",
    "poll": "[poll]",
}


def preview_of(message_type: str, text: str | None) -> str:
    if text:
        return text[:PREVIEW_LENGTH]
    return _PLACEHOLDERS.get(message_type, f"[{message_type}]")


def message_out(
    message: WaMessage, provider_session_id: str, labels: Sequence[LabelBrief] = ()
) -> MessageOut:
    return from_row(
        MessageOut,
        message,
        provider_session_id=provider_session_id,
        text=None if message.deleted_for_everyone else message.text,
        mime_type=message.mimetype,
        labels=list(labels),
    )


def message_data(message: WaMessage, provider_session_id: str) -> MessageData:
    """Event payload: the message as the API shows it, without account-specific labels."""
    return from_row(
        MessageData,
        message,
        provider_session_id=provider_session_id,
        text=None if message.deleted_for_everyone else message.text,
        mime_type=message.mimetype,
    )


def chat_out(chat: WaChat, provider_session_id: str, labels: Sequence[LabelBrief] = ()) -> ChatOut:
    return from_row(ChatOut, chat, provider_session_id=provider_session_id, labels=list(labels))


def chat_data(chat: WaChat, provider_session_id: str) -> ChatData:
    return from_row(ChatData, chat, provider_session_id=provider_session_id)


def contact_out(contact: WaContact, provider_session_id: str) -> ContactOut:
    return from_row(ContactOut, contact, provider_session_id=provider_session_id)


def operation_out(operation: WaMessageOperation) -> OperationOut:
    return OperationOut.model_validate(operation)


def _brief(label: WaLabel) -> LabelBrief:
    return LabelBrief.model_validate(label)


async def chat_labels(
    session: AsyncSession, account_id: uuid.UUID, chat_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[LabelBrief]]:
    found: dict[uuid.UUID, list[LabelBrief]] = defaultdict(list)
    if not chat_ids:
        return found
    rows = await session.execute(
        select(WaChatLabel.chat_id, WaLabel)
        .join(WaLabel, WaLabel.id == WaChatLabel.label_id)
        .where(WaChatLabel.account_id == account_id, WaChatLabel.chat_id.in_(chat_ids))
        .order_by(WaLabel.name)
    )
    for chat_id, label in rows.tuples():
        found[chat_id].append(_brief(label))
    return found


async def message_labels(
    session: AsyncSession, account_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[LabelBrief]]:
    found: dict[uuid.UUID, list[LabelBrief]] = defaultdict(list)
    if not message_ids:
        return found
    rows = await session.execute(
        select(WaMessageLabel.message_id, WaLabel)
        .join(WaLabel, WaLabel.id == WaMessageLabel.label_id)
        .where(WaMessageLabel.account_id == account_id, WaMessageLabel.message_id.in_(message_ids))
        .order_by(WaLabel.name)
    )
    for message_id, label in rows.tuples():
        found[message_id].append(_brief(label))
    return found
