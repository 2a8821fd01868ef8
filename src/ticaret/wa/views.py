"""Rows to response models, and the account's labels attached to chats and messages."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
    ChatOut,
    ContactOut,
    LabelBrief,
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
    return MessageOut(
        id=message.id,
        provider_session_id=provider_session_id,
        remote_jid=message.remote_jid,
        message_id=message.message_id,
        from_me=message.from_me,
        participant=message.participant,
        sender_jid_resolved=message.sender_jid_resolved,
        sender_phone=message.sender_phone,
        sender_name=message.sender_name,
        push_name=message.push_name,
        chat_type=message.chat_type,
        type=message.type,
        text=None if message.deleted_for_everyone else message.text,
        emoji=message.emoji,
        reaction_target=message.reaction_target,
        mentions=message.mentions,
        quoted_message=message.quoted_message,
        has_media=message.has_media,
        mime_type=message.mimetype,
        media=message.media,
        location=message.location,
        contacts=message.contacts,
        reactions=message.reactions,
        status=message.status,
        receipt=message.receipt,
        is_forwarded=message.is_forwarded,
        edited=message.edited,
        edited_at=message.edited_at,
        deleted_for_me=message.deleted_for_me,
        deleted_for_everyone=message.deleted_for_everyone,
        origin=message.origin,
        labels=list(labels),
        source_timestamp=message.source_timestamp,
        created_at=message.created_at,
        updated_at=message.updated_at,
        entity_version=message.entity_version,
    )


def message_data(message: WaMessage, provider_session_id: str) -> dict[str, Any]:
    """Event payload: the message as the API shows it, without account-specific labels."""
    data = message_out(message, provider_session_id).model_dump(mode="json", by_alias=True)
    data.pop("labels", None)
    return data


def chat_out(chat: WaChat, provider_session_id: str, labels: Sequence[LabelBrief] = ()) -> ChatOut:
    return ChatOut(
        id=chat.id,
        provider_session_id=provider_session_id,
        remote_jid=chat.remote_jid,
        alt_jid=chat.alt_jid,
        type=chat.type,
        name=chat.name,
        last_message_at=chat.last_message_at,
        last_message_preview=chat.last_message_preview,
        last_message_from_me=chat.last_message_from_me,
        unread_count=chat.unread_count,
        archived=chat.archived,
        labels=list(labels),
        created_at=chat.created_at,
        updated_at=chat.updated_at,
    )


def chat_data(chat: WaChat, provider_session_id: str) -> dict[str, Any]:
    data = chat_out(chat, provider_session_id).model_dump(mode="json", by_alias=True)
    data.pop("labels", None)
    return data


def contact_out(contact: WaContact, provider_session_id: str) -> ContactOut:
    return ContactOut(
        id=contact.id,
        provider_session_id=provider_session_id,
        jid=contact.jid,
        lid=contact.lid,
        phone=contact.phone,
        name=contact.name,
        push_name=contact.push_name,
        is_group=contact.is_group,
        profile_pic_url=contact.profile_pic_url,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
    )


def operation_out(operation: WaMessageOperation) -> OperationOut:
    return OperationOut(
        id=operation.id,
        action=operation.action,
        status=operation.status,
        attempts=operation.attempts,
        last_error=operation.last_error,
        result=operation.result,
        next_attempt_at=operation.next_attempt_at,
        completed_at=operation.completed_at,
        created_at=operation.created_at,
        updated_at=operation.updated_at,
    )


def _brief(label: WaLabel) -> LabelBrief:
    return LabelBrief(id=label.id, name=label.name, color=label.color)


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
