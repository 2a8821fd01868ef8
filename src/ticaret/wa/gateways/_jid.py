"""Small, total helpers for reading untrusted webhook JSON and WhatsApp JIDs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ticaret.wa.gateways.normalized import ChatType

PHONE_SERVERS = ("s.whatsapp.net", "c.us")


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
