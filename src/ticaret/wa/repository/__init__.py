"""Every SQL statement of the WhatsApp domain, by area.

Chats, contacts and messages belong to a session: they are looked up by the session the caller
was already allowed to use (`service.access.resolve_wa`). Labels, their links and history belong
to an account and are scoped by it. Functions for jobs, which hold ids of rows we wrote, look
rows up by primary key and say so.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import FromClause, String, Text
from sqlalchemy.dialects import postgresql


def contains_pattern(q: str) -> str:
    """An ILIKE pattern matching `q` anywhere, with `q`'s own wildcards taken literally."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _json_default(value: Any) -> str:
    # asyncpg's UUID subclass (orjson writes only `uuid.UUID` itself), and for `json` below
    # what orjson writes natively.
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def rows_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as one JSON array, for a statement that reads them with `jsonb_to_recordset`: one
    orjson call for a whole batch instead of a parameter set per row. Times are aware (the
    parsers make them so; a naive one would be taken as UTC). orjson writes a NaN or infinite
    float as null where `json` writes what JSONB refuses: callers keep such values out."""
    try:
        return orjson.dumps(rows, default=_json_default, option=orjson.OPT_NAIVE_UTC).decode()
    except TypeError:
        # An integer past 64 bits (a payload value): JSON that JSONB keeps, orjson cannot write.
        return json.dumps(
            [
                {
                    key: value.replace(tzinfo=UTC)
                    if isinstance(value, datetime) and value.tzinfo is None
                    else value
                    for key, value in row.items()
                }
                for row in rows
            ],
            default=_json_default,
        )


def recordset_columns(table: FromClause, names: Sequence[str]) -> str:
    """`name type, ...` of `table`'s columns, for `jsonb_to_recordset(...) AS (...)`. Strings
    without their length: a value too long fails in the INSERT, with the error it always had."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    parts = []
    for name in names:
        column_type = table.c[name].type
        if isinstance(column_type, String) and not isinstance(column_type, Text):
            parts.append(f"{name} varchar")
        else:
            parts.append(f"{name} {column_type.compile(dialect=dialect)}")
    return ", ".join(parts)
