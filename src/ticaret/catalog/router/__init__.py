"""The catalog's routes, one router for `main.py`."""

from fastapi import APIRouter

from ticaret.catalog.router import imports, products

router = APIRouter()
# Imports first: `/products/import` must not be read as a product id.
router.include_router(imports.router)
router.include_router(products.router)
