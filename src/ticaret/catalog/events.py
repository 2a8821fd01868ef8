"""Event types of the product catalog.

Products written by an import do not emit one event each (a 200,000-row file would be 200,000
deliveries to every webhook); the import emits `catalog.import.completed` with its counts.
"""

from __future__ import annotations

import uuid

from ticaret.core.events import EventPayload, event_type
from ticaret.models import ImportSource, ImportStatus, ProductStatus


class ProductRef(EventPayload):
    product_id: uuid.UUID
    sku: str


class ProductCreated(ProductRef):
    name: str
    status: ProductStatus


class ProductUpdated(ProductRef):
    changed: list[str]


class ImportCompleted(EventPayload):
    import_id: uuid.UUID
    status: ImportStatus
    source: ImportSource
    processed_rows: int
    created: int
    updated: int
    unchanged: int
    failed: int


PRODUCT_CREATED = event_type(
    "catalog.product.created", "A product was created through the API.", ProductCreated
)
PRODUCT_UPDATED = event_type(
    "catalog.product.updated",
    "A product changed through the API (`changed` names its fields, `images` for its image list).",
    ProductUpdated,
)
PRODUCT_DELETED = event_type("catalog.product.deleted", "A product was deleted.", ProductRef)
IMPORT_COMPLETED = event_type(
    "catalog.import.completed",
    "A product import finished: `status` completed (every row handled; `failed` counts rows "
    "refused on their own) or failed (the file could not be read on). Imported products emit "
    "no per-product events; re-read the catalog after this one.",
    ImportCompleted,
)
