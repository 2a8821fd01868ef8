"""WAHA webhook bodies to normalized events.

Envelope (`WAHAWebhook` in `src/structures/webhooks.dto.ts`):
`{id: "evt_<ulid>", timestamp (ms), session, metadata, engine, me, environment, event, payload}`.
Message payloads are `WAMessage` (`responses.dto.ts`): `{id, timestamp, from, fromMe, source, to,
participant, body, hasMedia, media: {url, mimetype, filename, s3, error}, ack, ackName, location,
vCards, replyTo: {id, participant, body}, _data}`. `_data` is the engine's raw message: WEBJS
(whatsapp-web.js), NOWEB (Baileys `WAMessage`: `key`, `message`, `pushName`) or GOWS (whatsmeow:
`Info`, `Message`); it is only read for what the common fields lack (LID alternatives, push
name, mentions, the exact content type).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ticaret.wa.gateways._jid import (
    as_bool,
    as_dict,
    as_float,
    as_int,
    as_str,
    chat_type_of,
    from_epoch,
    is_group,
    is_lid,
    is_phone_jid,
    phone_of,
)
from ticaret.wa.gateways._proto import read_content
from ticaret.wa.gateways.normalized import (
    ChatLabelChanged,
    GatewayEvent,
    Location,
    MalformedEvent,
    MessageAck,
    MessageEdited,
    MessageRevoked,
    MessageType,
    MessageUpserted,
    NormalizedMessage,
    QuotedMessage,
    ReactionReceived,
    SessionState,
    SessionStatus,
    SessionStatusChanged,
    UnknownEvent,
)

SESSION_STATUSES: dict[str, SessionStatus] = {
    "STOPPED": SessionStatus.STOPPED,
    "STARTING": SessionStatus.STARTING,
    "SCAN_QR_CODE": SessionStatus.SCAN_QR,
    "WORKING": SessionStatus.WORKING,
    "FAILED": SessionStatus.FAILED,
}
# whatsapp-web.js message types (`_data.type`) for WEBJS sessions.
WEBJS_TYPES: dict[str, MessageType] = {
    "chat": MessageType.text,
    "image": MessageType.image,
    "video": MessageType.video,
    "audio": MessageType.audio,
    "ptt": MessageType.voice,
    "document": MessageType.document,
    "sticker": MessageType.sticker,
    "location": MessageType.location,
    "vcard": MessageType.contacts,
    "multi_vcard": MessageType.contacts,
    "poll_creation": MessageType.poll,
    "reaction": MessageType.reaction,
}
MEDIA_PREFIXES: tuple[tuple[str, MessageType], ...] = (
    ("image/", MessageType.image),
    ("video/", MessageType.video),
    ("audio/", MessageType.audio),
)


def session_state(raw: str, me: Any = None) -> SessionState:
    me_info = as_dict(me)
    return SessionState(
        # Newer WAHA adds statuses (e.g. PASSKEY_REQUIRED) that still mean "not working yet".
        status=SESSION_STATUSES.get(raw, SessionStatus.STARTING),
        raw=raw,
        me_jid=as_str(me_info.get("id")),
        me_name=as_str(me_info.get("pushName")),
    )


@dataclass(frozen=True, slots=True)
class SerializedId:
    from_me: bool
    chat_id: str
    message_id: str
    participant: str | None


def split_message_id(value: str) -> SerializedId | None:
    """`false_<chat>_<id>[_<participant>]`, WAHA's serialized id; None for a bare key id."""
    head, sep, rest = value.partition("_")
    if not sep or head not in ("true", "false"):
        return None
    parts = rest.split("_")
    if len(parts) < 2 or "@" not in parts[0]:
        return None
    participant = "_".join(parts[2:]) or None
    return SerializedId(head == "true", parts[0], parts[1], participant)


def serialize_message_id(
    chat_id: str, message_id: str, from_me: bool, participant: str | None
) -> str:
    if split_message_id(message_id) is not None:
        return message_id
    serialized = f"{'true' if from_me else 'false'}_{chat_id}_{message_id}"
    if participant and is_group(chat_id):
        serialized += f"_{participant}"
    return serialized


