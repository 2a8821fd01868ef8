"""Reading and writing an import: shared by the request (small imports, written at once) and
the `run_product_import` job (large ones, chunk by chunk, each chunk with the import's progress
in one transaction, so the progress a client polls is exact and a job that runs again resumes
after the last chunk it committed).

Every row is validated on its own: a bad row is reported (row, field, code, message) and the
others are written. A file without a name column only updates products it names by sku.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import gc
import json
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.catalog.errors import IMPORT_FILE_ERRORS, UnreadableImportFile
from ticaret.catalog.events import IMPORT_COMPLETED, ImportCompleted
from ticaret.catalog.importing.columns import ColumnError, ColumnPlan
from ticaret.catalog.importing.reader import Chunk, ImportReader, ReadOptions, RowError
from ticaret.catalog.importing.sources import (
    SourceError,
    Workbook,
    count_lines,
    csv_rows,
    inspect_csv,
    peek_xlsx,
)
from ticaret.catalog.importing.values import NumberFormat
from ticaret.catalog.repository import imports as repository
from ticaret.catalog.repository.imports import UpsertOutcome, UpsertPlan
from ticaret.catalog.schemas import ImportErrorOut, ImportOut
from ticaret.core.db import unit_of_work
from ticaret.core.errors import AppError
from ticaret.core.events import Actor, emit
from ticaret.models import CatalogImport, ImportSource, ImportStatus
from ticaret.settings import Settings

logger = logging.getLogger("ticaret.catalog.imports")

# Job runs an import may start before it is given up as failed.
MAX_ATTEMPTS = 5
# An import that wrote this many products refreshes the planner's statistics before it is
# reported completed, so searches right after it are planned for the catalog it left.
ANALYZE_AFTER_ROWS = 10_000
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf-16": "utf-16",
    "windows-1254": "cp1254",
    "cp1254": "cp1254",
    "iso-8859-9": "iso-8859-9",
    "latin5": "iso-8859-9",
    "windows-1252": "cp1252",
    "cp1252": "cp1252",
    "iso-8859-1": "latin-1",
    "latin-1": "latin-1",
}
DELIMITERS = {",": ",", ";": ";", "|": "|", "\t": "\t", "tab": "\t", "\\t": "\t"}


@dataclass(frozen=True)
class ImportSpec:
    """What the request asked for, beyond the rows themselves."""

    column_mapping: dict[str, str | None] = field(default_factory=dict)
    default_currency: str | None = None
    decimal_separator: str = "auto"
    sheet: str | None = None
    delimiter: str | None = None
    encoding: str | None = None

    def as_options(self) -> dict[str, Any]:
        return {
            "columnMapping": self.column_mapping,
            "defaultCurrency": self.default_currency,
            "decimalSeparator": self.decimal_separator,
            "sheet": self.sheet,
            "delimiter": self.delimiter,
            "encoding": self.encoding,
        }

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ImportSpec:
        return cls(
            column_mapping=dict(options.get("columnMapping") or {}),
            default_currency=options.get("defaultCurrency"),
            decimal_separator=options.get("decimalSeparator") or "auto",
            sheet=options.get("sheet"),
            delimiter=options.get("delimiter"),
            encoding=options.get("encoding"),
        )


@dataclass(frozen=True)
class UploadedFile:
    """An uploaded file, already on our disk."""

    path: Path
    filename: str | None
    content_type: str | None
    size: int


# Reading ------------------------------------------------------------------------------------


class _Opened:
    """An import's rows, what was detected about them, and how to let go of the file."""

    def __init__(
        self,
        rows: Iterator[Sequence[Any]],
        detected: dict[str, Any],
        numbers: NumberFormat,
        estimated_rows: int | None = None,
        closer: Callable[[], None] | None = None,
    ) -> None:
        self.rows = rows
        self.detected = detected
        self.numbers = numbers
        self.estimated_rows = estimated_rows
        self._closer = closer

    def close(self) -> None:
        if self._closer is not None:
            self._closer()


