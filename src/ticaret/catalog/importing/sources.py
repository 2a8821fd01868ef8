"""The rows of an import file: what kind of file it is, and its rows one at a time.

Files are read from disk as streams: a CSV through the `csv` module over a text stream in the
detected encoding, an XLSX through openpyxl's read-only (streaming) worksheets. Neither is
ever held whole in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ticaret.models import ImportSource

# Fields longer than csv's default 128 KiB limit are refused by the row's own checks instead.
csv.field_size_limit(16 * 1024 * 1024)

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 64 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls and other compound documents


class SourceError(ValueError):
    """The file cannot be read as an import; `status` is the HTTP status it deserves."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def unsupported(message: str) -> SourceError:
    return SourceError(415, "unsupported_file_type", message)


def file_kind(filename: str | None, content_type: str | None, head: bytes) -> ImportSource:
    """CSV or XLSX, from the name, the declared type and the first bytes; anything else 415."""
    name = (filename or "").lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if head.startswith(_OLE_MAGIC) or extension == "xls":
        raise unsupported("Excel 97-2003 (.xls) files are not supported; save it as .xlsx or .csv.")
    if head.startswith(_ZIP_MAGIC):
        if extension in {"xlsx", "xlsm", ""}:
            return ImportSource.xlsx
        raise unsupported(f"A .{extension} file was expected to be text, but it is an archive.")
    if extension in {"xlsx", "xlsm"}:
        raise unsupported("This .xlsx file is not an Excel workbook.")
    textual = extension in {"csv", "txt", "tsv"} or (content_type or "").split(";")[0].strip() in {
        "text/csv",
        "text/plain",
        "application/csv",
        "text/tab-separated-values",
    }
    if not textual:
        raise unsupported("Send a .csv or .xlsx file.")
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise unsupported("This file is binary, not CSV text.")
    return ImportSource.csv


# CSV ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvFormat:
    encoding: str
    delimiter: str


def _is_utf8(stream: BinaryIO) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while block := stream.read(1024 * 1024):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1254 (Turkish Excel)."""
    with path.open("rb") as stream:
        head = stream.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        stream.seek(0)
        # One pass over the whole file: a file that is UTF-8 for a megabyte and then has a
        # Windows-1254 byte is Windows-1254.
        return "utf-8" if _is_utf8(stream) else "cp1254"


def _sample(path: Path, encoding: str) -> str:
    with path.open("rb") as stream:
        raw = stream.read(_SAMPLE_BYTES)
    text = raw.decode(encoding, errors="replace")
    if len(raw) == _SAMPLE_BYTES and "\n" in text:
        text = text[: text.rfind("\n") + 1]  # whole lines only
    return text.lstrip("\ufeff")


def detect_delimiter(sample: str) -> str:
    """The delimiter that gives the sample's rows one consistent, largest number of fields."""
    best, best_score = ",", (0, 0, 0)
    for delimiter in DELIMITERS:
        counts = [
            len(row)
            for row in itertools.islice(csv.reader(io.StringIO(sample), delimiter=delimiter), 50)
            if any(cell.strip() for cell in row)
        ]
        if not counts:
            continue
        widest = max(set(counts), key=lambda width: (counts.count(width), width))
        score = (int(widest > 1), counts.count(widest), widest)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def inspect_csv(
    path: Path, *, encoding: str | None = None, delimiter: str | None = None
) -> CsvFormat:
    encoding = encoding or detect_encoding(path)
    return CsvFormat(encoding, delimiter or detect_delimiter(_sample(path, encoding)))


def csv_rows(path: Path, fmt: CsvFormat) -> Iterator[list[str]]:
    with path.open(encoding=fmt.encoding, newline="", errors="replace") as stream:
        yield from csv.reader(stream, delimiter=fmt.delimiter)


def count_lines(path: Path) -> int:
    """Lines in the file: the row estimate of a CSV (a quoted newline adds one)."""
    lines = 0
    last = b"\n"
    with path.open("rb") as stream:
        while block := stream.read(1024 * 1024):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (0 if last == b"\n" else 1)


# XLSX ---------------------------------------------------------------------------------------


class Workbook:
    """An XLSX opened for streaming; close it when done (it holds the file open)."""

    def __init__(self, path: Path, sheet: str | None) -> None:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        # A stream, not the path: openpyxl judges a path by its extension, and ours have none.
        self._stream = path.open("rb")
        try:
            # read_only streams the sheet; data_only gives formulas' cached values.
            self._book = load_workbook(self._stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            self._stream.close()
            raise SourceError(
                422, "unreadable_file", f"The workbook could not be opened: {exc}"
            ) from exc
        names = self._book.sheetnames
        if sheet is None:
            if not names:
                self.close()
                raise SourceError(422, "empty_file", "The workbook has no sheets.")
            sheet = names[0]
        elif sheet not in names:
            self.close()
            raise SourceError(
                422,
                "sheet_not_found",
                f"The workbook has no sheet {sheet!r}; its sheets are {', '.join(names)}.",
            )
        self.sheet = sheet
        self._sheet = self._book[sheet]

    def rows(self) -> Iterator[Sequence[Any]]:
        yield from self._sheet.iter_rows(values_only=True)

    def estimated_rows(self) -> int | None:
        """Rows the sheet says it has (its dimension), which writers do not always set."""
        try:
            max_row = self._sheet.max_row
        except (TypeError, ValueError):
            return None
        return max_row if isinstance(max_row, int) else None

    def close(self) -> None:
        self._book.close()
        self._stream.close()
