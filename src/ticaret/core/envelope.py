"""The success envelope and cursor pagination shared by every domain."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar, get_args, get_origin

import orjson
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel
from starlette.responses import Response

from ticaret.core.errors import InvalidCursor

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


# ISO-8601 UTC with milliseconds, as the contract promises: 2026-01-05T10:15:22.123Z
Timestamp = Annotated[
    datetime, PlainSerializer(lambda v: format_timestamp(v), return_type=str, when_used="json")
]


class ApiModel(BaseModel):
    """Base for every request/response schema: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, extra="forbid"
    )


class ResponseModel(ApiModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        ser_json_timedelta="float",
    )


class _Overlay:
    """A row seen through `extra`: what the row lacks (or shows differently) comes from there."""

    __slots__ = ("_extra", "_row")

    def __init__(self, row: object, extra: dict[str, Any]) -> None:
        self._row = row
        self._extra = extra

    def __getattr__(self, name: str) -> Any:
        if name in self._extra:
            return self._extra[name]
        return getattr(self._row, name)


def from_row(model: type[M], row: object, **extra: Any) -> M:
    """`model` read from an ORM row's attributes, plus `extra` for the fields the row does not
    have itself (a session's public id on a message, the labels of a chat)."""
    return model.model_validate(_Overlay(row, extra) if extra else row)


class Envelope(BaseModel, Generic[T]):
    status: bool = True
    data: T


class Page(ResponseModel, Generic[T]):
    rows: list[T]
    next_cursor: str | None = Field(default=None)
    has_more: bool = False


def ok(data: T) -> Envelope[T]:
    return Envelope[T](data=data)


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(
        [v.isoformat() if isinstance(v, datetime) else str(v) for v in values],
        separators=(",", ":"),
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if (
        not isinstance(values, list)
        or len(values) != size
        or not all(isinstance(v, str) for v in values)
    ):
        raise InvalidCursor()
    return values


def format_timestamp(value: datetime) -> str:
    """The contract's timestamp: UTC, milliseconds, "Z" (`2026-12-01T14:48:03.860Z`).

    orjson writes it three times faster than `isoformat(timespec=...)` (every event payload
    and list row has several): `"YYYY-MM-DDTHH:MM:SS.ffffffZ"` with its quotes, or without the
    fraction when the microseconds are 0; the milliseconds are cut from it, as isoformat
    cuts them (truncated, not rounded)."""
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    written = orjson.dumps(utc, option=orjson.OPT_UTC_Z)
    if len(written) == _WITH_MICROSECONDS:
        return written[1:24].decode() + "Z"
    return written[1:20].decode() + ".000Z"


_WITH_MICROSECONDS = len('"2026-12-01T14:48:03.860123Z"')


class JsonBytes(Response):
    media_type = "application/json"


def ok_json(data: Any, *, status_code: int = 200) -> Response:
    """The success envelope around `data` already shaped as the route's response model puts
    it on the wire (camelCase keys, `format_timestamp` strings): one `orjson.dumps`, no model
    built and none re-validated. For hot reads only; the route still declares its
    `response_model` for the OpenAPI document, and a test compares the two shapes."""
    body = orjson.dumps({"status": True, "data": data}, default=_json_default)
    return JsonBytes(body, status_code=status_code)


def _json_default(value: Any) -> Any:
    # asyncpg's UUID subclass (orjson writes only `uuid.UUID` itself); Decimal as pydantic does.
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class PageParams(BaseModel):
    cursor: str | None = Field(default=None, description="Opaque cursor from `nextCursor`.")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)

    def after_id(self) -> uuid.UUID | None:
        """For lists ordered by a time-ordered UUID primary key (newest first)."""
        if self.cursor is None:
            return None
        (value,) = decode_cursor(self.cursor, 1)
        try:
            return uuid.UUID(value)
        except ValueError as exc:
            raise InvalidCursor() from exc

    def after_time_and_id(self) -> tuple[datetime, uuid.UUID] | None:
        """For lists ordered by a timestamp, then a UUID (newest first)."""
        if self.cursor is None:
            return None
        raw_time, raw_id = decode_cursor(self.cursor, 2)
        try:
            return datetime.fromisoformat(raw_time), uuid.UUID(raw_id)
        except ValueError as exc:
            raise InvalidCursor() from exc