def _json_rows(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[Any]]:
    """JSON objects as a header row (their keys, in order of first appearance) and rows."""
    header: list[str] = []
    seen: set[str] = set()
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                header.append(key)
    yield header
    for row in rows:
        yield [row.get(key) for key in header]


def open_rows(
    kind: ImportSource,
    spec: ImportSpec,
    *,
    path: Path | None = None,
    rows: Sequence[dict[str, Any]] | None = None,
    survey: bool = False,
) -> _Opened:
    """The rows of an import. `survey`: a first look (header, row count, size estimate) that
    reads no more than it must; an XLSX is then read straight from its XML, not through
    `Workbook`, which reads the whole shared strings table before giving the first row."""
    if kind == ImportSource.json:
        assert rows is not None
        return _Opened(
            _json_rows(rows),
            {"decimalSeparator": spec.decimal_separator},
            NumberFormat(spec.decimal_separator),
            estimated_rows=len(rows) + 1,
        )
    assert path is not None
    if kind == ImportSource.xlsx and survey:
        sheet, peeked, estimated = peek_xlsx(path, spec.sheet)
        return _Opened(
            peeked,
            {"sheet": sheet, "decimalSeparator": spec.decimal_separator},
            NumberFormat(spec.decimal_separator),
            estimated_rows=estimated,
            closer=peeked.close,
        )
    if kind == ImportSource.xlsx:
        workbook = Workbook(path, spec.sheet)
        return _Opened(
            workbook.rows(),
            {"sheet": workbook.sheet, "decimalSeparator": spec.decimal_separator},
            NumberFormat(spec.decimal_separator),
            closer=workbook.close,
        )
    fmt = inspect_csv(path, encoding=spec.encoding, delimiter=spec.delimiter)
    return _Opened(
        csv_rows(path, fmt),
        {
            "encoding": fmt.encoding,
            "delimiter": fmt.delimiter,
            "decimalSeparator": spec.decimal_separator,
        },
        # `1.299` groups thousands in a Turkish spreadsheet's `;` CSV.
        NumberFormat(spec.decimal_separator, dot_groups_thousands=fmt.delimiter == ";"),
        estimated_rows=count_lines(path) if survey else None,
    )


def row_reader(
    opened: _Opened, spec: ImportSpec, settings: Settings, *, chunk_rows: int, resume_after: int
) -> ImportReader:
    options = ReadOptions(
        column_mapping=spec.column_mapping,
        default_currency=spec.default_currency or settings.catalog.default_currency,
        numbers=opened.numbers,
    )
    return ImportReader(opened.rows, options, chunk_rows=chunk_rows, resume_after=resume_after)


def file_error(exc: SourceError | ColumnError) -> AppError:
    error_class = IMPORT_FILE_ERRORS.get(exc.code, UnreadableImportFile)
    return error_class(str(exc))


def upsert_plan(plan: ColumnPlan) -> UpsertPlan:
    attributes = None
    if "attributes" in plan.fields:
        attributes = "replace" if plan.replaces_attributes else "merge"
    return UpsertPlan(
        fields=plan.fields - {"sku", "attributes"}, creates=plan.creates, attributes=attributes
    )


# Writing ------------------------------------------------------------------------------------


class WriteMode(enum.Enum):
    # The chunk in one statement; a database error rolls back the caller's transaction (a
    # job's chunk has its own, and is written again row by row).
    DIRECT = "direct"
    # Inside a savepoint, falling back to row by row (a request's transaction goes on).
    GUARDED = "guarded"
    # One savepoint per row: the rows the database refuses are reported, the others written.
    ROW_BY_ROW = "row_by_row"


