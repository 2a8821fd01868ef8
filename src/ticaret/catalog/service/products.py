"""Products: the catalog's rules for creating, changing, listing and deleting them, and their
image metadata."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.catalog.errors import (
    ImageNotFound,
    InvalidProduct,
    ProductNotFound,
    SkuTaken,
    VariantSkuTaken,
    field_error,
)
from ticaret.catalog.events import (
    PRODUCT_CREATED,
    PRODUCT_DELETED,
    PRODUCT_UPDATED,
    ProductCreated,
    ProductRef,
    ProductUpdated,
)
from ticaret.catalog.importing.values import stock_status_for
from ticaret.catalog.repository import products as repository
from ticaret.catalog.repository.products import ProductFilters
from ticaret.catalog.schemas import (
    ImageIn,
    ImageOut,
    ProductCreate,
    ProductOut,
    ProductUpdate,
    VariantIn,
    VariantOut,
)
from ticaret.catalog.service.search import search_page, search_words
from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.core.events import emit
from ticaret.core.money import MoneyError, exact_amount
from ticaret.core.versioning import check_version
from ticaret.models import Product, ProductImage, ProductVariant, StockStatus
from ticaret.settings import Settings


async def product_views(
    session: AsyncSession,
    account_id: uuid.UUID,
    products: Sequence[Product],
    scores: dict[uuid.UUID, float] | None = None,
) -> list[ProductOut]:
    ids = [p.id for p in products]
    variants = await repository.variants_of(session, account_id, ids)
    images = await repository.images_of(session, account_id, ids)
    return [
        from_row(
            ProductOut,
            p,
            variants=[VariantOut.model_validate(v) for v in variants.get(p.id, [])],
            images=[ImageOut.model_validate(i) for i in images.get(p.id, [])],
            score=(scores or {}).get(p.id),
        )
        for p in products
    ]


async def _view(session: AsyncSession, product: Product) -> ProductOut:
    return (await product_views(session, product.account_id, [product]))[0]


async def _live(
    session: AsyncSession, ctx: AccountContext, product_id: uuid.UUID, *, for_update: bool = False
) -> Product:
    product = await repository.product(session, ctx.account_id, product_id, for_update=for_update)
    if product is None:
        raise ProductNotFound()
    return product


def _amount(value: Decimal | None, currency: str, path: str) -> Decimal | None:
    if value is None:
        return None
    if value < 0:
        raise InvalidProduct(f"{path} cannot be negative.", details=field_error(path, "negative"))
    try:
        return exact_amount(value, currency, what=path)
    except MoneyError as exc:
        raise InvalidProduct(f"{exc}.", details=field_error(path, str(exc))) from None


def _variant_terms(variants: Sequence[VariantIn]) -> str:
    terms: list[str] = []
    for variant in variants:
        terms.append(variant.sku)
        if variant.name:
            terms.append(variant.name)
        terms.extend(str(value) for value in variant.attributes.values())
    return " ".join(terms)


async def _check_variants(
    session: AsyncSession,
    account_id: uuid.UUID,
    variants: Sequence[VariantIn],
    currency: str,
    product_id: uuid.UUID | None,
) -> None:
    seen: set[str] = set()
    for index, variant in enumerate(variants):
        if variant.sku in seen:
            raise InvalidProduct(
                f"Two variants have the sku {variant.sku!r}.",
                details=field_error(f"variants.{index}.sku", "duplicate sku"),
            )
        seen.add(variant.sku)
        _amount(variant.price, currency, f"variants.{index}.price")
        _amount(variant.compare_at_price, currency, f"variants.{index}.compareAtPrice")
    taken = await repository.variant_skus_taken(
        session, account_id, list(seen), other_than=product_id
    )
    if taken:
        raise VariantSkuTaken(
            f"Another product's variant already has the sku {taken[0]!r}.",
            details={"sku": taken[0]},
        )


def _variant_rows(
    account_id: uuid.UUID,
    product: Product,
    variants: Sequence[VariantIn],
    existing: dict[str, ProductVariant],
) -> list[ProductVariant]:
    rows: list[ProductVariant] = []
    for position, variant in enumerate(variants):
        row = existing.get(variant.sku) or ProductVariant(
            account_id=account_id, product_id=product.id, sku=variant.sku
        )
        row.name = variant.name
        row.attributes = dict(variant.attributes)
        row.price = _amount(variant.price, product.currency, "price")
        row.compare_at_price = _amount(variant.compare_at_price, product.currency, "price")
        row.stock_quantity = variant.stock_quantity
        row.stock_status = variant.stock_status or (
            stock_status_for(variant.stock_quantity)
            if variant.stock_quantity is not None
            else StockStatus.in_stock
        )
        row.position = position
        rows.append(row)
    return rows


async def _flush_product(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
        if constraint == "uq_product_variants_account_sku" or "product_variants" in str(exc):
            raise VariantSkuTaken() from None
        if constraint == "uq_products_account_sku" or "uq_products_account_sku" in str(exc):
            raise SkuTaken() from None
        raise


async def list_products(
    session: AsyncSession,
    ctx: AccountContext,
    filters: ProductFilters,
    query: str | None,
    page: PageParams,
) -> Page[ProductOut]:
    if query is not None and search_words(query):
        found, cursor, more = await search_page(session, ctx.account_id, query, filters, page)
        views = await product_views(
            session,
            ctx.account_id,
            [match.product for match in found],
            {match.product.id: match.score for match in found},
        )
        return Page[ProductOut](rows=views, next_cursor=cursor, has_more=more)
    fetched = await repository.products_page(
        session, ctx.account_id, filters, after=page.after_id(), limit=page.limit
    )
    kept, cursor, more = build_page(fetched, page.limit, lambda p: [p.id])
    views = await product_views(session, ctx.account_id, kept)
    return Page[ProductOut](rows=views, next_cursor=cursor, has_more=more)


async def get_product(
    session: AsyncSession, ctx: AccountContext, product_id: uuid.UUID
) -> ProductOut:
    return await _view(session, await _live(session, ctx, product_id))


async def create_product(
    session: AsyncSession, settings: Settings, ctx: AccountContext, body: ProductCreate
) -> ProductOut:
    currency = body.currency or settings.catalog.default_currency
    if await repository.sku_taken(session, ctx.account_id, body.sku):
        raise SkuTaken()
    await _check_variants(session, ctx.account_id, body.variants, currency, None)
    product = Product(
        account_id=ctx.account_id,
        sku=body.sku,
        name=body.name,
        description=body.description,
        brand=body.brand,
        category=body.category,
        attributes=dict(body.attributes),
        price=_amount(body.price, currency, "price"),
        currency=currency,
        compare_at_price=_amount(body.compare_at_price, currency, "compareAtPrice"),
        stock_quantity=body.stock_quantity,
        stock_status=body.stock_status
        or (
            stock_status_for(body.stock_quantity)
            if body.stock_quantity is not None
            else StockStatus.in_stock
        ),
        product_url=body.product_url,
        status=body.status,
        tags=list(body.tags),
        variant_terms=_variant_terms(body.variants),
    )
    session.add(product)
    await _flush_product(session)
    session.add_all(_variant_rows(ctx.account_id, product, body.variants, {}))
    await _flush_product(session)
    emit(
        session,
        PRODUCT_CREATED,
        ProductCreated(
            product_id=product.id, sku=product.sku, name=product.name, status=product.status
        ),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    return await _view(session, product)


_PLAIN_FIELDS = (
    "name",
    "description",
    "brand",
    "category",
    "attributes",
    "stock_quantity",
    "stock_status",
    "product_url",
    "status",
    "tags",
)
_WIRE = {
    "compare_at_price": "compareAtPrice",
    "stock_quantity": "stockQuantity",
    "stock_status": "stockStatus",
    "product_url": "productUrl",
}


async def update_product(
    session: AsyncSession,
    ctx: AccountContext,
    product_id: uuid.UUID,
    body: ProductUpdate,
    expected_version: str | None,
) -> ProductOut:
    product = await _live(session, ctx, product_id, for_update=True)
    check_version(product, expected_version)
    sent = body.model_fields_set
    for required in ("sku", "name", "currency", "status", "attributes", "tags"):
        if required in sent and getattr(body, required) is None:
            raise InvalidProduct(
                f"{required} cannot be null.", details=field_error(required, "cannot be null")
            )
    changes: dict[str, Any] = {}
    if body.sku is not None and body.sku != product.sku:
        if await repository.sku_taken(session, ctx.account_id, body.sku, other_than=product.id):
            raise SkuTaken()
        changes["sku"] = body.sku
    currency = body.currency or product.currency
    if currency != product.currency:
        changes["currency"] = currency
    for name in ("price", "compare_at_price"):
        amount = getattr(body, name) if name in sent else getattr(product, name)
        checked = _amount(amount, currency, _WIRE.get(name, name))
        if name in sent and checked != getattr(product, name):
            changes[name] = checked
    for name in _PLAIN_FIELDS:
        if name in sent and getattr(body, name) != getattr(product, name):
            changes[name] = getattr(body, name)
    if "stock_quantity" in changes and "stock_status" not in sent:
        quantity = changes["stock_quantity"]
        if quantity is not None and product.stock_status != StockStatus.preorder:
            derived = stock_status_for(quantity)
            if derived != product.stock_status:
                changes["stock_status"] = derived
    changed = [_WIRE.get(name, name) for name in changes]
    if body.variants is not None:
        existing = {
            v.sku: v
            for v in (await repository.variants_of(session, ctx.account_id, [product.id])).get(
                product.id, []
            )
        }
        await _check_variants(session, ctx.account_id, body.variants, currency, product.id)
        before = [_variant_snapshot(v) for v in existing.values()]
        for name, value in changes.items():
            setattr(product, name, value)
        rows = _variant_rows(ctx.account_id, product, body.variants, existing)
        if [_variant_snapshot(v) for v in rows] != before:
            kept = [row.id for row in rows if row.id is not None]
            await repository.delete_variants(session, ctx.account_id, product.id, keep=kept)
            session.add_all(rows)
            changes["variant_terms"] = _variant_terms(body.variants)
            changed.append("variants")
    elif changes.get("currency"):
        await _check_stored_variants(session, ctx.account_id, product.id, currency)
    if not changed:
        return await _view(session, product)
    for name, value in changes.items():
        setattr(product, name, value)
    # Variants are rows of their own; the product's version moves with them all the same.
    product.updated_at = datetime.now(UTC)
    await _flush_product(session)
    emit(
        session,
        PRODUCT_UPDATED,
        ProductUpdated(product_id=product.id, sku=product.sku, changed=changed),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    return await _view(session, product)


def _variant_snapshot(variant: ProductVariant) -> tuple[Any, ...]:
    return (
        variant.sku,
        variant.name,
        variant.attributes,
        variant.price,
        variant.compare_at_price,
        variant.stock_quantity,
        variant.stock_status,
    )


async def _check_stored_variants(
    session: AsyncSession, account_id: uuid.UUID, product_id: uuid.UUID, currency: str
) -> None:
    for index, variant in enumerate(
        (await repository.variants_of(session, account_id, [product_id])).get(product_id, [])
    ):
        _amount(variant.price, currency, f"variants.{index}.price")


async def delete_product(session: AsyncSession, ctx: AccountContext, product_id: uuid.UUID) -> None:
    product = await _live(session, ctx, product_id, for_update=True)
    product.deleted_at = datetime.now(UTC)
    # The variants' skus are free again, like the product's; orders keep their snapshots.
    await repository.delete_variants(session, ctx.account_id, product.id)
    await session.flush()
    emit(
        session,
        PRODUCT_DELETED,
        ProductRef(product_id=product.id, sku=product.sku),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )


async def add_image(
    session: AsyncSession, ctx: AccountContext, product_id: uuid.UUID, body: ImageIn
) -> ImageOut:
    product = await _live(session, ctx, product_id, for_update=True)
    position = body.position
    if position is None:
        position = await repository.next_image_position(session, ctx.account_id, product.id)
    image = ProductImage(
        account_id=ctx.account_id,
        product_id=product.id,
        url=body.url,
        alt=body.alt,
        position=position,
        width=body.width,
        height=body.height,
        content_type=body.content_type,
    )
    session.add(image)
    await _images_changed(session, ctx, product)
    return ImageOut.model_validate(image)


async def delete_image(
    session: AsyncSession, ctx: AccountContext, product_id: uuid.UUID, image_id: uuid.UUID
) -> None:
    product = await _live(session, ctx, product_id, for_update=True)
    image = await repository.image(session, ctx.account_id, product.id, image_id)
    if image is None:
        raise ImageNotFound()
    await repository.delete_image(session, ctx.account_id, image.id)
    await _images_changed(session, ctx, product)


async def _images_changed(session: AsyncSession, ctx: AccountContext, product: Product) -> None:
    product.updated_at = datetime.now(UTC)
    await session.flush()
    emit(
        session,
        PRODUCT_UPDATED,
        ProductUpdated(product_id=product.id, sku=product.sku, changed=["images"]),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
