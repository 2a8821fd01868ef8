"""Evolution API v2 webhook bodies to normalized events.

Body: `{event, instance, data, destination, date_time, sender, server_url, apikey}`
(`WebhookController.emit`). Message data is Evolution's `prepareMessage` output:
`{key, pushName, status, message, contextInfo, messageType, messageTimestamp, source}`, where
`extendedTextMessage` has already been folded into `message.conversation` and the content's
`contextInfo` copied to the top level.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ticaret.wa.gateways._jid import (
    as_bool,
    as_dict,
    as_int,
    as_str,
    chat_type_of,
    from_epoch,
    is_group,
    is_lid,
    is_phone_jid,
    phone_of,
)
from ticaret.wa.gateways._proto import (
    PROTOCOL_MESSAGE_EDIT,
    PROTOCOL_REVOKE,
    protocol_message,
    protocol_type,
    read_content,
    text_of,
)
from ticaret.wa.gateways.normalized import (
    Ack,
    ChatLabelChanged,
    ChatUpserted,
    ContactUpserted,
    GatewayEvent,
    MalformedEvent,
    MessageAck,
    MessageEdited,
    MessageRevoked,
    MessageUpserted,
    NormalizedMessage,
    QrUpdated,
    ReactionReceived,
    SessionState,
    SessionStatus,
    SessionStatusChanged,
    UnknownEvent,
)

# Evolution's `renderStatus` names (and Baileys' numeric WebMessageInfo.Status) on WAHA's scale.
STATUS_TO_ACK: dict[str | int, Ack] = {
    "ERROR": Ack.ERROR,
    "PENDING": Ack.PENDING,
    "SERVER_ACK": Ack.SERVER,
    "DELIVERY_ACK": Ack.DEVICE,
    "READ": Ack.READ,
    "PLAYED": Ack.PLAYED,
    0: Ack.ERROR,
    1: Ack.PENDING,
    2: Ack.SERVER,
    3: Ack.DEVICE,
    4: Ack.READ,
    5: Ack.PLAYED,
}
CONNECTION_STATES: dict[str, SessionStatus] = {
    "open": SessionStatus.WORKING,
    # "connecting" is both "waiting for a QR scan" and "reconnecting a linked session";
    # Evolution does not tell them apart, `qrcode.updated` events do.
    "connecting": SessionStatus.STARTING,
    "close": SessionStatus.STOPPED,
    "refused": SessionStatus.FAILED,
}
SECRET_KEYS = frozenset({"apikey"})


def normalize_event_name(name: str) -> str:
    # Global webhooks and `byEvents` URLs use MESSAGES_UPSERT / messages-upsert spellings.
    return name.strip().lower().replace("_", ".").replace("-", ".")


def session_state(
    raw_state: str, me_jid: str | None = None, me_name: str | None = None
) -> SessionState:
    status = CONNECTION_STATES.get(raw_state, SessionStatus.FAILED)
    return SessionState(status=status, raw=raw_state, me_jid=me_jid, me_name=me_name)


def strip_secrets(payload: Any) -> Any:
    if isinstance(payload, dict):
        return {k: strip_secrets(v) for k, v in payload.items() if k.lower() not in SECRET_KEYS}
    if isinstance(payload, list):
        return [strip_secrets(item) for item in payload]
    return payload


def parse(payload: Any) -> list[GatewayEvent]:
    body = as_dict(payload)
    event = as_str(body.get("event"))
    if event is None:
        return [UnknownEvent(None, "body is not an Evolution webhook (no event name)")]
    name = normalize_event_name(event)
    handler = _HANDLERS.get(name)
    if handler is None:
        return [UnknownEvent(name, "event type not handled")]
    try:
        return handler(body.get("data"))
    except Exception as exc:  # a parser bug must not lose the webhook
        return [MalformedEvent(name, f"parse error: {type(exc).__name__}")]


def event_key(payload: Any, raw_body: bytes) -> str:
    """Same logical event -> same key, even when Evolution retries with a new `date_time`."""
    body = as_dict(payload)
    event = as_str(body.get("event"))
    data = body.get("data")
    if event is None or data is None:
        return "sha256:" + hashlib.sha256(raw_body).hexdigest()
    name = normalize_event_name(event)
    record = as_dict(data)
    key = as_dict(record.get("key"))
    message_id = as_str(key.get("id")) or as_str(record.get("keyId"))
    if name in ("messages.upsert", "send.message") and message_id:
        return f"evolution:{name}:{message_id}"
    if name == "messages.update" and message_id:
        return f"evolution:{name}:{message_id}:{record.get('status')}"
    # Everything else is keyed on its content, minus envelope fields that change on retry.
    canonical = json.dumps(
        {"event": name, "instance": body.get("instance"), "data": strip_secrets(data)},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return f"evolution:{name}:" + hashlib.sha256(canonical.encode()).hexdigest()


# --- messages -----------------------------------------------------------------------------


def _ack_of(status: Any) -> int | None:
    if isinstance(status, str | int) and not isinstance(status, bool):
        ack = STATUS_TO_ACK.get(status)
        return int(ack) if ack is not None else None
    return None


def _sender(key: dict[str, Any], from_me: bool) -> tuple[str | None, str | None]:
    """(sender JID, its phone-number alternative) from a Baileys key with v7 `*Alt` fields."""
    chat_id = as_str(key.get("remoteJid"))
    if is_group(chat_id):
        jid = as_str(key.get("participant"))
        alt = as_str(key.get("participantAlt")) or as_str(key.get("participantPn"))
    elif from_me:
        return None, None
    else:
        jid = chat_id
        alt = as_str(key.get("remoteJidAlt")) or as_str(key.get("senderPn"))
    if alt == jid:
        alt = None
    return jid, alt


def _message_events(data: Any, origin: str | None, event: str) -> list[GatewayEvent]:
    records = data if isinstance(data, list) else [data]
    events: list[GatewayEvent] = []
    for record in records:
        events.extend(_message_event(as_dict(record), origin, event))
    return events


def _message_event(record: dict[str, Any], origin: str | None, event: str) -> list[GatewayEvent]:
    key = as_dict(record.get("key"))
    chat_id = as_str(key.get("remoteJid"))
    message_id = as_str(key.get("id"))
    if chat_id is None or message_id is None:
        return [MalformedEvent(event, "message without key.remoteJid/key.id")]
    from_me = as_bool(key.get("fromMe")) is True
    message = as_dict(record.get("message"))
    timestamp = from_epoch(record.get("messageTimestamp"))
    sender_jid, sender_alt = _sender(key, from_me)

    protocol = protocol_message(message)
    if protocol is not None:
        return [_protocol_event(event, chat_id, protocol, timestamp)]

    reaction = as_dict(message.get("reactionMessage"))
    if reaction:
        target = as_str(as_dict(reaction.get("key")).get("id"))
        if target is None:
            return [MalformedEvent(event, "reaction without target key.id")]
        return [
            ReactionReceived(
                chat_id=chat_id,
                target_message_id=target,
                emoji=as_str(reaction.get("text")) or "",
                sender_jid=sender_jid,
                from_me=from_me,
                reaction_message_id=message_id,
                timestamp=timestamp,
                sender_alt_jid=sender_alt,
            )
        ]

    content = read_content(message, as_dict(record.get("contextInfo")) or None)
    media = dict(content.media)
    if content.media:
        # What `open_media` needs to find the file again on Evolution.
        media.update({"keyId": message_id, "remoteJid": chat_id, "fromMe": from_me})
        media_url = as_str(message.get("mediaUrl"))  # set when Evolution's S3 storage is on
        if media_url:
            media["mediaUrl"] = media_url
    phone_source = sender_alt if sender_alt and is_phone_jid(sender_alt) else sender_jid
    chat_alt = as_str(key.get("remoteJidAlt")) if is_lid(chat_id) else None
    normalized = NormalizedMessage(
        chat_id=chat_id,
        message_id=message_id,
        from_me=from_me,
        chat_type=chat_type_of(chat_id),
        type=content.type,
        raw_type=as_str(record.get("messageType")) or content.raw_type,
        timestamp=timestamp,
        participant=as_str(key.get("participant")),
        sender_jid=sender_jid,
        sender_alt_jid=sender_alt,
        sender_phone=phone_of(phone_source),
        chat_alt_jid=chat_alt,
        push_name=None if from_me else as_str(record.get("pushName")),
        text=content.text,
        mentions=content.mentions,
        quoted=content.quoted,
        has_media=bool(content.media),
        mimetype=content.mimetype,
        media=media,
        location=content.location,
        contacts=content.contacts,
        ack=_ack_of(record.get("status")),
        origin=origin,
        is_forwarded=content.is_forwarded,
    )
    return [MessageUpserted(normalized)]


def _protocol_event(
    event: str, fallback_chat: str | None, protocol: dict[str, Any], at: datetime | None
) -> GatewayEvent:
    target = as_dict(protocol.get("key"))
    # The key inside a protocol message is the original message's key as its sender wrote
    # it; for 1:1 chats that can be our own JID, so the outer chat wins when we have it.
    chat_id = fallback_chat or as_str(target.get("remoteJid"))
    message_id = as_str(target.get("id"))
    if chat_id is None or message_id is None:
        return MalformedEvent(event, "protocol message without a target key")
    kind = protocol_type(protocol)
    when = at if at is not None else from_epoch(protocol.get("timestampMs"))
    if kind == PROTOCOL_REVOKE:
        return MessageRevoked(
            chat_id=chat_id,
            message_id=message_id,
            from_me=as_bool(target.get("fromMe")),
            participant=as_str(target.get("participant")),
            revoked_at=when,
        )
    if kind == PROTOCOL_MESSAGE_EDIT:
        return MessageEdited(
            chat_id=chat_id,
            message_id=message_id,
            new_text=text_of(as_dict(protocol.get("editedMessage"))),
            from_me=as_bool(target.get("fromMe")),
            participant=as_str(target.get("participant")),
            edited_at=when,
        )
    return UnknownEvent(event, f"protocol message type {protocol.get('type')!r} not handled")


def _edited(data: Any, event: str = "messages.edited") -> list[GatewayEvent]:
    record = as_dict(data)
    # Current Evolution sends the bare protocolMessage (`send.message.update` always does:
    # `updateMessage` posts the sent edit's protocolMessage); older builds sent the whole message.
    protocol = protocol_message(as_dict(record.get("message"))) or record
    chat_id = as_str(as_dict(record.get("key")).get("remoteJid")) if "message" in record else None
    return [_protocol_event(event, chat_id, protocol, None)]


def _updates(data: Any) -> list[GatewayEvent]:
    records = data if isinstance(data, list) else [data]
    events: list[GatewayEvent] = []
    for item in records:
        record = as_dict(item)
        key = as_dict(record.get("key"))
        update = as_dict(record.get("update"))
        chat_id = as_str(record.get("remoteJid")) or as_str(key.get("remoteJid"))
        message_id = as_str(record.get("keyId")) or as_str(key.get("id"))
        status = record.get("status", update.get("status"))
        from_me = as_bool(record.get("fromMe", key.get("fromMe")))
        participant = as_str(record.get("participant")) or as_str(key.get("participant"))
        if chat_id is None or message_id is None:
            events.append(MalformedEvent("messages.update", "update without keyId/remoteJid"))
            continue
        if status == "DELETED":
            events.append(MessageRevoked(chat_id, message_id, True, from_me, participant))
            continue
        ack = _ack_of(status)
        if ack is None:
            events.append(UnknownEvent("messages.update", f"status {status!r} not handled"))
            continue
        events.append(MessageAck(chat_id, (message_id,), ack, from_me, participant))
    return events


def _deleted(data: Any) -> list[GatewayEvent]:
    record = as_dict(data)
    # Baileys revokes arrive as the bare key; API deletions as the stored row with `key`.
    key = as_dict(record.get("key")) or record
    chat_id, message_id = as_str(key.get("remoteJid")), as_str(key.get("id"))
    if chat_id is None or message_id is None:
        return [MalformedEvent("messages.delete", "delete without key")]
    return [
        MessageRevoked(
            chat_id=chat_id,
            message_id=message_id,
            from_me=as_bool(key.get("fromMe")),
            participant=as_str(key.get("participant")),
        )
    ]


# --- session, contacts, chats, labels -----------------------------------------------------


def _connection(data: Any) -> list[GatewayEvent]:
    record = as_dict(data)
    state = as_str(record.get("state"))
    if state is None:
        return [MalformedEvent("connection.update", "no state")]
    return [
        SessionStatusChanged(
            session_state(state, as_str(record.get("wuid")), as_str(record.get("profileName")))
        )
    ]


def _qrcode(data: Any) -> list[GatewayEvent]:
    record = as_dict(data)
    qrcode = as_dict(record.get("qrcode"))
    if not qrcode:
        if record.get("message"):
            # "QR code limit reached": Evolution gives up and sends connection.update refused.
            return [SessionStatusChanged(session_state("refused"))]
        return [MalformedEvent("qrcode.updated", "no qrcode")]
    return [
        QrUpdated(
            qr=as_str(qrcode.get("code")),
            pairing_code=as_str(qrcode.get("pairingCode")),
            qr_image=as_str(qrcode.get("base64")),
        )
    ]


def _contacts(data: Any) -> list[GatewayEvent]:
    records = data if isinstance(data, list) else [data]
    events: list[GatewayEvent] = []
    for item in records:
        record = as_dict(item)
        jid = as_str(record.get("remoteJid")) or as_str(record.get("id"))
        if jid is None:
            events.append(MalformedEvent("contacts.upsert", "contact without remoteJid"))
            continue
        alt = as_str(record.get("remoteJidAlt"))
        lid = jid if is_lid(jid) else (alt if is_lid(alt) else None)
        phone = phone_of(jid) or phone_of(alt)
        events.append(
            ContactUpserted(
                jid=jid,
                name=as_str(record.get("name")),
                push_name=as_str(record.get("pushName")),
                phone=phone,
                lid=lid,
                is_group=is_group(jid),
                profile_pic_url=as_str(record.get("profilePicUrl")),
            )
        )
    return events


def _chats(data: Any) -> list[GatewayEvent]:
    records = data if isinstance(data, list) else [data]
    events: list[GatewayEvent] = []
    for item in records:
        record = as_dict(item)
        chat_id = as_str(record.get("remoteJid")) or as_str(record.get("id"))
        if chat_id is None:
            events.append(MalformedEvent("chats.upsert", "chat without remoteJid"))
            continue
        events.append(
            ChatUpserted(
                chat_id=chat_id,
                chat_type=chat_type_of(chat_id),
                name=as_str(record.get("name")),
                unread_count=as_int(record.get("unreadMessages")),
            )
        )
    return events


def _labels(data: Any) -> list[GatewayEvent]:
    record = as_dict(data)
    chat_id = as_str(record.get("chatId"))
    label_id = record.get("labelId")
    kind = record.get("type")
    if chat_id is None or not isinstance(label_id, str | int) or kind not in ("add", "remove"):
        return [MalformedEvent("labels.association", "needs chatId, labelId and type")]
    return [ChatLabelChanged(chat_id=chat_id, label_id=str(label_id), added=kind == "add")]


_HANDLERS: dict[str, Callable[[Any], list[GatewayEvent]]] = {
    "messages.upsert": lambda data: _message_events(data, None, "messages.upsert"),
    "send.message": lambda data: _message_events(data, "api", "send.message"),
    "messages.update": _updates,
    "messages.edited": _edited,
    "send.message.update": lambda data: _edited(data, "send.message.update"),
    "messages.delete": _deleted,
    "connection.update": _connection,
    "qrcode.updated": _qrcode,
    "contacts.upsert": _contacts,
    "contacts.update": _contacts,
    "chats.upsert": _chats,
    "labels.association": _labels,
}

__all__ = ["event_key", "parse", "session_state", "strip_secrets"]