async def _write(
    session: AsyncSession,
    account_id: uuid.UUID,
    plan: UpsertPlan,
    chunk: Chunk,
    mode: WriteMode,
) -> tuple[UpsertOutcome, list[RowError]]:
    if not chunk.records:
        return UpsertOutcome(0, 0, 0, []), []
    if mode == WriteMode.DIRECT:
        return await repository.upsert_products(session, account_id, plan, chunk.records), []
    if mode == WriteMode.GUARDED:
        try:
            async with session.begin_nested():
                outcome = await repository.upsert_products(session, account_id, plan, chunk.records)
            return outcome, []
        except DBAPIError:
            logger.warning("a chunk of an import was refused; writing it row by row", exc_info=True)
    # Rows are validated before they get here; if the database still refuses the chunk, find
    # the rows it refuses one at a time and write the others.
    created = updated = unchanged = 0
    unknown: list[int] = []
    refused: list[RowError] = []
    for record in chunk.records:
        try:
            async with session.begin_nested():
                one = await repository.upsert_products(session, account_id, plan, [record])
        except DBAPIError as exc:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
            refused.append(
                RowError(record[0], None, "rejected", f"The database refused it: {reason}")
            )
            continue
        created, updated = created + one.created, updated + one.updated
        unchanged += one.unchanged
        unknown.extend(one.unknown_rows)
    return UpsertOutcome(created, updated, unchanged, unknown), refused


async def apply_chunk(
    session: AsyncSession,
    record: CatalogImport,
    plan: UpsertPlan,
    chunk: Chunk,
    error_limit: int,
    mode: WriteMode = WriteMode.GUARDED,
) -> None:
    """Write one chunk and count it on the import, in the caller's transaction."""
    outcome, refused = await _write(session, record.account_id, plan, chunk, mode)
    count_chunk(record, chunk, outcome, refused, error_limit)


def count_chunk(
    record: CatalogImport,
    chunk: Chunk,
    outcome: UpsertOutcome,
    refused: list[RowError],
    error_limit: int,
) -> None:
    """A written chunk's rows, outcomes and errors added to the import, and its resume point."""
    errors = [
        *chunk.errors,
        *(
            RowError(
                row,
                "sku",
                "unknown_sku",
                "No product has this sku, and the file has no name column to create one.",
            )
            for row in outcome.unknown_rows
        ),
        *refused,
    ]
    errors.sort(key=lambda error: error.row)
    record.processed_rows += chunk.rows
    record.created_count += outcome.created
    record.updated_count += outcome.updated
    record.unchanged_count += outcome.unchanged
    record.failed_count += chunk.failed_rows + len(outcome.unknown_rows) + len(refused)
    record.error_total += len(errors)
    room = error_limit - len(record.errors)
    if errors and room > 0:
        record.errors = [*record.errors, *(e.as_dict() for e in errors[:room])]
    record.checkpoint_row = chunk.last_row


def finish(
    session: AsyncSession,
    record: CatalogImport,
    status: ImportStatus,
    *,
    reason: str | None = None,
) -> None:
    record.status = status
    record.failure_reason = reason
    record.finished_at = datetime.now(UTC)
    if status == ImportStatus.completed:
        record.total_rows = record.processed_rows
    emit(
        session,
        IMPORT_COMPLETED,
        ImportCompleted(
            import_id=record.id,
            status=status,
            source=ImportSource(record.source),
            processed_rows=record.processed_rows,
            created=record.created_count,
            updated=record.updated_count,
            unchanged=record.unchanged_count,
            failed=record.failed_count,
        ),
        account_id=record.account_id,
        actor=Actor(record.actor_type, record.actor_id),
    )


def import_out(record: CatalogImport) -> ImportOut:
    detected = dict(record.detected)
    columns = detected.pop("columns", {})
    ignored = detected.pop("ignoredColumns", [])
    return ImportOut(
        import_id=record.id,
        status=ImportStatus(record.status),
        source=ImportSource(record.source),
        filename=record.filename,
        total_rows=record.total_rows,
        processed_rows=record.processed_rows,
        created=record.created_count,
        updated=record.updated_count,
        unchanged=record.unchanged_count,
        failed=record.failed_count,
        errors=[ImportErrorOut.model_validate(error) for error in record.errors],
        error_total=record.error_total,
        errors_truncated=record.error_total > len(record.errors),
        columns=columns,
        ignored_columns=ignored,
        detected=detected,
        failure_reason=record.failure_reason,
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
    )