def build_page(
    rows: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]
) -> tuple[list[T], str | None, bool]:
    """`rows` was fetched with `limit + 1`; the extra row only says there is more."""
    has_more = len(rows) > limit
    kept = list(rows[:limit])
    next_cursor = encode_cursor(key(kept[-1])) if has_more and kept else None
    return kept, next_cursor, has_more


def _is_timestamp(annotation: Any) -> bool:
    """`datetime`, `Timestamp` (Annotated), or either of them `| None`."""
    if annotation is datetime:
        return True
    if get_origin(annotation) is Annotated:
        return _is_timestamp(get_args(annotation)[0])
    return any(_is_timestamp(arg) for arg in get_args(annotation))


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in get_args(annotation))


def _model_json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list):
        return [_model_json(item) for item in value]
    return value


def _timestamp_json(value: datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


class RowEncoder(Generic[M]):
    """A row straight to the JSON a response model puts on the wire, without building (and
    validating) the model: what a list of 50 rows would otherwise spend most of its time on.

        MESSAGE_JSON = RowEncoder(MessageOut)
        MESSAGE_JSON.encode(row, provider_session_id=psid, labels=[...])   # like from_row

    Each field is read from `extra` or else the row's attribute of the same (snake_case) name,
    under the model's alias; timestamps get `format_timestamp`, nested models their JSON dump,
    everything else goes as read (UUIDs and enums are orjson's to write). Rows are our own
    stored data, already of the field types; a test compares the output with the model's own
    dump for every such encoder.
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._fields: list[tuple[str, str, Callable[[Any], Any] | None]] = []
        for name, field in model.model_fields.items():
            alias = field.serialization_alias or field.alias or name
            convert: Callable[[Any], Any] | None = None
            if _is_timestamp(field.annotation):
                convert = _timestamp_json
            elif _holds_model(field.annotation):
                convert = _model_json
            self._fields.append((name, alias, convert))

    def encode(self, row: object, **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, alias, convert in self._fields:
            value = extra[name] if name in extra else getattr(row, name)
            out[alias] = value if convert is None else convert(value)
        return out

    def record_encoder(
        self, extra: Collection[str], *, columns: Mapping[str, str] | None = None
    ) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
        """A function `(record, extra) -> JSON dict` for raw rows read by key (asyncpg), one
        dict display per call: the fields named in `extra` come from that dict as given
        (JSON-ready), every other from `record[column]` (`columns` maps a field to a column of
        another name), converted as `encode` does. What a page of 50 rows costs least."""
        columns = columns or {}
        names = frozenset(extra)
        parts: list[str] = []
        for name, alias, convert in self._fields:
            if name in names:
                parts.append(f"{alias!r}: extra[{name!r}]")
                continue
            source = f"row[{columns.get(name, name)!r}]"
            if convert is _timestamp_json:
                source = f"(None if {source} is None else _ts({source}))"
            elif convert is not None:
                source = f"_convert({source})"
            parts.append(f"{alias!r}: {source}")
        code = "def encode(row, extra):\n    return {" + ", ".join(parts) + "}\n"
        namespace: dict[str, Any] = {"_ts": format_timestamp, "_convert": _model_json}
        # Generated from the model's own field names (our code, not input): a dict display
        # is several times cheaper than a loop over fields.
        exec(compile(code, f"<{self.model.__name__} record encoder>", "exec"), namespace)  # noqa: S102
        encode: Callable[[Any, dict[str, Any]], dict[str, Any]] = namespace["encode"]
        return encode


def page_json(
    rows: list[dict[str, Any]], next_cursor: str | None, has_more: bool
) -> dict[str, Any]:
    """`Page[...]` on the wire."""
    return {"rows": rows, "nextCursor": next_cursor, "hasMore": has_more}
