"""Small, total helpers for reading untrusted webhook JSON and WhatsApp JIDs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ticaret.wa.gateways.normalized import ChatType

PHONE_SERVERS = ("s.whatsapp.net", "c.us")
# The one spelling we store and show for a person's phone JID (`@c.us` is WhatsApp Web's).
CANONICAL_PHONE_SERVER = "s.whatsapp.net"


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    return None


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    # protobuf Long serialized by protobufjs without `longs: Number`
    if isinstance(value, Mapping) and isinstance(value.get("low"), int):
        low: int = value["low"] & 0xFFFFFFFF
        high = value.get("high", 0)
        return (high << 32) | low if isinstance(high, int) else low
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def dig(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def server_of(jid: str | None) -> str | None:
    if not jid or "@" not in jid:
        return None
    return jid.rsplit("@", 1)[1]


def user_of(jid: str) -> str:
    # Drop the device suffix too: `905551112233:12@s.whatsapp.net` is the same person.
    return jid.split("@", 1)[0].split(":", 1)[0]


def is_phone_jid(jid: str | None) -> bool:
    return server_of(jid) in PHONE_SERVERS


def is_lid(jid: str | None) -> bool:
    return server_of(jid) == "lid"


def is_group(jid: str | None) -> bool:
    return server_of(jid) == "g.us"


def phone_of(jid: str | None) -> str | None:
    if jid and is_phone_jid(jid):
        user = user_of(jid)
        return user if user.isdigit() else None
    return None


def chat_type_of(chat_id: str) -> ChatType:
    server = server_of(chat_id)
    if server == "g.us":
        return ChatType.group
    if server == "newsletter":
        return ChatType.newsletter
    if server == "broadcast":
        return ChatType.broadcast
    return ChatType.individual


def from_epoch(value: Any) -> datetime | None:
    """Seconds or milliseconds since the epoch (gateways use both) to an aware UTC datetime."""
    number = as_int(value)
    if number is None:
        as_number = as_float(value)
        if as_number is None:
            return None
        number = int(as_number)
    if number <= 0:
        return None
    if number > 10_000_000_000:
        number //= 1000
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def from_iso(value: Any) -> datetime | None:
    text = as_str(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def bare_number(chat_or_phone: str) -> str:
    """`905551112233@s.whatsapp.net` or `+90 555 111 22 33` to `905551112233`."""
    user = user_of(chat_or_phone) if "@" in chat_or_phone else chat_or_phone
    return "".join(ch for ch in user if ch.isdigit())


def canonical_jid(jid: str) -> str:
    """One spelling per person: `@c.us` becomes `@s.whatsapp.net`, and a device suffix
    (`905551112233:12@...`, `1234:5@lid`) goes. Groups and other servers stay as they are."""
    jid = jid.strip()
    if "@" not in jid:
        return jid
    user, server = jid.rsplit("@", 1)
    server = server.lower()
    if server in PHONE_SERVERS:
        return f"{user.split(':', 1)[0]}@{CANONICAL_PHONE_SERVER}"
    if server == "lid":
        return f"{user.split(':', 1)[0]}@lid"
    return f"{user}@{server}"


def canonical_or_none(jid: str | None) -> str | None:
    return canonical_jid(jid) if jid else None


def phone_jid(jid: str | None) -> str | None:
    """The canonical phone JID of `jid` when it is one (or a bare phone number), else None."""
    if not jid:
        return None
    if "@" not in jid:
        digits = bare_number(jid)
        return f"{digits}@{CANONICAL_PHONE_SERVER}" if digits else None
    return canonical_jid(jid) if is_phone_jid(jid) else None


def as_waha_chat(jid: str) -> str:
    """WAHA's spelling of a phone JID (`@c.us`, which every engine accepts)."""
    if server_of(jid) == CANONICAL_PHONE_SERVER:
        return f"{jid.rsplit('@', 1)[0]}@c.us"
    return jid