# The job ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    account_id: uuid.UUID
    source: ImportSource
    spec: ImportSpec
    checkpoint_row: int


async def _claim(import_id: uuid.UUID) -> _Claimed | None:
    async with unit_of_work() as session:
        record = await repository.import_for_job(session, import_id, for_update=True)
        if record is None or record.status in (ImportStatus.completed, ImportStatus.failed):
            return None
        record.attempts += 1
        if record.attempts > MAX_ATTEMPTS:
            finish(
                session,
                record,
                ImportStatus.failed,
                reason=f"The import failed {MAX_ATTEMPTS} times; see the worker's log.",
            )
            return None
        record.status = ImportStatus.running
        record.started_at = record.started_at or datetime.now(UTC)
        return _Claimed(
            record.account_id,
            ImportSource(record.source),
            ImportSpec.from_options(record.options),
            record.checkpoint_row,
        )


async def _fail(import_id: uuid.UUID, reason: str) -> None:
    async with unit_of_work() as session:
        record = await repository.import_for_job(session, import_id, for_update=True)
        if record is not None and record.status == ImportStatus.running:
            finish(session, record, ImportStatus.failed, reason=reason)
            await repository.drop_file(session, import_id)


async def _materialise(import_id: uuid.UUID, path: Path) -> None:
    async with unit_of_work() as session:
        with path.open("wb") as out:
            async for piece in repository.file_pieces(session, import_id):
                out.write(piece)


class _FewerCollections:
    """Reading a large file allocates millions of short-lived containers (cells, csv rows,
    records). Python's cyclic collector runs every 700 of them by
    default and then costs about a third of an XLSX import; while any import runs, the worker
    collects every 100,000 instead (the memory that holds is a few megabytes)."""

    THRESHOLD = 100_000

    def __init__(self) -> None:
        self._active = 0
        self._saved: tuple[int, int, int] = gc.get_threshold()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        if self._active == 0:
            self._saved = gc.get_threshold()
            gc.set_threshold(self.THRESHOLD, self._saved[1], self._saved[2])
        self._active += 1
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:
                gc.set_threshold(*self._saved)


fewer_collections = _FewerCollections()


async def run_import(import_id: uuid.UUID, settings: Settings) -> str:
    """Write a queued import (the job's work). Idempotent: a finished import is left alone,
    and a run that finds another run ahead of it stops."""
    claimed = await _claim(import_id)
    if claimed is None:
        return "nothing to do"
    with fewer_collections(), tempfile.TemporaryDirectory(prefix="ticaret-import-") as directory:
        path = Path(directory) / "source"
        await _materialise(import_id, path)
        rows: list[dict[str, Any]] | None = None
        if claimed.source == ImportSource.json:
            rows = json.loads(path.read_bytes() or b"[]")
        try:
            opened = await asyncio.to_thread(
                open_rows, claimed.source, claimed.spec, path=path, rows=rows
            )
        except (SourceError, ColumnError) as exc:
            await _fail(import_id, str(exc))
            return "failed"
        try:
            reader = await asyncio.to_thread(
                row_reader,
                opened,
                claimed.spec,
                settings,
                chunk_rows=settings.catalog.import_chunk_rows,
                resume_after=claimed.checkpoint_row,
            )
            return await _write_chunks(claimed, import_id, reader, settings, claimed.checkpoint_row)
        except (SourceError, ColumnError) as exc:
            await _fail(import_id, str(exc))
            return "failed"
        finally:
            opened.close()


class _Overtaken(Exception):
    """Another run of the job moved the import on (or finished it): roll this chunk back."""


