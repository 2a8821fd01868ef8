"""SQL for products, their variants and images; every statement is scoped by account.

Search runs in the database: `catalog_fold` (the catalog migration) folds case, accents and
the Turkish letters on both sides, and pg_trgm's GIN index on `products.search_text` finds the
rows (`LIKE '%word%'` for words typed right, word similarity for words typed a little wrong).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    and_,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import Product, ProductImage, ProductStatus, ProductVariant, StockStatus

WORD_SIMILARITY = "0.5"


@dataclass(frozen=True)
class ProductFilters:
    """What `GET /products` and catalog search can narrow the products to."""

    status: ProductStatus | None = None
    stock_status: StockStatus | None = None
    category: str | None = None
    brand: str | None = None
    tag: str | None = None
    currency: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None


def _fold(value: Any) -> ColumnElement[str]:
    return func.catalog_fold(value)


def _filtered(account_id: uuid.UUID, filters: ProductFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [
        Product.account_id == account_id,
        Product.deleted_at.is_(None),
    ]
    if filters.status is not None:
        clauses.append(Product.status == filters.status)
    if filters.stock_status is not None:
        clauses.append(Product.stock_status == filters.stock_status)
    if filters.category is not None:
        clauses.append(_fold(Product.category) == _fold(literal(filters.category)))
    if filters.brand is not None:
        clauses.append(_fold(Product.brand) == _fold(literal(filters.brand)))
    if filters.tag is not None:
        # `tags <> '{}'` is the partial index's own predicate: it lets the planner use it.
        clauses.append(Product.tags.contains([filters.tag]))
        clauses.append(Product.tags != text("'{}'"))
    if filters.currency is not None:
        clauses.append(Product.currency == filters.currency)
    if filters.min_price is not None:
        clauses.append(Product.price >= filters.min_price)
    if filters.max_price is not None:
        clauses.append(Product.price <= filters.max_price)
    return clauses


async def product(
    session: AsyncSession, account_id: uuid.UUID, product_id: uuid.UUID, *, for_update: bool = False
) -> Product | None:
    stmt = select(Product).where(
        Product.account_id == account_id, Product.id == product_id, Product.deleted_at.is_(None)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def products_by_id(
    session: AsyncSession, account_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    if not product_ids:
        return {}
    rows = await session.scalars(
        select(Product).where(
            Product.account_id == account_id,
            Product.id.in_(product_ids),
            Product.deleted_at.is_(None),
        )
    )
    return {row.id: row for row in rows}


async def sku_taken(
    session: AsyncSession, account_id: uuid.UUID, sku: str, *, other_than: uuid.UUID | None = None
) -> bool:
    stmt = select(Product.id).where(
        Product.account_id == account_id, Product.sku == sku, Product.deleted_at.is_(None)
    )
    if other_than is not None:
        stmt = stmt.where(Product.id != other_than)
    return await session.scalar(stmt.limit(1)) is not None


async def variant_skus_taken(
    session: AsyncSession,
    account_id: uuid.UUID,
    skus: Sequence[str],
    *,
    other_than: uuid.UUID | None = None,
) -> list[str]:
    """Which of `skus` another product's variants already use."""
    if not skus:
        return []
    stmt = select(ProductVariant.sku).where(
        ProductVariant.account_id == account_id, ProductVariant.sku.in_(skus)
    )
    if other_than is not None:
        stmt = stmt.where(ProductVariant.product_id != other_than)
    return list(await session.scalars(stmt))


async def products_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    filters: ProductFilters,
    *,
    after: uuid.UUID | None,
    limit: int,
) -> list[Product]:
    """Newest first; `limit + 1` rows (the extra one says there is more)."""
    stmt = select(Product).where(*_filtered(account_id, filters))
    if after is not None:
        stmt = stmt.where(Product.id < after)
    return list(await session.scalars(stmt.order_by(Product.id.desc()).limit(limit + 1)))


