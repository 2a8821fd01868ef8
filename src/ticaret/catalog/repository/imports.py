"""SQL for catalog imports: the import rows, their stored files, and the bulk product upsert.

The upsert writes a chunk of rows with two statements whatever its size: a binary COPY into a
temporary staging table, then one `INSERT ... SELECT ... ON CONFLICT DO UPDATE`. Conflicts are
found by the unique sku index row by row, so no join plan depends on table statistics (which
lag behind a large import). Unchanged rows are left alone: the `DO UPDATE ... WHERE` skips a row
whose fields all equal what is stored, so it is neither rewritten nor counted as updated.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.catalog.importing.reader import RECORD_FIELDS
from ticaret.core.db import written_in
from ticaret.models import CatalogImport, CatalogImportFile, ImportStatus

STAGING = "catalog_import_staging"
# Written into the SQL (not bound): `ix_catalog_imports_open` is partial (see `written_in`).
_OPEN = written_in(CatalogImport.status, ImportStatus.queued, ImportStatus.running)

# Every SQL text here is built from this module's constants (never from input).
# Lives as long as the connection; ON COMMIT DELETE ROWS empties it after every transaction.
_STAGING_DDL = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGING} (
    row_no integer, id uuid, sku text, name text, description text, brand text,
    category text, price numeric, compare_at_price numeric, currency text,
    stock_quantity integer, stock_status text, status text, product_url text,
    tags text[], attributes jsonb
) ON COMMIT DELETE ROWS
"""

# Fields an import may write, as (column, value expression over the staging row `s`).
_VALUES = {
    "name": "s.name",
    "description": "s.description",
    "brand": "s.brand",
    "category": "s.category",
    "price": "s.price",
    "compare_at_price": "s.compare_at_price",
    "currency": "s.currency",
    "stock_quantity": "s.stock_quantity",
    "stock_status": "s.stock_status",
    "status": "s.status",
    "product_url": "s.product_url",
    "tags": "s.tags::varchar(60)[]",
}


@dataclass(frozen=True)
class UpsertPlan:
    """What one import writes: the fields its file has, and how attributes are applied."""

    fields: frozenset[str]
    creates: bool  # the file has names: unknown skus become new products
    attributes: str | None  # None (not written), "replace" or "merge"


@dataclass(frozen=True)
class UpsertOutcome:
    created: int
    updated: int
    unchanged: int
    unknown_rows: list[int]  # rows of a file without names whose sku matches no product


def _written(plan: UpsertPlan) -> list[str]:
    columns = [column for column in _VALUES if column in plan.fields]
    if "stock_quantity" in plan.fields and "stock_status" not in columns:
        columns.append("stock_status")  # derived from the quantity
    return columns


def _upsert_sql(plan: UpsertPlan) -> str:
    written = _written(plan)
    columns = ["id", "account_id", "sku", *_VALUES, "attributes", "version"]
    if plan.creates:
        values = ["s.id", ":account_id", "s.sku", *_VALUES.values(), "s.attributes", "1"]
        source = f"{STAGING} s"
        # A merge adds the file's attributes to the stored ones.
        attributes = "p.attributes || EXCLUDED.attributes" if plan.attributes == "merge" else None
    else:
        # A file without names only updates: every row left names an existing product (the
        # others were reported unknown), and the insert carries that product's stored values
        # for the fields the file lacks, so the conflict turns it into the update.
        stored_attributes = {
            None: "e.attributes",
            "replace": "s.attributes",
            "merge": "e.attributes || s.attributes",
        }[plan.attributes]
        values = [
            "s.id",
            ":account_id",
            "s.sku",
            *(expression if c in written else f"e.{c}" for c, expression in _VALUES.items()),
            stored_attributes,
            "1",
        ]
        source = (
            f"{STAGING} s CROSS JOIN LATERAL (SELECT * FROM products x "  # noqa: S608
            "WHERE x.account_id = :account_id AND x.sku = s.sku AND x.deleted_at IS NULL "
            "LIMIT 1) e"
        )
        attributes = None
    assignments = [(column, f"EXCLUDED.{column}") for column in written]
    if plan.attributes is not None:
        assignments.append(("attributes", attributes or "EXCLUDED.attributes"))
    changed = " OR ".join(f"p.{c} IS DISTINCT FROM {e}" for c, e in assignments) or "false"
    set_clause = ", ".join(
        [f"{c} = {e}" for c, e in assignments] + ["version = p.version + 1", "updated_at = now()"]
    )
    # `xmax = 0` only on a row this statement inserted; an updated row carries its lock.
    return (
        f"INSERT INTO products AS p ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {source} "
        "ON CONFLICT (account_id, sku) WHERE deleted_at IS NULL DO UPDATE SET "
        f"{set_clause} WHERE {changed} "
        "RETURNING (p.xmax = 0) AS created"
    )


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's own, for COPY (same transaction)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def upsert_products(
    session: AsyncSession,
    account_id: uuid.UUID,
    plan: UpsertPlan,
    records: Sequence[tuple[Any, ...]],
) -> UpsertOutcome:
    """Write a chunk of records (`RECORD_FIELDS` order, one sku at most once)."""
    if not records:
        return UpsertOutcome(0, 0, 0, [])
    await session.execute(text(_STAGING_DDL))
    # Empty already unless an earlier chunk of this transaction used it. (TRUNCATE would give
    # the table a new file each time, and every statement on it a new plan.)
    await session.execute(text(f"DELETE FROM {STAGING}"))  # noqa: S608
    driver = await _driver(session)
    await driver.copy_records_to_table(STAGING, records=records, columns=list(RECORD_FIELDS))
    unknown: list[int] = []
    if not plan.creates:
        unknown = list(
            await session.scalars(
                text(
                    f"SELECT s.row_no FROM {STAGING} s "  # noqa: S608
                    "WHERE NOT EXISTS (SELECT 1 FROM products x "
                    "WHERE x.account_id = :account_id AND x.sku = s.sku AND x.deleted_at IS NULL) "
                    "ORDER BY s.row_no"
                ),
                {"account_id": account_id},
            )
        )
    written = (await session.execute(text(_upsert_sql(plan)), {"account_id": account_id})).scalars()
    created = updated = 0
    for was_created in written:
        if was_created:
            created += 1
        else:
            updated += 1
    unchanged = len(records) - len(unknown) - created - updated
    return UpsertOutcome(created, updated, unchanged, unknown)