def bare_id(value: str) -> str:
    parsed = split_message_id(value)
    return parsed.message_id if parsed else value


def parse(payload: Any) -> list[GatewayEvent]:
    body = as_dict(payload)
    event = as_str(body.get("event"))
    if event is None:
        return [UnknownEvent(None, "body is not a WAHA webhook (no event name)")]
    handler = _HANDLERS.get(event)
    if handler is None:
        return [UnknownEvent(event, "event type not handled")]
    inner = body.get("payload")
    if not isinstance(inner, dict):
        return [MalformedEvent(event, "payload is not an object")]
    try:
        return handler(event, inner, as_dict(body.get("me")))
    except Exception as exc:  # a parser bug must not lose the webhook
        return [MalformedEvent(event, f"parse error: {type(exc).__name__}")]


def event_key(payload: Any, raw_body: bytes) -> str:
    body = as_dict(payload)
    envelope_id = as_str(body.get("id"))
    if envelope_id:
        return f"waha:{envelope_id}"
    # Older WAHA releases had no envelope id.
    event = as_str(body.get("event"))
    inner = as_dict(body.get("payload"))
    message_id = as_str(inner.get("id"))
    if event and message_id:
        suffix = f":{inner.get('ack')}" if event.startswith("message.ack") else ""
        return f"waha:{event}:{message_id}{suffix}"
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


# --- messages -----------------------------------------------------------------------------


def _locate(payload: dict[str, Any]) -> tuple[str | None, str | None, bool, str | None]:
    """(chat id, bare message id, from_me, participant), preferring the serialized id."""
    raw_id = as_str(payload.get("id"))
    parsed = split_message_id(raw_id) if raw_id else None
    from_me = as_bool(payload.get("fromMe"))
    if from_me is None:
        from_me = parsed.from_me if parsed else False
    chat_id = parsed.chat_id if parsed else None
    if chat_id is None:
        # `from` is the chat for incoming messages; for our own, `to` is.
        chat_id = as_str(payload.get("to")) if from_me else as_str(payload.get("from"))
    participant = as_str(payload.get("participant")) or (parsed.participant if parsed else None)
    message_id = parsed.message_id if parsed else raw_id
    return chat_id, message_id, from_me, participant


