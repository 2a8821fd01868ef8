"""JSON read by orjson wherever it reads it as the standard library does.

`json.loads` is the reference: what the ORM gave for JSON columns and what webhook bodies were
read with. orjson is several times faster, and differs only in ways one can see from the text
before parsing (an integer past 64 bits, which it reads as a float) or that make it refuse the
text (lone surrogates, NaN, a byte-order mark, nesting past its limit); those go to `json`.
"""

from __future__ import annotations

import enum
import json
import uuid
from datetime import datetime
from typing import Any, Final

import orjson

# JSON nested deeper than this is not stored (`inbox.decode_json`); orjson refuses past 1024.
MAX_JSON_DEPTH = 64

# Every ASCII digit to "0", every other byte to " ": a run of 19 digits shows as 19 zeros.
_DIGIT_RUNS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_NUMBER = b"0" * 19
NOT_PLAIN: Final = object()


def read_plain(raw: bytes) -> Any:
    """`raw` read by orjson; `NOT_PLAIN` for anything `json.loads` could read differently.
    orjson refuses what the general path has to diagnose (lone surrogates, NaN and infinite
    numbers, a byte-order mark, deep nesting); it reads an integer past 64 bits as a float
    where `json` keeps the integer, so a text with a run of 19 digits anywhere goes the
    general way, as does one with more brackets than `MAX_JSON_DEPTH` (it could nest too
    deep)."""
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH:
        return NOT_PLAIN
    if _LONG_NUMBER in raw.translate(_DIGIT_RUNS):
        return NOT_PLAIN
    try:
        return orjson.loads(raw)
    except ValueError:
        return NOT_PLAIN


def loads(text: str) -> Any:
    """What `json.loads(text)` gives, by orjson when that is the same: the engines' JSON
    deserializer (every JSON and JSONB column read)."""
    plain = read_plain(text.encode())
    return json.loads(text) if plain is NOT_PLAIN else plain


def dumps(value: Any) -> str:
    """`value` as JSON text for a statement that reads its rows from one JSON parameter:
    orjson, or `json` for an integer past 64 bits (valid JSON that JSONB keeps; orjson cannot
    write it). UUIDs and times as their standard strings, enums as their values."""
    try:
        return orjson.dumps(value, default=default).decode()
    except TypeError:
        return json.dumps(value, default=default)


def default(value: Any) -> Any:
    """The `default` of `orjson.dumps` and `json.dumps`: the types one or the other lacks
    (asyncpg's UUID subclass: orjson writes only `uuid.UUID`)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
