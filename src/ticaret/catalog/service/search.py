"""Catalog search: the one function that finds products for what someone typed or asked.

`GET /products?q=` uses it (every word must match), and so will the AI analysis when it matches
a customer's message to products (any word may match; the score ranks them):

    matches = await search_products(session, account_id, "kırmızı elbise 38 beden",
                                     filters=ProductFilters(status=ProductStatus.active), limit=5)
    for match in matches:
        match.product.sku, match.product.price, match.score   # score in [0, 1]

Matching ignores case, accents and the Turkish letters (ı/i, İ/I, ş/s, ğ/g, ç/c, ö/o, ü/u), so
"KIRMIZI CANTA" finds "Kırmızı Çanta". It covers the sku, name, brand, category and attribute
values of products and of their variants, and tolerates a letter or two typed wrong.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.catalog.repository import products as repository
from ticaret.catalog.repository.products import ProductFilters
from ticaret.core.envelope import PageParams, decode_cursor, encode_cursor
from ticaret.core.errors import InvalidCursor
from ticaret.models import Product

_WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 10
MAX_QUERY_LENGTH = 200


async def _mistyped(
    session: AsyncSession, account_id: uuid.UUID, words: list[str]
) -> list[bool] | None:
    """Which words no product has as typed (to be looked up by similarity); None when every
    word is in the catalog as typed (then nothing similar is worth looking for)."""
    found = await repository.words_found_as_typed(session, account_id, words)
    return [not typed for typed in found] if not all(found) else None


@dataclass(frozen=True)
class ProductMatch:
    product: Product
    score: float  # 1.0: every word found as typed, or the exact sku


def search_words(query: str) -> list[str]:
    """The words search looks for: letters and digits, two characters or more (a lone digit
    such as a size counts), each once, at most ten."""
    words: list[str] = []
    for word in _WORD.findall(query[:MAX_QUERY_LENGTH]):
        if (len(word) >= 2 or word.isdigit()) and word.lower() not in (w.lower() for w in words):
            words.append(word)
    return words[:MAX_WORDS]


async def search_products(
    session: AsyncSession,
    account_id: uuid.UUID,
    query: str,
    *,
    filters: ProductFilters | None = None,
    limit: int = 20,
    require_all: bool = False,
) -> list[ProductMatch]:
    """The account's live products that best match `query`, best first.

    `require_all`: every word must match (a list filter); otherwise any word may (matching a
    customer's sentence, whose other words name no product). Nothing to search for: [].
    """
    words = search_words(query)
    if not words:
        return []
    whole = query.strip()[:MAX_QUERY_LENGTH]
    chosen = filters or ProductFilters()
    rows = await repository.search(
        session, account_id, words, whole, chosen, require_all=require_all, limit=limit
    )
    if not rows:
        similar = await _mistyped(session, account_id, words)
        if similar is not None:
            rows = await repository.search(
                session,
                account_id,
                words,
                whole,
                chosen,
                require_all=require_all,
                similar=similar,
                limit=limit,
            )
    return [ProductMatch(product, float(score)) for product, score in rows]


async def search_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    query: str,
    filters: ProductFilters,
    page: PageParams,
) -> tuple[list[ProductMatch], str | None, bool]:
    """One page of a list search, best first. The cursor holds the last (score, id) and
    whether the words were looked up as typed or, having found nothing so, by similarity."""
    after: tuple[Decimal, uuid.UUID] | None = None
    passes: tuple[str, ...] = ("typed", "similar")
    if page.cursor is not None:
        score, last_id, mode = decode_cursor(page.cursor, 3)
        try:
            after = (Decimal(score), uuid.UUID(last_id))
        except (InvalidOperation, ValueError) as exc:
            raise InvalidCursor() from exc
        passes = (mode,)
    words = search_words(query)
    whole = query.strip()[:MAX_QUERY_LENGTH]
    rows: list[tuple[Product, Decimal]] = []
    similar: list[bool] | None = None
    if "typed" in passes:
        rows = await repository.search(
            session,
            account_id,
            words,
            whole,
            filters,
            require_all=True,
            limit=page.limit + 1,
            after=after,
        )
    if not rows and "similar" in passes:
        similar = await _mistyped(session, account_id, words)
        if similar is not None:
            rows = await repository.search(
                session,
                account_id,
                words,
                whole,
                filters,
                require_all=True,
                similar=similar,
                limit=page.limit + 1,
                after=after,
            )
    more = len(rows) > page.limit
    kept = rows[: page.limit]
    cursor = (
        encode_cursor([kept[-1][1], kept[-1][0].id, "similar" if similar else "typed"])
        if more and kept
        else None
    )
    return [ProductMatch(product, float(score)) for product, score in kept], cursor, more