async def search(
    session: AsyncSession,
    account_id: uuid.UUID,
    words: Sequence[str],
    whole_query: str,
    filters: ProductFilters,
    *,
    require_all: bool,
    similar: Sequence[bool] | None = None,
    limit: int,
    after: tuple[Decimal, uuid.UUID] | None = None,
) -> list[tuple[Product, Decimal]]:
    """Products matching `words` (letters and digits only), best first, with a score in [0, 1].

    A word matches when the folded product text contains it; the GIN trigram index finds the
    rows. A word flagged in `similar` matches a similar word instead (pg_trgm word similarity:
    a letter or two typed wrong), which costs a trigram comparison per candidate: the caller
    flags only words no product has as typed (`words_found_as_typed`).

    The score is the mean over the words of 1 (contained) or its word similarity, with a fifth
    of the weight on how much of the product's text the query covers (a short name that is
    the query ranks above a long text that mentions it); a product whose sku is the whole
    query scores 1.
    """
    # Word similarity of at least 0.5 (pg_trgm's default is 0.6) lets one letter typed wrong
    # or left out of a short word through: "elbse" finds "elbise". Plans are made for each
    # search's own words (a plan cached for other words would not know they fold to
    # constants the trigram index can use). Both for this transaction only.
    await session.execute(
        select(
            func.set_config("pg_trgm.word_similarity_threshold", WORD_SIMILARITY, True),
            func.set_config("plan_cache_mode", "force_custom_plan", True),
        )
    )
    folded = [_fold(literal(word)) for word in words]
    contains = [Product.search_text.like(func.concat("%", word, "%")) for word in folded]
    if similar is not None and any(similar):
        matches = [
            Product.search_text.op("%>")(word) if fuzzy else found
            for found, word, fuzzy in zip(contains, folded, similar, strict=True)
        ]
        per_word: list[ColumnElement[float]] = [
            func.word_similarity(word, Product.search_text)
            if fuzzy
            else (literal(1.0) if require_all else case((found, 1.0), else_=0.0))
            for found, word, fuzzy in zip(contains, folded, similar, strict=True)
        ]
    else:
        matches = list(contains)
        # Every candidate contains every word when all must match: nothing to compute.
        per_word = (
            [literal(1.0)] if require_all else [case((found, 1.0), else_=0.0) for found in contains]
        )
    found = and_(true(), *matches) if require_all else or_(false(), *matches)
    similarity = sum(per_word[1:], per_word[0]) / len(per_word)
    coverage = func.least(
        1.0,
        cast(func.char_length(_fold(literal(whole_query))), Numeric)
        / func.greatest(func.char_length(Product.search_text), 1),
    )
    exact_sku = func.lower(Product.sku) == func.lower(literal(whole_query))
    score = func.round(
        cast(case((exact_sku, 1.0), else_=0.8 * similarity + 0.2 * coverage), Numeric), 4
    ).label("score")
    scored = select(Product.id, score).where(*_filtered(account_id, filters), found).subquery()
    # The best `limit` ids first, and only theirs joined to whole rows.
    best = select(scored.c.id, scored.c.score)
    if after is not None:
        best = best.where(tuple_(scored.c.score, scored.c.id) < tuple_(after[0], after[1]))
    top = best.order_by(scored.c.score.desc(), scored.c.id.desc()).limit(limit).subquery()
    stmt = (
        select(Product, top.c.score)
        .join(top, top.c.id == Product.id)
        .order_by(top.c.score.desc(), top.c.id.desc())
    )
    return [(row[0], Decimal(row[1])) for row in await session.execute(stmt)]


async def words_found_as_typed(
    session: AsyncSession, account_id: uuid.UUID, words: Sequence[str]
) -> list[bool]:
    """Whether some live product of the account contains each word (folded) as typed.

    Looked up through the account's part of the trigram index only (a bitmap): an index or
    sequential scan stopping at the first match is the planner's choice for an EXISTS, and it
    would read every product of the account for a word none has (the very case this is asked
    about).
    """
    await session.execute(
        select(
            func.set_config("enable_seqscan", "off", True),
            func.set_config("enable_indexscan", "off", True),
        )
    )
    checks = [
        exists().where(
            Product.account_id == account_id,
            Product.deleted_at.is_(None),
            Product.search_text.like(func.concat("%", _fold(literal(word)), "%")),
        )
        for word in words
    ]
    found = (await session.execute(select(*checks))).one()
    await session.execute(
        select(
            func.set_config("enable_seqscan", "on", True),
            func.set_config("enable_indexscan", "on", True),
        )
    )
    return [bool(value) for value in found]


async def variants_of(
    session: AsyncSession, account_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ProductVariant]]:
    grouped: dict[uuid.UUID, list[ProductVariant]] = defaultdict(list)
    if product_ids:
        rows = await session.scalars(
            select(ProductVariant)
            .where(
                ProductVariant.account_id == account_id,
                ProductVariant.product_id.in_(product_ids),
            )
            .order_by(ProductVariant.product_id, ProductVariant.position, ProductVariant.id)
        )
        for row in rows:
            grouped[row.product_id].append(row)
    return grouped


async def images_of(
    session: AsyncSession, account_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ProductImage]]:
    grouped: dict[uuid.UUID, list[ProductImage]] = defaultdict(list)
    if product_ids:
        rows = await session.scalars(
            select(ProductImage)
            .where(ProductImage.account_id == account_id, ProductImage.product_id.in_(product_ids))
            .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
        )
        for row in rows:
            grouped[row.product_id].append(row)
    return grouped


async def delete_variants(
    session: AsyncSession,
    account_id: uuid.UUID,
    product_id: uuid.UUID,
    *,
    keep: Sequence[uuid.UUID] = (),
) -> None:
    stmt = delete(ProductVariant).where(
        ProductVariant.account_id == account_id, ProductVariant.product_id == product_id
    )
    if keep:
        stmt = stmt.where(ProductVariant.id.not_in(keep))
    await session.execute(stmt)


async def image(
    session: AsyncSession, account_id: uuid.UUID, product_id: uuid.UUID, image_id: uuid.UUID
) -> ProductImage | None:
    return await session.scalar(
        select(ProductImage).where(
            ProductImage.account_id == account_id,
            ProductImage.product_id == product_id,
            ProductImage.id == image_id,
        )
    )


async def next_image_position(
    session: AsyncSession, account_id: uuid.UUID, product_id: uuid.UUID
) -> int:
    highest = await session.scalar(
        select(func.max(ProductImage.position)).where(
            ProductImage.account_id == account_id, ProductImage.product_id == product_id
        )
    )
    return 0 if highest is None else int(highest) + 1


async def delete_image(session: AsyncSession, account_id: uuid.UUID, image_id: uuid.UUID) -> None:
    await session.execute(
        delete(ProductImage).where(
            ProductImage.account_id == account_id, ProductImage.id == image_id
        )
    )


async def touch(session: AsyncSession, account_id: uuid.UUID, product_id: uuid.UUID) -> None:
    """A product whose images changed is a new version of it (its entityVersion moves)."""
    await session.execute(
        update(Product)
        .where(Product.account_id == account_id, Product.id == product_id)
        .values(version=Product.version + 1, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
