"""Rows to response and event shapes: what a row lacks (its session's public id, the account's
labels) is added here; everything else is read from the row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from ticaret.core.envelope import RowEncoder, from_row
from ticaret.crm.service.overlay import Overlay
from ticaret.models import WaChat, WaContact, WaLabel, WaMessage, WaMessageOperation
from ticaret.wa.events import MessageDeleted
from ticaret.wa.schemas import (
    ChatData,
    ChatOut,
    ContactOut,
    LabelBrief,
    LabelOut,
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


def _briefs(labels: Sequence[WaLabel]) -> list[LabelBrief]:
    return [LabelBrief.model_validate(label) for label in labels]


def _shown_text(message: WaMessage) -> str | None:
    return None if message.deleted_for_everyone else message.text


def message_out(
    message: WaMessage,
    provider_session_id: str,
    labels: Sequence[WaLabel] = (),
    crm: Overlay | None = None,
) -> MessageOut:
    return from_row(
        MessageOut,
        message,
        provider_session_id=provider_session_id,
        text=_shown_text(message),
        mime_type=message.mimetype,
        labels=_briefs(labels),
        assignment=crm.assignment if crm else None,
        customer_link=crm.customer_link if crm else None,
    )


MESSAGE_JSON = RowEncoder(MessageOut)
CHAT_JSON = RowEncoder(ChatOut)


def message_json(
    message: WaMessage,
    provider_session_id: str,
    labels: Sequence[WaLabel] = (),
    crm: Overlay | None = None,
) -> dict[str, Any]:
    """`message_out` as it goes on the wire, without building the model (hot lists)."""
    return MESSAGE_JSON.encode(
        message,
        provider_session_id=provider_session_id,
        text=_shown_text(message),
        mime_type=message.mimetype,
        labels=_brief_json(labels),
        assignment=crm.assignment if crm else None,
        customer_link=crm.customer_link if crm else None,
    )


def chat_json(
    chat: WaChat,
    provider_session_id: str,
    labels: Sequence[WaLabel] = (),
    crm: Overlay | None = None,
) -> dict[str, Any]:
    """`chat_out` as it goes on the wire, without building the model (hot lists)."""
    return CHAT_JSON.encode(
        chat,
        provider_session_id=provider_session_id,
        labels=_brief_json(labels),
        assignment=crm.assignment if crm else None,
        customer_link=crm.customer_link if crm else None,
    )


_RAW_MESSAGE = MESSAGE_JSON.record_encoder(
    {"provider_session_id", "text", "labels", "assignment", "customer_link", "entity_version"},
    columns={"mime_type": "mimetype"},
)
_RAW_CHAT = CHAT_JSON.record_encoder(
    {"provider_session_id", "labels", "assignment", "customer_link"}
)


def message_json_raw(
    message: Any,
    provider_session_id: str,
    labels: Sequence[Any],
    assignment: dict[str, Any] | None,
) -> dict[str, Any]:
    """`message_json` of a raw row (read by key) with its labels and assignment JSON; the raw
    path only runs without a customer link to show."""
    return _RAW_MESSAGE(
        message,
        {
            "provider_session_id": provider_session_id,
            "text": None if message["deleted_for_everyone"] else message["text"],
            "labels": _brief_json(labels),
            "assignment": assignment,
            "customer_link": None,
            "entity_version": str(message["version"]),
        },
    )


def chat_json_raw(
    chat: Any, provider_session_id: str, labels: Sequence[Any], assignment: dict[str, Any] | None
) -> dict[str, Any]:
    return _RAW_CHAT(
        chat,
        {
            "provider_session_id": provider_session_id,
            "labels": _brief_json(labels),
            "assignment": assignment,
            "customer_link": None,
        },
    )


def _brief_json(labels: Sequence[Any]) -> list[dict[str, Any]]:
    # ORM labels (attributes) or raw rows (keys).
    return [
        {"id": label["id"], "name": label["name"], "color": label["color"]}
        if not isinstance(label, WaLabel)
        else {"id": label.id, "name": label.name, "color": label.color}
        for label in labels
    ]


def message_data(message: WaMessage, provider_session_id: str) -> MessageData:
    """Event payload: the message as the API shows it, without account-specific labels."""
    return from_row(
        MessageData,
        message,
        provider_session_id=provider_session_id,
        text=_shown_text(message),
        mime_type=message.mimetype,
    )


# Event payloads of raw rows (read by key), as `message_data` / `chat_data` dumped in JSON
# mode would give them: the batch path's events, without a model built and dumped per event.
# `RowEncoder` leaves UUIDs to orjson; an event's data must be plain JSON (the relay writes it
# with `json`), so the ids go in as strings. A test holds these to the models' own dumps.
_MESSAGE_DATA_RECORD = RowEncoder(MessageData).record_encoder(
    {"id", "provider_session_id", "text", "entity_version"}, columns={"mime_type": "mimetype"}
)
_CHAT_DATA_RECORD = RowEncoder(ChatData).record_encoder({"id", "provider_session_id"})


def message_data_record(message: Any, provider_session_id: str) -> dict[str, Any]:
    """`message_data(...).model_dump(mode="json", by_alias=True)` of a raw message row."""
    return _MESSAGE_DATA_RECORD(
        message,
        {
            "id": str(message["id"]),
            "provider_session_id": provider_session_id,
            "text": None if message["deleted_for_everyone"] else message["text"],
            "entity_version": str(message["version"]),
        },
    )


def chat_data_record(chat: Any, provider_session_id: str) -> dict[str, Any]:
    """`chat_data(...).model_dump(mode="json", by_alias=True)` of a raw chat row."""
    return _CHAT_DATA_RECORD(
        chat, {"id": str(chat["id"]), "provider_session_id": provider_session_id}
    )


def message_deleted(
    message: WaMessage, provider_session_id: str, scope: Literal["everyone", "me"]
) -> MessageDeleted:
    return from_row(
        MessageDeleted,
        message,
        provider_session_id=provider_session_id,
        text=_shown_text(message),
        mime_type=message.mimetype,
        scope=scope,
    )


def chat_out(
    chat: WaChat,
    provider_session_id: str,
    labels: Sequence[WaLabel] = (),
    crm: Overlay | None = None,
) -> ChatOut:
    return from_row(
        ChatOut,
        chat,
        provider_session_id=provider_session_id,
        labels=_briefs(labels),
        assignment=crm.assignment if crm else None,
        customer_link=crm.customer_link if crm else None,
    )


def chat_data(chat: WaChat, provider_session_id: str) -> ChatData:
    return from_row(ChatData, chat, provider_session_id=provider_session_id)


def contact_out(contact: WaContact, provider_session_id: str) -> ContactOut:
    return from_row(ContactOut, contact, provider_session_id=provider_session_id)


def operation_out(operation: WaMessageOperation) -> OperationOut:
    return OperationOut.model_validate(operation)


def label_out(label: WaLabel) -> LabelOut:
    return LabelOut.model_validate(label)
