"""`/products/import` and `/products/imports/{importId}`: bulk imports and their progress."""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from ticaret.catalog.errors import (
    ImportFileTooLarge,
    InvalidImportOptions,
    UnsupportedImportFile,
    field_error,
)
from ticaret.catalog.schemas import (
    COLUMN_MAPPING_NOTE,
    DECIMAL_NOTE,
    ImportOut,
    ImportRequest,
)
from ticaret.catalog.service import imports as service
from ticaret.catalog.service.import_run import DELIMITERS, ENCODINGS, ImportSpec, UploadedFile
from ticaret.core.body_limit import declare_body_limit
from ticaret.core.db import DbSession
from ticaret.core.deps import Admin, Viewer
from ticaret.core.envelope import Envelope, ok
from ticaret.core.idempotency import Idempotent
from ticaret.core.money import known_currency
from ticaret.core.openapi import error_responses
from ticaret.models import ImportStatus
from ticaret.settings import Settings, get_settings

router = APIRouter(prefix="/products", tags=["Products"])

AppSettings = Annotated[Settings, Depends(get_settings)]
ImportId = Annotated[uuid.UUID, PathParam(alias="importId")]
COPY_BLOCK = 1024 * 1024
# Multipart framing around the file; the route checks the file's own size exactly, and a JSON
# body against its own, smaller limit as it reads it.
_FORM_OVERHEAD = 64 * 1024
declare_body_limit(
    "/products/import",
    lambda s: max(s.catalog.max_import_bytes + _FORM_OVERHEAD, s.catalog.max_json_import_bytes),
)

_FORM_FIELDS = {
    "file": {"type": "string", "format": "binary", "description": "The .csv or .xlsx file."},
    "columnMapping": {
        "type": "string",
        "description": f"A JSON object. {COLUMN_MAPPING_NOTE}",
        "examples": ['{"Ürün Kodu X": "sku", "Renk Adı": "attributes.color"}'],
    },
    "sheet": {"type": "string", "description": "XLSX: the sheet to read (default: the first)."},
    "delimiter": {
        "type": "string",
        "enum": [",", ";", "\t", "|", "tab"],
        "description": "CSV: default sniffed from the file.",
    },
    "encoding": {
        "type": "string",
        "enum": sorted(ENCODINGS),
        "description": "CSV: default UTF-8 (with or without BOM), else Windows-1254.",
    },
    "decimalSeparator": {"type": "string", "enum": ["auto", ",", "."], "description": DECIMAL_NOTE},
    "defaultCurrency": {"type": "string", "description": "Currency of rows naming none (TRY)."},
}

IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": ImportRequest.model_json_schema(by_alias=True, mode="validation")
            },
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": _FORM_FIELDS}
            },
        },
    }
}


def _status_of(result: Envelope[ImportOut]) -> int:
    return 202 if result.data.status in (ImportStatus.queued, ImportStatus.running) else 200


async def _json_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ImportFileTooLarge(f"JSON imports are limited to {limit} bytes; send a file.")
    body = bytearray()
    async for piece in request.stream():
        body.extend(piece)
        if len(body) > limit:
            raise ImportFileTooLarge(f"JSON imports are limited to {limit} bytes; send a file.")
    return bytes(body)


def _parse_json(body: bytes) -> ImportRequest:
    try:
        return ImportRequest.model_validate_json(body)
    except ValidationError as exc:
        # The same 422 (or 400 for a body that is not JSON) as every other route's body.
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None


def _option(form: Any, name: str) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    text = str(value).strip()
    return text or None


def _spec(form: Any) -> ImportSpec:
    mapping: dict[str, str | None] = {}
    raw_mapping = _option(form, "columnMapping")
    if raw_mapping is not None:
        try:
            parsed = json.loads(raw_mapping)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in parsed.items()
        ):
            raise InvalidImportOptions(
                "columnMapping must be a JSON object of header → field (or null).",
                details=field_error("columnMapping", "must be a JSON object of strings"),
            )
        mapping = parsed
    delimiter = _option(form, "delimiter") or ("\t" if form.get("delimiter") == "\t" else None)
    if delimiter is not None and delimiter not in DELIMITERS:
        raise InvalidImportOptions(details=field_error("delimiter", "use , ; | or tab"))
    encoding = _option(form, "encoding")
    if encoding is not None and encoding.lower() not in ENCODINGS:
        raise InvalidImportOptions(
            details=field_error("encoding", f"use one of {', '.join(sorted(ENCODINGS))}")
        )
    separator = _option(form, "decimalSeparator") or "auto"
    if separator not in ("auto", ",", "."):
        raise InvalidImportOptions(details=field_error("decimalSeparator", "use auto, , or ."))
    currency = _option(form, "defaultCurrency")
    if currency is not None:
        currency = currency.upper()
        if not known_currency(currency):
            raise InvalidImportOptions(
                details=field_error("defaultCurrency", "not an ISO 4217 currency code")
            )
    return ImportSpec(
        column_mapping=mapping,
        default_currency=currency,
        decimal_separator=separator,
        sheet=_option(form, "sheet"),
        delimiter=DELIMITERS[delimiter] if delimiter else None,
        encoding=ENCODINGS[encoding.lower()] if encoding else None,
    )