async def _commit_chunk(
    claimed: _Claimed,
    import_id: uuid.UUID,
    plan: UpsertPlan,
    chunk: Chunk,
    settings: Settings,
    checkpoint: int,
    mode: WriteMode,
    before: asyncio.Task[bool] | None,
) -> bool:
    """One chunk and the import's counters in one transaction; False when another run of the
    job moved the import on (or finished it) meanwhile.

    The rows are written first, while the chunk before (`before`) may still be writing its
    own on another connection; the counters only once that one has committed, so the import
    row's lock and the checkpoint still advance chunk after chunk."""
    try:
        async with unit_of_work() as session:
            await repository.commit_without_waiting_for_disk(session)
            outcome, refused = await _write(session, claimed.account_id, plan, chunk, mode)
            if before is not None and not await before:
                raise _Overtaken
            record = await repository.import_for_job(session, import_id, for_update=True)
            if (
                record is None
                or record.status != ImportStatus.running
                or record.checkpoint_row != checkpoint
            ):
                raise _Overtaken
            count_chunk(record, chunk, outcome, refused, settings.catalog.import_error_limit)
    except _Overtaken:
        return False
    return True


async def _write_chunk(
    claimed: _Claimed,
    import_id: uuid.UUID,
    plan: UpsertPlan,
    chunk: Chunk,
    settings: Settings,
    checkpoint: int,
    before: asyncio.Task[bool] | None,
) -> bool:
    # A sku both chunks write: the earlier row must land first (and the two upserts would
    # otherwise wait on each other's row locks).
    if before is not None and chunk.repeats_previous and not await before:
        return False
    try:
        return await _commit_chunk(
            claimed, import_id, plan, chunk, settings, checkpoint, WriteMode.DIRECT, before
        )
    except DBAPIError:
        logger.warning("import %s: a chunk was refused; row by row", import_id, exc_info=True)
        return await _commit_chunk(
            claimed, import_id, plan, chunk, settings, checkpoint, WriteMode.ROW_BY_ROW, before
        )


async def _write_chunks(
    claimed: _Claimed,
    import_id: uuid.UUID,
    reader: ImportReader,
    settings: Settings,
    checkpoint: int,
) -> str:
    plan = upsert_plan(reader.plan)
    # The next chunk is read (a thread: parsing is CPU work) while two are written, each on
    # its own connection: the database's work on one overlaps the other's round trips, COPY
    # encoding and commit, and a second core.
    pending: asyncio.Future[Chunk | None] = asyncio.ensure_future(
        asyncio.to_thread(reader.next_chunk)
    )
    writing: asyncio.Task[bool] | None = None
    try:
        while True:
            try:
                chunk = await pending
            except (SourceError, ColumnError) as exc:
                await _settle(writing)
                await _fail(import_id, f"The file could not be read on: {exc}")
                return "failed"
            except Exception as exc:
                logger.warning("import %s: the file could not be read on", import_id, exc_info=True)
                await _settle(writing)
                await _fail(
                    import_id,
                    f"The file could not be read after data row {reader.rows_read}: {exc}",
                )
                return "failed"
            if chunk is None:
                break
            pending = asyncio.ensure_future(asyncio.to_thread(reader.next_chunk))
            before = writing
            writing = asyncio.create_task(
                _write_chunk(claimed, import_id, plan, chunk, settings, checkpoint, before)
            )
            checkpoint = chunk.last_row
            # At most two chunks in flight: this one and the one before it.
            if before is not None and not await before:
                return "another run is ahead"
        if writing is not None and not await writing:
            return "another run is ahead"
        writing = None
        async with unit_of_work() as session:
            record = await repository.import_for_job(session, import_id, for_update=True)
            if record is None or record.status != ImportStatus.running:
                return "another run finished it"
            if record.created_count + record.updated_count >= ANALYZE_AFTER_ROWS:
                await repository.refresh_product_statistics(session)
            finish(session, record, ImportStatus.completed)
            await repository.drop_file(session, import_id)
        return "completed"
    finally:
        # A chunk still being written is rolled back (its job run failed or was overtaken);
        # a chunk still being read must finish before the file is closed under it.
        if writing is not None and not writing.done():
            writing.cancel()
        await _settle(writing)
        if not pending.done():
            with contextlib.suppress(Exception):
                await pending


async def _settle(task: asyncio.Task[bool] | None) -> None:
    """Wait for a chunk's write to end, whatever its outcome (the caller reports its own)."""
    if task is not None:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved: the caller reports the import's failure itself
