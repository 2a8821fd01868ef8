"""Import rows as product records, in chunks, each row validated on its own.

`ImportReader` finds the header row, plans the columns, and turns every data row into a record
for the bulk write (a tuple in `RECORD_FIELDS` order) or into row errors. Rows are numbered as
data rows of the file, 1-based, the header not counted. A chunk never holds one sku twice (the
bulk upsert could not apply both), so a repeated sku starts the next chunk and the later row
wins, as it would one row at a time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from uuid_utils import uuid7

from ticaret.catalog.importing import values as v
from ticaret.catalog.importing.columns import (
    FIELDS,
    Column,
    ColumnError,
    ColumnPlan,
    maps_sku,
    plan_columns,
)
from ticaret.catalog.importing.values import CellError, NumberFormat
from ticaret.models import ProductStatus, StockStatus

# The bulk write's columns, in record order (`row_no` first: errors name the file's row).
RECORD_FIELDS = (
    "row_no",
    "id",  # time-ordered like every primary key; used only if the row creates a product
    "sku",
    "name",
    "description",
    "brand",
    "category",
    "price",
    "compare_at_price",
    "currency",
    "stock_quantity",
    "stock_status",
    "status",
    "product_url",
    "tags",
    "attributes",
)
HEADER_SEARCH_ROWS = 20
LIMITS = {"sku": 100, "name": 300, "description": 10_000, "brand": 120, "category": 200}
_WIRE = {field_name: wire for wire, field_name in FIELDS.items()}


@dataclass(frozen=True)
class RowError:
    row: int
    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "code": self.code, "message": self.message}


@dataclass
class Chunk:
    records: list[tuple[Any, ...]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    failed_rows: int = 0
    last_row: int = 0  # the data row this chunk ends on (the resume point once written)
    # A sku of the chunk before is written again: this one must be written after it.
    repeats_previous: bool = False

    @property
    def rows(self) -> int:
        return len(self.records) + self.failed_rows


@dataclass(frozen=True)
class ReadOptions:
    column_mapping: Mapping[str, str | None]
    default_currency: str
    numbers: NumberFormat


class _Blank(Exception):
    """A row with nothing in the columns we read: skipped, not an error."""


SLOT = {name: position for position, name in enumerate(RECORD_FIELDS)}
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


_text_reader = v.text_reader
_IN_STOCK = StockStatus.in_stock.value
_ACTIVE = ProductStatus.active.value
_read_sku = v.text_reader(LIMITS["sku"])
# JSON text of a string (what `_JSON` writes for one, without building a dict first).
_json_string: Callable[[str], str] = json.encoder.encode_basestring


# Fields read without depending on another field, in record order.
_PLAIN_READERS: dict[str, Callable[[Any], Any]] = {
    "name": _text_reader(LIMITS["name"]),
    "description": _text_reader(LIMITS["description"]),
    "brand": _text_reader(LIMITS["brand"]),
    "category": _text_reader(LIMITS["category"]),
    "stock_status": v.stock_status,
    "status": v.product_status,
    "product_url": v.url,
    "tags": v.tags,
}


class RowConverter:
    """One data row -> a record, or the row's errors (all of them, not just the first).

    The reading steps are fixed once per file from its columns, so a row costs only the cells
    the file has; an empty cell costs a comparison.
    """

    def __init__(self, plan: ColumnPlan, options: ReadOptions) -> None:
        self.plan = plan
        self._numbers = options.numbers
        by_field = {c.field: c.index for c in plan.columns if c.field != "attributes"}
        self._sku = by_field["sku"]
        self._steps = [
            (SLOT[name], by_field[name], reader, _WIRE[name])
            for name, reader in _PLAIN_READERS.items()
            if name in by_field
        ]
        self._currency = by_field.get("currency")
        self._amounts = [
            (SLOT[name], by_field[name], _WIRE[name], v.AmountReader(self._numbers, _WIRE[name]))
            for name in ("price", "compare_at_price")
            if name in by_field
        ]
        self._quantity = by_field.get("stock_quantity")
        self._whole_number = v.WholeNumberReader(self._numbers)
        self._needs_name = "name" in by_field
        self._attribute_columns = [c for c in plan.columns if c.field == "attributes"]
        # One column per attribute (no whole-map column): the JSON is written from its parts.
        self._attribute_parts = (
            [(c.index, _json_string(c.attribute or "") + ":", c) for c in self._attribute_columns]
            if all(c.attribute is not None for c in self._attribute_columns)
            else None
        )
        self._indexes = [c.index for c in plan.columns]
        self._template: list[Any] = [None] * len(RECORD_FIELDS)
        self._template[SLOT["currency"]] = options.default_currency
        self._template[SLOT["attributes"]] = "{}"

    def _blank(self, cells: Sequence[Any], width: int) -> bool:
        return all(
            i >= width or cells[i] is None or (type(cells[i]) is str and not cells[i].strip())
            for i in self._indexes
        )

    def convert(self, cells: Sequence[Any], row_no: int) -> tuple[Any, ...] | list[RowError]:
        width = len(cells)
        record = self._template.copy()
        record[0] = row_no
        errors: list[RowError] = []
        try:
            sku = _read_sku(cells[self._sku] if self._sku < width else None)
        except CellError as exc:
            return [RowError(row_no, "sku", exc.code, exc.message)]
        if sku is None:
            if self._blank(cells, width):
                raise _Blank
            errors.append(RowError(row_no, "sku", "required", "sku is required"))
        record[2] = sku
        for slot, index, reader, wire in self._steps:
            if index < width:
                value = cells[index]
                if value is not None and value != "":
                    try:
                        record[slot] = reader(value)
                    except CellError as exc:
                        errors.append(RowError(row_no, wire, exc.code, exc.message))
        if self._currency is not None and self._currency < width:
            try:
                record[SLOT["currency"]] = (
                    v.currency_code(cells[self._currency]) or self._template[SLOT["currency"]]
                )
            except CellError as exc:
                errors.append(RowError(row_no, "currency", exc.code, exc.message))
        currency = record[SLOT["currency"]]
        for slot, index, wire, read_amount in self._amounts:
            if index < width:
                try:
                    record[slot] = read_amount(cells[index], currency)
                except CellError as exc:
                    errors.append(RowError(row_no, wire, exc.code, exc.message))
        quantity = None
        if self._quantity is not None and self._quantity < width:
            try:
                quantity = self._whole_number(cells[self._quantity])
            except CellError as exc:
                errors.append(RowError(row_no, "stockQuantity", exc.code, exc.message))
            record[SLOT["stock_quantity"]] = quantity
        if (
            self._needs_name
            and record[SLOT["name"]] is None
            and not any(e.field == "name" for e in errors)
        ):
            errors.append(RowError(row_no, "name", "required", "name is required"))
        if record[SLOT["stock_status"]] is None:
            record[SLOT["stock_status"]] = (
                v.stock_status_for(quantity) if quantity is not None else _IN_STOCK
            )
        if record[SLOT["status"]] is None:
            record[SLOT["status"]] = _ACTIVE
        if record[SLOT["tags"]] is None:
            record[SLOT["tags"]] = []
        if self._attribute_columns:
            record[SLOT["attributes"]] = self._attributes(cells, width, row_no, errors)
        if errors:
            return errors
        # uuid_utils' UUIDv7 has `.bytes`, which is all the COPY encoder reads.
        record[1] = uuid7()
        return tuple(record)

    def _attributes(
        self, cells: Sequence[Any], width: int, row_no: int, errors: list[RowError]
    ) -> str:
        if self._attribute_parts is not None:
            return self._attribute_json(cells, width, row_no, errors)
        attributes: dict[str, Any] = {}
        for column in self._attribute_columns:
            raw = cells[column.index] if column.index < width else None
            if raw is None or raw == "":
                continue
            try:
                if column.attribute is None:
                    attributes = {**v.attribute_map(raw), **attributes}
                else:
                    value = v.attribute_value(raw)
                    if value is not None and value != "":
                        attributes[column.attribute] = value
            except CellError as exc:
                errors.append(RowError(row_no, _attribute_field(column), exc.code, exc.message))
        return _JSON.encode(attributes)

    def _attribute_json(
        self, cells: Sequence[Any], width: int, row_no: int, errors: list[RowError]
    ) -> str:
        """The JSON object `_attributes` writes, without a dict and an encoder per row."""
        assert self._attribute_parts is not None
        parts: list[str] = []
        for index, key, column in self._attribute_parts:
            raw = cells[index] if index < width else None
            if raw is None or raw == "":
                continue
            try:
                value = v.attribute_value(raw)
            except CellError as exc:
                errors.append(RowError(row_no, _attribute_field(column), exc.code, exc.message))
                continue
            if value is None or value == "":
                continue
            parts.append(key + (_json_string(value) if type(value) is str else _JSON.encode(value)))
        return "{" + ",".join(parts) + "}"


def _attribute_field(column: Column) -> str:
    return "attributes" if column.attribute is None else f"attributes.{column.attribute}"


class ImportReader:
    """Rows of one file as chunks of records. Build it, then call `next_chunk()` until None;
    both may be called from a worker thread (they only compute)."""

    def __init__(
        self,
        rows: Iterator[Sequence[Any]],
        options: ReadOptions,
        *,
        chunk_rows: int,
        resume_after: int = 0,
    ) -> None:
        self._rows = rows
        self._chunk_rows = chunk_rows
        self._resume_after = resume_after
        self.header_row, header = self._find_header(options.column_mapping)
        self.plan = plan_columns(header, options.column_mapping)
        self._converter = RowConverter(self.plan, options)
        self._row_no = 0
        self._carry: tuple[int, Sequence[Any]] | None = None
        self._previous_skus: set[str] = set()
        self.done = False

    def _find_header(self, mapping: Mapping[str, str | None]) -> tuple[int, Sequence[Any]]:
        first: Sequence[Any] | None = None
        for position, cells in enumerate(self._rows, start=1):
            if maps_sku(cells, mapping):
                return position, cells
            if first is None and any(c is not None and str(c).strip() for c in cells):
                first = cells
            if position >= HEADER_SEARCH_ROWS:
                break
        if first is None:
            raise ColumnError("empty_file", "The file is empty.")
        # Let the plan say what is missing about the first row that has anything in it.
        plan_columns(first, mapping)
        raise ColumnError("missing_sku_column", "The file has no header row with a sku column.")

    def count_rows(self, limit: int) -> int:
        """Consumes the reader: its data rows, counting no further than `limit` + 1."""
        self.done = True
        return count_data_rows(self._rows, limit)

    @property
    def rows_read(self) -> int:
        """Data rows read so far (blank ones included): the number of the last one."""
        return self._row_no

    def next_chunk(self) -> Chunk | None:
        if self.done:
            return None
        chunk = Chunk()
        seen: set[str] = set()
        convert = self._converter.convert
        while len(chunk.records) + chunk.failed_rows < self._chunk_rows:
            if self._carry is not None:
                row_no, cells = self._carry
                self._carry = None
            else:
                try:
                    cells = next(self._rows)
                except StopIteration:
                    self.done = True
                    break
                self._row_no += 1
                row_no = self._row_no
                if row_no <= self._resume_after:
                    continue
            try:
                converted = convert(cells, row_no)
            except _Blank:
                chunk.last_row = row_no
                continue
            if isinstance(converted, list):
                chunk.errors.extend(converted)
                chunk.failed_rows += 1
            else:
                sku = converted[2]
                if sku in seen:
                    self._carry = (row_no, cells)
                    break
                seen.add(sku)
                chunk.records.append(converted)
            chunk.last_row = row_no
        if chunk.rows == 0 and chunk.last_row == 0:
            return None
        chunk.repeats_previous = not seen.isdisjoint(self._previous_skus)
        self._previous_skus = seen
        return chunk


def count_data_rows(rows: Iterator[Sequence[Any]], limit: int) -> int:
    """Rows with anything in them, counting no further than `limit` + 1: enough to tell a
    small import (answered at once) from a large one (a job) without reading a big file."""
    count = 0
    for cells in rows:
        if any(c is not None and (type(c) is not str or c.strip()) for c in cells):
            count += 1
            if count > limit:
                break
    return count
