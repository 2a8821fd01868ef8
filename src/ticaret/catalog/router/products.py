"""`/products`: the catalog's products and their image metadata."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from ticaret.catalog.repository.products import ProductFilters
from ticaret.catalog.schemas import ImageIn, ImageOut, ProductCreate, ProductOut, ProductUpdate
from ticaret.catalog.service import products as service
from ticaret.core.db import DbSession
from ticaret.core.deps import Admin, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.money import Money
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.models import ProductStatus, StockStatus
from ticaret.settings import Settings, get_settings

router = APIRouter(prefix="/products", tags=["Products"])

AppSettings = Annotated[Settings, Depends(get_settings)]
ProductId = Annotated[uuid.UUID, Path(alias="productId")]
ImageId = Annotated[uuid.UUID, Path(alias="imageId")]


def product_filters(
    product_status: Annotated[ProductStatus | None, Query(alias="status")] = None,
    stock_status: Annotated[StockStatus | None, Query(alias="stockStatus")] = None,
    category: Annotated[
        str | None, Query(max_length=200, description="Exact, ignoring case and accents.")
    ] = None,
    brand: Annotated[
        str | None, Query(max_length=120, description="Exact, ignoring case and accents.")
    ] = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
    currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    min_price: Annotated[Money | None, Query(alias="minPrice")] = None,
    max_price: Annotated[Money | None, Query(alias="maxPrice")] = None,
) -> ProductFilters:
    return ProductFilters(
        status=product_status,
        stock_status=stock_status,
        category=category,
        brand=brand,
        tag=tag,
        currency=currency.upper() if currency else None,
        min_price=Decimal(min_price) if min_price is not None else None,
        max_price=Decimal(max_price) if max_price is not None else None,
    )


Filters = Annotated[ProductFilters, Depends(product_filters)]


@router.get(
    "",
    summary="List products: newest first, or best match first with q",
    description="Account ürünlerini listeler. `q` searches sku, name, brand, category and "
    "attribute values (also of variants), ignoring case, accents and Turkish letters "
    "(`kirmizi canta` finds `Kırmızı Çanta`) and tolerating small typos; every word must "
    "match, and rows come best first with their `score`. The other filters combine with it.",
    response_model=Envelope[Page[ProductOut]],
    responses=error_responses(400, 401, 403, 422),
)
async def list_products(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    filters: Filters,
    q: Annotated[str | None, Query(max_length=200, description="Search words.")] = None,
) -> Envelope[Page[ProductOut]]:
    return ok(await service.list_products(session, ctx, filters, q, page))


@router.post(
    "",
    summary="Create a product",
    description=f"Account ürün kaydı oluşturur. Admins only. {ProductCreate.__doc__ or ''}",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[ProductOut],
    responses=error_responses(400, 401, 403, 409, 422),
)
async def create_product(
    body: ProductCreate, ctx: Admin, session: DbSession, settings: AppSettings
) -> Envelope[ProductOut]:
    return ok(await service.create_product(session, settings, ctx, body))


@router.get(
    "/{productId}",
    summary="Get a product with its variants and images",
    description="Tek ürün kaydını döner.",
    response_model=Envelope[ProductOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_product(
    product_id: ProductId, ctx: Viewer, session: DbSession
) -> Envelope[ProductOut]:
    return ok(await service.get_product(session, ctx, product_id))


@router.patch(
    "/{productId}",
    summary="Update a product (only the fields sent; variants replace the list)",
    description="Ürün kaydını günceller. Admins only. Send `entityVersion` (or `If-Match`) to "
    "refuse a change based on a stale copy (409 `version_conflict`).",
    response_model=Envelope[ProductOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def update_product(
    product_id: ProductId,
    body: ProductUpdate,
    ctx: Admin,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[ProductOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_product(session, ctx, product_id, body, version))


@router.delete(
    "/{productId}",
    summary="Delete a product (soft: it leaves lists and its sku is free again)",
    description="Ürünü soft-delete eder. Admins only. Orders keep their snapshot of it.",
    response_model=Envelope[dict[str, bool]],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_product(
    product_id: ProductId, ctx: Admin, session: DbSession
) -> Envelope[dict[str, bool]]:
    await service.delete_product(session, ctx, product_id)
    return ok({"deleted": True})


@router.post(
    "/{productId}/images",
    summary="Add an image's metadata to a product (we keep its URL, not its bytes)",
    description="Ürün görsel metadata kaydı ekler. Admins only. Images are listed on the "
    "product in `position` order; without one the image goes last.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[ImageOut],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def add_image(
    product_id: ProductId, body: ImageIn, ctx: Admin, session: DbSession
) -> Envelope[ImageOut]:
    return ok(await service.add_image(session, ctx, product_id, body))


@router.delete(
    "/{productId}/images/{imageId}",
    summary="Remove an image from a product",
    description="Admins only.",
    response_model=Envelope[dict[str, bool]],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_image(
    product_id: ProductId, image_id: ImageId, ctx: Admin, session: DbSession
) -> Envelope[dict[str, bool]]:
    await service.delete_image(session, ctx, product_id, image_id)
    return ok({"deleted": True})
