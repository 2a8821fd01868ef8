"""Every SQL statement of the CRM, one module per area; each is scoped by account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Text, and_, func, literal


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


def search_rank(column: Any, text: str) -> ColumnElement[float]:
    """How well the text matches: its best word match, then how much of the whole it is (so
    "Şahin" ranks above "Büyük Şahin Otomotiv" for `sahin`)."""
    query = fold(text)
    return func.word_similarity(query, column) + func.similarity(query, column)


def canonical_jid(column: Any) -> ColumnElement[str]:
    """A chat JID as identities store it: WAHA's `@c.us` is WhatsApp's `@s.whatsapp.net`."""
    return func.replace(column, "@c.us", "@s.whatsapp.net", type_=Text)