def _engine_data(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(raw data, NOWEB key or {}, GOWS Info or {})."""
    data = as_dict(payload.get("_data"))
    return data, as_dict(data.get("key")), as_dict(data.get("Info"))


def _alternatives(
    payload: dict[str, Any], chat_id: str, from_me: bool, sender_jid: str | None
) -> tuple[str | None, str | None]:
    """(sender phone-number alternative, chat alternative) for LID-addressed messages."""
    _, key, info = _engine_data(payload)
    group = is_group(chat_id)
    sender_alt: str | None = None
    if not from_me:
        if group:
            sender_alt = as_str(key.get("participantAlt")) or as_str(info.get("SenderAlt"))
        else:
            sender_alt = as_str(key.get("remoteJidAlt")) or as_str(info.get("SenderAlt"))
    chat_alt: str | None = None
    if is_lid(chat_id):
        chat_alt = as_str(key.get("remoteJidAlt")) or as_str(
            info.get("RecipientAlt") if from_me else info.get("SenderAlt")
        )
    if sender_alt == sender_jid:
        sender_alt = None
    return sender_alt, chat_alt


def _message_type(payload: dict[str, Any], proto_type: MessageType | None) -> MessageType:
    if proto_type and proto_type != MessageType.unknown:
        return proto_type
    webjs = WEBJS_TYPES.get(as_str(as_dict(payload.get("_data")).get("type")) or "")
    if webjs:
        return webjs
    if isinstance(payload.get("location"), dict):
        return MessageType.location
    if payload.get("vCards"):
        return MessageType.contacts
    if payload.get("hasMedia") is True:
        mimetype = as_str(as_dict(payload.get("media")).get("mimetype")) or ""
        for prefix, kind in MEDIA_PREFIXES:
            if mimetype.startswith(prefix):
                return MessageType.sticker if mimetype == "image/webp" else kind
        return MessageType.document
    return MessageType.text if as_str(payload.get("body")) else MessageType.unknown


def _location(payload: dict[str, Any]) -> Location | None:
    location = as_dict(payload.get("location"))
    latitude, longitude = as_float(location.get("latitude")), as_float(location.get("longitude"))
    if latitude is None or longitude is None:
        return None
    return Location(
        latitude=latitude,
        longitude=longitude,
        name=as_str(location.get("name")) or as_str(location.get("description")),
        address=as_str(location.get("address")),
    )


def normalize_message(payload: dict[str, Any], me: dict[str, Any]) -> NormalizedMessage | None:
    chat_id, message_id, from_me, participant = _locate(payload)
    if chat_id is None or message_id is None:
        return None
    data, _, info = _engine_data(payload)
    proto = as_dict(data.get("message")) or as_dict(data.get("Message"))
    content = read_content(proto) if proto else None
    group = is_group(chat_id)
    if group:
        sender_jid = participant or as_str(payload.get("author"))
    elif from_me:
        sender_jid = as_str(me.get("id"))
    else:
        sender_jid = as_str(payload.get("from"))
    sender_alt, chat_alt = _alternatives(payload, chat_id, from_me, sender_jid)
    phone_source = sender_alt if sender_alt and is_phone_jid(sender_alt) else sender_jid

    media_info = as_dict(payload.get("media"))
    has_media = payload.get("hasMedia") is True
    media: dict[str, Any] = {}
    if has_media:
        media = {k: v for k, v in media_info.items() if v is not None}
        if content and content.media:
            media.setdefault("whatsapp", content.media)
        media["messageId"] = as_str(payload.get("id")) or message_id
    mentions = content.mentions if content else ()
    if not mentions and isinstance(data.get("mentionedJidList"), list):
        mentions = tuple(m for m in data["mentionedJidList"] if isinstance(m, str))

    reply = as_dict(payload.get("replyTo"))
    quoted: QuotedMessage | None = content.quoted if content else None
    reply_id = as_str(reply.get("id"))
    if reply_id:
        quoted = QuotedMessage(
            message_id=bare_id(reply_id),
            participant=as_str(reply.get("participant")),
            text=as_str(reply.get("body")),
        )
    vcards = payload.get("vCards")
    contacts = tuple(v for v in vcards if isinstance(v, str)) if isinstance(vcards, list) else ()
    source = as_str(payload.get("source"))
    push_name = (
        as_str(data.get("notifyName"))
        or as_str(data.get("pushName"))
        or as_str(info.get("PushName"))
    )
    return NormalizedMessage(
        chat_id=chat_id,
        message_id=message_id,
        from_me=from_me,
        chat_type=chat_type_of(chat_id),
        type=_message_type(payload, content.type if content else None),
        raw_type=(content.raw_type if content else None) or as_str(data.get("type")),
        timestamp=from_epoch(payload.get("timestamp")),
        participant=participant if group else None,
        sender_jid=sender_jid,
        sender_alt_jid=sender_alt,
        sender_phone=phone_of(phone_source),
        chat_alt_jid=chat_alt,
        push_name=None if from_me else push_name,
        text=as_str(payload.get("body")) or (content.text if content else None),
        mentions=mentions,
        quoted=quoted,
        has_media=has_media,
        mimetype=as_str(media_info.get("mimetype")) or (content.mimetype if content else None),
        media=media,
        location=_location(payload) or (content.location if content else None),
        contacts=contacts or (content.contacts if content else ()),
        ack=as_int(payload.get("ack")),
        origin={"api": "api", "app": "device"}.get(source or ""),
        provider_message_id=as_str(payload.get("id")),
        is_forwarded=content.is_forwarded if content else False,
    )


def _message(event: str, payload: dict[str, Any], me: dict[str, Any]) -> list[GatewayEvent]:
    message = normalize_message(payload, me)
    if message is None:
        return [MalformedEvent(event, "message without id/chat")]
    return [MessageUpserted(message)]


def _reaction(event: str, payload: dict[str, Any], me: dict[str, Any]) -> list[GatewayEvent]:
    chat_id, reaction_id, from_me, participant = _locate(payload)
    reaction = as_dict(payload.get("reaction"))
    target = as_str(reaction.get("messageId"))
    if chat_id is None or target is None:
        return [MalformedEvent(event, "reaction without chat or target messageId")]
    if is_group(chat_id):
        sender = participant
    else:
        sender = as_str(me.get("id")) if from_me else as_str(payload.get("from"))
    sender_alt, _ = _alternatives(payload, chat_id, from_me, sender)
    text = reaction.get("text")
    return [
        ReactionReceived(
            chat_id=chat_id,
            target_message_id=bare_id(target),
            emoji=text if isinstance(text, str) else "",
            sender_jid=sender,
            from_me=from_me,
            reaction_message_id=reaction_id,
            timestamp=from_epoch(payload.get("timestamp")),
            sender_alt_jid=sender_alt,
        )
    ]


def _ack(event: str, payload: dict[str, Any], me: dict[str, Any]) -> list[GatewayEvent]:
    chat_id, message_id, from_me, participant = _locate(payload)
    ack = as_int(payload.get("ack"))
    if chat_id is None or message_id is None or ack is None:
        return [MalformedEvent(event, "ack without id, chat or ack")]
    return [MessageAck(chat_id, (message_id,), ack, from_me, participant)]


def _revoked(event: str, payload: dict[str, Any], me: dict[str, Any]) -> list[GatewayEvent]:
    before, after = as_dict(payload.get("before")), as_dict(payload.get("after"))
    reference = before or after
    chat_id, located_id, from_me, participant = _locate(reference)
    # GOWS/NOWEB name the revoked message in `revokedMessageId` while `after` is the revoke
    # itself; WEBJS has no such field and `after`/`before` are the revoked message.
    revoked = as_str(payload.get("revokedMessageId"))
    message_id = bare_id(revoked) if revoked else located_id
    if chat_id is None or message_id is None:
        return [MalformedEvent(event, "revoke without chat or message id")]
    return [
        MessageRevoked(
            chat_id=chat_id,
            message_id=message_id,
            from_me=from_me,
            participant=participant if is_group(chat_id) else None,
            revoked_at=from_epoch(after.get("timestamp")),
        )
    ]


def _edited(event: str, payload: dict[str, Any], me: dict[str, Any]) -> list[GatewayEvent]:
    chat_id, located_id, from_me, participant = _locate(payload)
    edited = as_str(payload.get("editedMessageId"))
    message_id = bare_id(edited) if edited else located_id
    if chat_id is None or message_id is None:
        return [MalformedEvent(event, "edit without chat or message id")]
    return [
        MessageEdited(
            chat_id=chat_id,
            message_id=message_id,
            new_text=as_str(payload.get("body")),
            from_me=from_me,
            participant=participant if is_group(chat_id) else None,
            edited_at=from_epoch(payload.get("timestamp")),
        )
    ]


def _session(event: str, payload: dict[str, Any], me: dict[str, Any]) -> list[GatewayEvent]:
    status = as_str(payload.get("status"))
    if status is None:
        return [MalformedEvent(event, "session.status without status")]
    return [SessionStatusChanged(session_state(status, me or payload.get("me")))]


def _label(event: str, payload: dict[str, Any], me: dict[str, Any]) -> list[GatewayEvent]:
    chat_id = as_str(payload.get("chatId"))
    label_id = payload.get("labelId")
    if chat_id is None or not isinstance(label_id, str | int):
        return [MalformedEvent(event, "label association without chatId/labelId")]
    return [
        ChatLabelChanged(
            chat_id=chat_id,
            label_id=str(label_id),
            added=event == "label.chat.added",
            label_name=as_str(as_dict(payload.get("label")).get("name")),
        )
    ]


_Handler = Callable[[str, dict[str, Any], dict[str, Any]], list[GatewayEvent]]
_HANDLERS: dict[str, _Handler] = {
    "message": _message,
    "message.any": _message,
    "message.reaction": _reaction,
    "message.ack": _ack,
    "message.ack.group": _ack,
    "message.revoked": _revoked,
    "message.edited": _edited,
    "session.status": _session,
    "label.chat.added": _label,
    "label.chat.deleted": _label,
}
