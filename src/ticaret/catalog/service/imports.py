"""Product imports: JSON rows, CSV or XLSX files, upserted by sku.

A small import (up to `sync_import_max_rows` data rows) is written in the request and answered
with its outcome. A larger one is stored (the file goes into the database: the API and the
worker need not share a disk), answered 202, and written by the `run_product_import` job.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.catalog.errors import IMPORT_FILE_ERRORS, ImportNotFound
from ticaret.catalog.importing.columns import ColumnError
from ticaret.catalog.importing.reader import ImportReader
from ticaret.catalog.importing.sources import SourceError, file_kind
from ticaret.catalog.repository import imports as repository
from ticaret.catalog.schemas import ImportOut, ImportRequest
from ticaret.catalog.service.import_run import (
    ImportSpec,
    UploadedFile,
    apply_chunk,
    file_error,
    finish,
    import_out,
    open_rows,
    row_reader,
    upsert_plan,
)
from ticaret.catalog.tasks import import_job_id, run_product_import
from ticaret.core.auth import AccountContext
from ticaret.models import CatalogImport, ImportSource, ImportStatus
from ticaret.settings import Settings

FILE_PIECE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ImportStarted:
    result: ImportOut
    queued: bool  # answered before the rows were written: 202, poll the import


# Starting -----------------------------------------------------------------------------------


def _new_record(
    ctx: AccountContext,
    source: ImportSource,
    spec: ImportSpec,
    *,
    filename: str | None = None,
    size: int | None = None,
) -> CatalogImport:
    actor = ctx.actor
    return CatalogImport(
        account_id=ctx.account_id,
        status=ImportStatus.queued,
        source=source,
        filename=filename,
        size_bytes=size,
        options=spec.as_options(),
        detected={},
        errors=[],
        actor_type=actor.type,
        actor_id=actor.id,
    )


async def _run_inline(
    session: AsyncSession, settings: Settings, record: CatalogImport, reader: ImportReader
) -> None:
    plan = upsert_plan(reader.plan)
    record.status = ImportStatus.running
    record.started_at = datetime.now(UTC)
    while (chunk := reader.next_chunk()) is not None:
        await apply_chunk(session, record, plan, chunk, settings.catalog.import_error_limit)
    finish(session, record, ImportStatus.completed)
    await session.flush()


async def _start(
    session: AsyncSession,
    settings: Settings,
    ctx: AccountContext,
    kind: ImportSource,
    spec: ImportSpec,
    *,
    upload: UploadedFile | None = None,
    rows: Sequence[dict[str, Any]] | None = None,
) -> ImportStarted:
    path = upload.path if upload else None
    limit = settings.catalog.sync_import_max_rows
    # First pass: the header, the columns, and whether there are more rows than we answer
    # at once (read no further than that).
    try:
        opened = open_rows(kind, spec, path=path, rows=rows, survey=True)
        try:
            survey = row_reader(opened, spec, settings, chunk_rows=limit + 1, resume_after=0)
            data_rows = survey.count_rows(limit)
        finally:
            opened.close()
    except (SourceError, ColumnError) as exc:
        raise file_error(exc) from exc
    if data_rows == 0:
        raise IMPORT_FILE_ERRORS["empty_import"](
            "The file has a header row but no data rows."
            if kind != ImportSource.json
            else "The rows have no data."
        )
    record = _new_record(
        ctx,
        kind,
        spec,
        filename=upload.filename if upload else None,
        size=upload.size if upload else None,
    )
    record.detected = {
        **opened.detected,
        "headerRow": survey.header_row,
        "columns": survey.plan.describe(),
        "ignoredColumns": list(survey.plan.ignored),
    }
    session.add(record)
    await session.flush()
    if data_rows <= limit:
        opened = open_rows(kind, spec, path=path, rows=rows)
        try:
            reader = row_reader(opened, spec, settings, chunk_rows=limit + 1, resume_after=0)
            await _run_inline(session, settings, record, reader)
        except (SourceError, ColumnError) as exc:
            raise file_error(exc) from exc
        finally:
            opened.close()
        return ImportStarted(import_out(record), queued=False)

    estimate = opened.estimated_rows
    record.total_rows = max(estimate - survey.header_row, data_rows) if estimate else None
    if upload is not None:
        with upload.path.open("rb") as stream:
            await _store(session, record, stream)
    else:
        payload = json.dumps(list(rows or []), ensure_ascii=False).encode()
        await repository.store_file_piece(session, record.account_id, record.id, 0, payload)
    run_product_import.options(job_id=import_job_id(record.id)).after_commit(
        session, str(record.id)
    )
    return ImportStarted(import_out(record), queued=True)


async def _store(session: AsyncSession, record: CatalogImport, stream: BinaryIO) -> None:
    seq = 0
    while piece := stream.read(FILE_PIECE_BYTES):
        await repository.store_file_piece(session, record.account_id, record.id, seq, piece)
        seq += 1


async def import_rows(
    session: AsyncSession, settings: Settings, ctx: AccountContext, body: ImportRequest
) -> ImportStarted:
    spec = ImportSpec(
        column_mapping=body.column_mapping,
        default_currency=body.default_currency,
        decimal_separator=body.decimal_separator,
    )
    return await _start(session, settings, ctx, ImportSource.json, spec, rows=body.rows)


async def import_file(
    session: AsyncSession,
    settings: Settings,
    ctx: AccountContext,
    upload: UploadedFile,
    spec: ImportSpec,
) -> ImportStarted:
    with upload.path.open("rb") as stream:
        head = stream.read(8)
    try:
        kind = file_kind(upload.filename, upload.content_type, head)
    except SourceError as exc:
        raise file_error(exc) from exc
    if upload.size == 0:
        raise IMPORT_FILE_ERRORS["empty_file"]("The file is empty.")
    return await _start(session, settings, ctx, kind, spec, upload=upload)


async def get_import(session: AsyncSession, ctx: AccountContext, import_id: uuid.UUID) -> ImportOut:
    record = await repository.import_of_account(session, ctx.account_id, import_id)
    if record is None:
        raise ImportNotFound()
    return import_out(record)
