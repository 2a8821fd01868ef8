"""Every SQL statement of the CRM, one module per area; each is scoped by account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, Text, and_, func, literal, literal_column
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def fold(value: Any) -> ColumnElement[str]:
    """Lower case without accents, ı/İ as i (the SQL function of migration 0007)."""
    return func.crm_fold(value, type_=Text)


def contains_folded(column: Any, text: str) -> ColumnElement[bool]:
    return fold(column).like(literal("%") + fold(escape_like(text)) + literal("%"))


def search_matches(column: Any, tokens: list[str]) -> ColumnElement[bool]:
    """Every token appears in the folded search column (case, accents and ı/İ folded in SQL
    the same way as the column), so the trigram index finds the rows."""
    return and_(
        *(column.like(literal("%") + fold(escape_like(token)) + literal("%")) for token in tokens)
    )


def search_distance(column: Any, text: str) -> ColumnElement[float]:
    """pg_trgm's distance (1 - similarity) between the folded search text and the query:
    smallest first is best first ("Şahin" before "Büyük Şahin Otomotiv" for `sahin`).

    Spelled on `search_text || ''`, the expression the GiST index of migration 0007 is built
    on: for a common word the planner walks that index nearest first (no ranking of every
    match); a rare text is found through the GIN index on `search_text` itself, then sorted.
    The GiST index stays out of the containment test, which it would answer by reading
    itself whole."""
    ranked = column.op("||", return_type=Text)(literal_column("''"))
    distance: ColumnElement[float] = ranked.op("<->", return_type=Float)(fold(text))
    return distance


def canonical_jid(column: Any) -> ColumnElement[str]:
    """A chat JID as identities store it: WAHA's `@c.us` is WhatsApp's `@s.whatsapp.net`."""
    return func.replace(column, "@c.us", "@s.whatsapp.net", type_=Text)


async def plan_for_these_values(session: AsyncSession) -> None:
    """Plan this transaction's statements for their actual values, not once for any value:
    whether a search text is rare (GIN, then sort) or common (GiST, nearest first) is only
    known from the text itself, and a generic plan of a prepared statement cannot tell."""
    await session.execute(sql_text("SET LOCAL plan_cache_mode = force_custom_plan"))
