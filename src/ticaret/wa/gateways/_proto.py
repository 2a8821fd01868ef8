"""Reading WhatsApp `Message` protobuf content as JSON.

Evolution (Baileys) sends it as `data.message`; WAHA keeps it in `_data.message` (NOWEB) or
`_data.Message` (GOWS). The field names are the protobuf ones; GOWS sometimes spells the
`...ID`/`...JID` suffixes in upper case, so both spellings are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ticaret.wa.gateways._jid import as_dict, as_float, as_int, as_str
from ticaret.wa.gateways.normalized import Location, MessageType, QuotedMessage

CONTENT_TYPES: dict[str, MessageType] = {
    "conversation": MessageType.text,
    "extendedTextMessage": MessageType.text,
    "imageMessage": MessageType.image,
    "videoMessage": MessageType.video,
    "ptvMessage": MessageType.video,
    "audioMessage": MessageType.audio,
    "documentMessage": MessageType.document,
    "stickerMessage": MessageType.sticker,
    "locationMessage": MessageType.location,
    "liveLocationMessage": MessageType.location,
    "contactMessage": MessageType.contacts,
    "contactsArrayMessage": MessageType.contacts,
    "reactionMessage": MessageType.reaction,
    "pollCreationMessage": MessageType.poll,
    "pollCreationMessageV2": MessageType.poll,
    "pollCreationMessageV3": MessageType.poll,
    "protocolMessage": MessageType.unknown,
}
MEDIA_KEYS = frozenset(
    {
        "imageMessage",
        "videoMessage",
        "ptvMessage",
        "audioMessage",
        "documentMessage",
        "stickerMessage",
    }
)
# Envelopes around the real content; `editedMessage` is not here because it means "an edit".
WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
)
# Keys that ride along with the content without being content themselves (Evolution adds
# `base64`, `mediaUrl` and `speechToText` next to the protobuf fields).
NOT_CONTENT = frozenset(
    {
        "messageContextInfo",
        "senderKeyDistributionMessage",
        "base64",
        "mediaUrl",
        "speechToText",
    }
)
PROTOCOL_REVOKE = 0
PROTOCOL_MESSAGE_EDIT = 14


@dataclass(frozen=True, slots=True)
class Content:
    raw_type: str | None
    type: MessageType
    text: str | None = None
    mentions: tuple[str, ...] = ()
    quoted: QuotedMessage | None = None
    media: dict[str, Any] = field(default_factory=dict)
    mimetype: str | None = None
    location: Location | None = None
    contacts: tuple[str, ...] = ()
    is_forwarded: bool = False


def unwrap(message: dict[str, Any]) -> dict[str, Any]:
    for _ in range(4):
        for wrapper in WRAPPERS:
            inner = as_dict(as_dict(message.get(wrapper)).get("message"))
            if inner:
                message = inner
                break
        else:
            return message
    return message


def content_key(message: dict[str, Any]) -> str | None:
    for key in message:
        if key in CONTENT_TYPES:
            return key
    for key, value in message.items():
        if key not in NOT_CONTENT and isinstance(value, dict | str):
            return key
    return None


def protocol_type(protocol: dict[str, Any]) -> int | None:
    """Protocol message type as a number; protobufjs' JSON may give the enum name instead."""
    raw = protocol.get("type")
    names = {"REVOKE": PROTOCOL_REVOKE, "MESSAGE_EDIT": PROTOCOL_MESSAGE_EDIT}
    if isinstance(raw, str) and raw in names:
        return names[raw]
    return as_int(raw)


def protocol_message(message: dict[str, Any]) -> dict[str, Any] | None:
    """The protocolMessage of a revoke or an edit, also when wrapped in `editedMessage`."""
    protocol = as_dict(message.get("protocolMessage")) or as_dict(
        as_dict(as_dict(message.get("editedMessage")).get("message")).get("protocolMessage")
    )
    return protocol or None


def text_of(message: dict[str, Any]) -> str | None:
    message = unwrap(message)
    text = as_str(message.get("conversation")) or as_str(
        as_dict(message.get("extendedTextMessage")).get("text")
    )
    if text:
        return text
    for key in (*MEDIA_KEYS, "pollCreationMessage", "pollCreationMessageV3"):
        part = as_dict(message.get(key))
        found = as_str(part.get("caption")) or as_str(part.get("name"))
        if found:
            return found
    return None


def _context_info(part: dict[str, Any], outer: dict[str, Any] | None) -> dict[str, Any]:
    return as_dict(part.get("contextInfo")) or as_dict(outer)


def _pick(data: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in data:
            return data[name]
    return None


def _media_fields(part: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = {}
    for key, value in part.items():
        lowered = key.lower()
        if "thumbnail" in lowered or "sidecar" in lowered or key in ("waveform", "contextInfo"):
            continue
        if key in ("fileLength", "seconds", "mediaKeyTimestamp"):
            value = as_int(value)
        if isinstance(value, str | int | float | bool) and not isinstance(value, dict):
            media[key] = value
    return media


def _location(part: dict[str, Any]) -> Location | None:
    latitude = as_float(part.get("degreesLatitude"))
    longitude = as_float(part.get("degreesLongitude"))
    if latitude is None or longitude is None:
        return None
    return Location(
        latitude=latitude,
        longitude=longitude,
        name=as_str(part.get("name")),
        address=as_str(part.get("address")),
    )


def read_content(message: Any, outer_context: dict[str, Any] | None = None) -> Content:
    message = unwrap(as_dict(message))
    key = content_key(message)
    if key is None:
        return Content(raw_type=None, type=MessageType.unknown)
    part = as_dict(message.get(key))
    kind: MessageType = CONTENT_TYPES.get(key, MessageType.unknown)
    if key == "audioMessage" and part.get("ptt") is True:
        kind = MessageType.voice
    context = _context_info(part, outer_context)

    quoted: QuotedMessage | None = None
    stanza_id = as_str(_pick(context, "stanzaId", "stanzaID"))
    if stanza_id:
        quoted = QuotedMessage(
            message_id=stanza_id,
            participant=as_str(context.get("participant")),
            text=text_of(as_dict(context.get("quotedMessage"))),
        )
    mentioned = _pick(context, "mentionedJid", "mentionedJID")
    mentions = (
        tuple(m for m in mentioned if isinstance(m, str)) if isinstance(mentioned, list) else ()
    )

    contacts: tuple[str, ...] = ()
    if key == "contactMessage":
        vcard = as_str(part.get("vcard"))
        contacts = (vcard,) if vcard else ()
    elif key == "contactsArrayMessage":
        items = part.get("contacts")
        if isinstance(items, list):
            contacts = tuple(
                vcard for item in items if (vcard := as_str(as_dict(item).get("vcard")))
            )

    is_media = key in MEDIA_KEYS
    return Content(
        raw_type=key,
        type=kind,
        text=text_of(message),
        mentions=mentions,
        quoted=quoted,
        media=_media_fields(part) if is_media else {},
        mimetype=as_str(part.get("mimetype")) if is_media else None,
        location=_location(part) if kind == MessageType.location else None,
        contacts=contacts,
        is_forwarded=context.get("isForwarded") is True,
    )
