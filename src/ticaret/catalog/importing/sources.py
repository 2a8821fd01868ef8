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
import re
import zipfile
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree import ElementTree as SafeTree

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

# _XML_SAFETY: uploaded workbooks are untrusted XML. The standard library's parser is safe for
# them here: it never fetches external entities or DTDs, and expat (2.4.1 and later, which
# Python bundles) refuses entity expansion attacks (billion laughs, quadratic blowup). openpyxl
# parses the same way. defusedxml would add nothing but a pure-Python parser, twice as slow.
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


class _SharedStrings:
    """A workbook's shared strings, parsed only as far as the cells read so far need."""

    def __init__(self, book: zipfile.ZipFile) -> None:
        self._strings: list[str] = []
        self._events: Iterator[tuple[str, Any]] | None = None
        if "xl/sharedStrings.xml" in book.namelist():
            self._stream = book.open("xl/sharedStrings.xml")
            self._events = SafeTree.iterparse(  # noqa: S314 (see _XML_SAFETY)
                self._stream, events=("end",)
            )

    def __getitem__(self, index: int) -> str:
        while index >= len(self._strings) and self._events is not None:
            for _, element in self._events:
                if element.tag == f"{_MAIN}si":
                    self._strings.append("".join(t.text or "" for t in element.iter(f"{_MAIN}t")))
                    element.clear()
                    break
            else:
                self._events = None
        return self._strings[index] if index < len(self._strings) else ""


def _sheet_path(book: zipfile.ZipFile, sheet: str | None) -> tuple[str, str]:
    workbook = SafeTree.fromstring(  # noqa: S314 (see _XML_SAFETY)
        book.read("xl/workbook.xml")
    )
    sheets = [
        (element.get("name", ""), element.get(f"{_REL}id", ""))
        for element in workbook.iter(f"{_MAIN}sheet")
    ]
    if not sheets:
        raise SourceError(422, "empty_file", "The workbook has no sheets.")
    if sheet is None:
        name, rel_id = sheets[0]
    else:
        found = [entry for entry in sheets if entry[0] == sheet]
        if not found:
            names = ", ".join(entry[0] for entry in sheets)
            raise SourceError(
                422,
                "sheet_not_found",
                f"The workbook has no sheet {sheet!r}; its sheets are {names}.",
            )
        name, rel_id = found[0]
    rels = SafeTree.fromstring(  # noqa: S314 (see _XML_SAFETY)
        book.read("xl/_rels/workbook.xml.rels")
    )
    for rel in rels.iter(f"{_PKG_REL}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return name, target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise SourceError(422, "unreadable_file", "The workbook names a sheet it does not contain.")


def peek_xlsx(
    path: Path, sheet: str | None
) -> tuple[str, Generator[list[Any], None, None], int | None]:
    """The sheet's name, its rows (cell text and numbers; missing rows as empty ones) and the
    row count its dimension states, read straight from the XML: a look at the first rows of a
    large workbook without loading its whole shared strings table (openpyxl loads all of it
    before the first row). Strings and numbers only: enough to find the header and count rows.
    """
    try:
        book = zipfile.ZipFile(path)
        name, sheet_path = _sheet_path(book, sheet)
        stream = book.open(sheet_path)
    except SourceError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, SafeTree.ParseError) as exc:
        raise SourceError(
            422, "unreadable_file", f"The workbook could not be opened: {exc}"
        ) from exc
    strings = _SharedStrings(book)
    events = SafeTree.iterparse(  # noqa: S314 (see _XML_SAFETY)
        stream, events=("start", "end")
    )
    estimated: int | None = None
    for event, element in events:
        if event == "start" and element.tag == f"{_MAIN}dimension":
            match = _CELL_REF.search(element.get("ref", "").split(":")[-1])
            estimated = int(match.group(2)) if match else None
        if event == "start" and element.tag == f"{_MAIN}sheetData":
            break

    def rows() -> Generator[list[Any], None, None]:
        position = 0
        try:
            for event, element in events:
                if event != "end" or element.tag != f"{_MAIN}row":
                    continue
                number = int(element.get("r") or position + 1)
                while position + 1 < number:
                    position += 1
                    yield []
                position = number
                cells: list[Any] = []
                for cell in element.iter(f"{_MAIN}c"):
                    match = _CELL_REF.match(cell.get("r", ""))
                    column = _column_index(match.group(1)) if match else len(cells)
                    cells.extend([None] * (column - len(cells)))
                    kind = cell.get("t")
                    value = cell.findtext(f"{_MAIN}v")
                    if kind == "s" and value is not None:
                        cells.append(strings[int(value)])
                    elif kind == "inlineStr":
                        cells.append("".join(t.text or "" for t in cell.iter(f"{_MAIN}t")))
                    else:
                        cells.append(value)
                element.clear()
                yield cells
        except (SafeTree.ParseError, ValueError, zipfile.BadZipFile) as exc:
            raise SourceError(
                422, "unreadable_file", f"The sheet could not be read: {exc}"
            ) from exc
        finally:
            stream.close()
            book.close()

    return name, rows(), estimated


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

    def close(self) -> None:
        self._book.close()
        self._stream.close()