async def commit_without_waiting_for_disk(session: AsyncSession) -> None:
    """This transaction's commit returns before its WAL is flushed. For an import job's chunk:
    a crash can lose only the last chunks with the checkpoint that counted them, and the job
    that runs again writes them anew (the upsert is idempotent)."""
    await session.execute(text("SET LOCAL synchronous_commit = off"))


async def refresh_product_statistics(session: AsyncSession) -> None:
    """Fresh planner statistics for `products` after a large import. Autovacuum gets to it
    only later; until then the planner takes the account's new products for a handful, walks
    them all through the account index and compares each by similarity (a typo search over
    100k products went from 50 ms to 900 ms). ANALYZE samples a fixed number of rows."""
    await session.execute(text("ANALYZE products"))


# Import rows --------------------------------------------------------------------------------


async def import_of_account(
    session: AsyncSession, account_id: uuid.UUID, import_id: uuid.UUID
) -> CatalogImport | None:
    return await session.scalar(
        select(CatalogImport).where(
            CatalogImport.account_id == account_id, CatalogImport.id == import_id
        )
    )


async def import_for_job(
    session: AsyncSession, import_id: uuid.UUID, *, for_update: bool = False
) -> CatalogImport | None:
    """By primary key alone: the job holds the id of an import we created."""
    stmt = select(CatalogImport).where(CatalogImport.id == import_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def store_file_piece(
    session: AsyncSession, account_id: uuid.UUID, import_id: uuid.UUID, seq: int, data: bytes
) -> None:
    session.add(CatalogImportFile(import_id=import_id, seq=seq, account_id=account_id, data=data))
    await session.flush()


async def file_pieces(session: AsyncSession, import_id: uuid.UUID) -> AsyncIterator[bytes]:
    """The stored file of an import, piece by piece (by primary key alone: job use)."""
    seqs = list(
        await session.scalars(
            select(CatalogImportFile.seq)
            .where(CatalogImportFile.import_id == import_id)
            .order_by(CatalogImportFile.seq)
        )
    )
    for seq in seqs:
        data = await session.scalar(
            select(CatalogImportFile.data).where(
                CatalogImportFile.import_id == import_id, CatalogImportFile.seq == seq
            )
        )
        if data is not None:
            yield data


async def drop_file(session: AsyncSession, import_id: uuid.UUID) -> None:
    await session.execute(delete(CatalogImportFile).where(CatalogImportFile.import_id == import_id))


async def open_imports_idle_since(
    session: AsyncSession, before: datetime, limit: int
) -> list[uuid.UUID]:
    """Queued or running imports untouched since `before`: their job was lost."""
    return list(
        await session.scalars(
            select(CatalogImport.id)
            .where(
                _OPEN,
                CatalogImport.updated_at < before,
            )
            .order_by(CatalogImport.updated_at)
            .limit(limit)
        )
    )


async def now(session: AsyncSession) -> datetime:
    return (await session.execute(select(func.now()))).scalar_one()