def _save(upload: UploadFile, directory: Path, limit: int) -> tuple[UploadedFile, str]:
    """The upload copied to our disk block by block, with its size and SHA-256."""
    path = directory / "upload"
    digest = hashlib.sha256()
    size = 0
    upload.file.seek(0)
    with path.open("wb") as out:
        while block := upload.file.read(COPY_BLOCK):
            size += len(block)
            if size > limit:
                raise ImportFileTooLarge(f"The file is larger than the {limit} bytes allowed.")
            digest.update(block)
            out.write(block)
    name = (upload.filename or "")[-255:] or None
    return UploadedFile(path, name, upload.content_type, size), digest.hexdigest()


@router.post(
    "/import",
    summary="Import products from JSON rows or a .csv / .xlsx file (upsert by sku)",
    description="Ürünleri JSON rows, CSV veya Excel dosyası ile içe aktarır. Admins only.\n\n"
    "Send `application/json` (`{rows: [...]}`) or `multipart/form-data` with a `file` part. "
    "CSV: UTF-8 with or without BOM (Windows-1254 when the bytes are not UTF-8), `,` `;` tab "
    "or `|` sniffed, quoted fields may hold newlines. XLSX: the first sheet or `sheet`, the "
    "header row found in the first 20 rows, typed cells read as typed.\n\n"
    "Rows are matched to products by sku: new skus are created, others updated (only the "
    "file's columns change; an empty cell clears its field; attribute columns add to the "
    "stored attributes). A file without a name column only updates existing products. Each "
    "row is validated on its own; `errors` names the data row (1-based, the header not "
    "counted), field, code and message, and `errorTotal` counts past the cap.\n\n"
    "Up to 1,000 data rows answer 200 with the outcome. Larger imports answer **202** with "
    "`status: queued`; follow `GET /products/imports/{importId}`. Repeating a request with "
    "the same `Idempotency-Key` returns the first answer.",
    response_model=Envelope[ImportOut],
    responses={
        202: {
            "model": Envelope[ImportOut],
            "description": "Accepted: the import runs as a job; poll its progress.",
        },
        **error_responses(400, 401, 403, 409, 413, 415, 422),
    },
    openapi_extra=IMPORT_BODY,
)
async def import_products(
    request: Request,
    response: Response,
    ctx: Admin,
    session: DbSession,
    idempotency: Idempotent,
    settings: AppSettings,
) -> Envelope[ImportOut] | JSONResponse:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":
        raw = await _json_body(request, settings.catalog.max_json_import_bytes)
        body = _parse_json(raw)

        async def rows() -> Envelope[ImportOut]:
            return ok((await service.import_rows(session, settings, ctx, body)).result)

        result = await idempotency.run(
            session,
            ctx.account_id,
            rows,
            status_code=_status_of,
            fingerprint=["json", hashlib.sha256(raw).hexdigest()],
        )
    elif media_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=20)
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidImportOptions(
                    "Send the file in a part named `file`.",
                    details=field_error("file", "required"),
                )
            spec = _spec(form)
            with tempfile.TemporaryDirectory(prefix="ticaret-upload-") as directory:
                saved, digest = _save(upload, Path(directory), settings.catalog.max_import_bytes)

                async def file() -> Envelope[ImportOut]:
                    started = await service.import_file(session, settings, ctx, saved, spec)
                    return ok(started.result)

                result = await idempotency.run(
                    session,
                    ctx.account_id,
                    file,
                    status_code=_status_of,
                    fingerprint=["file", saved.filename, digest, spec.as_options()],
                )
        finally:
            await form.close()
    else:
        raise UnsupportedImportFile()
    if isinstance(result, Envelope):
        response.status_code = _status_of(result)
    return result


@router.get(
    "/imports/{importId}",
    summary="An import's progress and outcome",
    description="Processed and total rows, the counts so far and the first row errors. "
    "`status` is queued, running, completed or failed (the file could not be read on).",
    response_model=Envelope[ImportOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_import(import_id: ImportId, ctx: Viewer, session: DbSession) -> Envelope[ImportOut]:
    return ok(await service.get_import(session, ctx, import_id))
