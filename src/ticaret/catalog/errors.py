"""The errors of the product catalog, each with its fixed code."""

from __future__ import annotations

from typing import Any

from ticaret.core.errors import (
    AppError,
    Conflict,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)


def field_error(path: str, message: str) -> dict[str, Any]:
    """`details` of a 422 about one field, in the shape request validation uses."""
    return {"fields": [{"path": path, "message": message}]}


class ProductNotFound(NotFound):
    code = "product_not_found"
    default_message = "Product not found."


class ImageNotFound(NotFound):
    code = "image_not_found"
    default_message = "Image not found."


class ImportNotFound(NotFound):
    code = "import_not_found"
    default_message = "Import not found."


class SkuTaken(Conflict):
    code = "sku_taken"
    default_message = "Another product already has this sku."


class VariantSkuTaken(Conflict):
    code = "variant_sku_taken"
    default_message = "Another product's variant already has this sku."


class InvalidProduct(ValidationFailed):
    """A product that passes the schema but not the rules (a price with more decimals than
    its currency has)."""


# Imports ------------------------------------------------------------------------------------


class UnsupportedImportFile(UnsupportedMediaType):
    code = "unsupported_file_type"
    default_message = "Send JSON rows, or a .csv or .xlsx file as multipart/form-data."


class ImportFileTooLarge(PayloadTooLarge):
    code = "file_too_large"
    default_message = "The import file is larger than allowed."


class EmptyImport(ValidationFailed):
    code = "empty_import"
    default_message = "The file has no data rows."


class MissingSkuColumn(ValidationFailed):
    code = "missing_sku_column"
    default_message = "The file has no sku column; name it with columnMapping."


class DuplicateColumn(ValidationFailed):
    code = "duplicate_column"
    default_message = "Two columns fill the same field."


class InvalidColumnMapping(ValidationFailed):
    code = "invalid_column_mapping"
    default_message = "columnMapping names a field products do not have."


class SheetNotFound(ValidationFailed):
    code = "sheet_not_found"
    default_message = "The workbook has no such sheet."


class UnreadableImportFile(ValidationFailed):
    code = "unreadable_file"
    default_message = "The file could not be read."


class InvalidImportOptions(ValidationFailed):
    code = "validation_error"
    default_message = "The import options are invalid."


# What the file readers report, as the error each case is.
IMPORT_FILE_ERRORS: dict[str, type[AppError]] = {
    "unsupported_file_type": UnsupportedImportFile,
    "empty_file": EmptyImport,
    "empty_import": EmptyImport,
    "missing_sku_column": MissingSkuColumn,
    "duplicate_column": DuplicateColumn,
    "invalid_column_mapping": InvalidColumnMapping,
    "sheet_not_found": SheetNotFound,
    "unreadable_file": UnreadableImportFile,
}
