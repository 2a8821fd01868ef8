"""The rows of an import file: what kind of file it is, and its rows one at a time.

Files are read from disk as streams: a CSV through the `csv` module over a text stream in the
detected encoding, an XLSX sheet through expat callbacks (its shared strings spilled to a
temporary file). Neither is ever held whole in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import tempfile
import zipfile
from array import array
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree import ElementTree as SafeTree
from xml.parsers import expat

from openpyxl.utils.datetime import from_excel, from_ISO8601

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
    large workbook without reading its whole shared strings table (`Workbook` reads all of it
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


class _StringTable:
    """A workbook's shared strings, on disk: the text in a temporary file, only each string's
    offset (8 bytes) in memory. A sheet's cells name them by index in any order, so all must
    be at hand; held as Python strings, a 200,000-row catalog's names and skus alone took
    70 MiB. Strings read recently are kept (colours, brands and categories repeat)."""

    _CACHE = 20_000

    def __init__(self, book: zipfile.ZipFile) -> None:
        self._file = tempfile.TemporaryFile(prefix="ticaret-strings-")  # noqa: SIM115
        self._offsets = array("q", [0])
        self._cache: dict[int, str] = {}
        if "xl/sharedStrings.xml" not in book.namelist():
            return
        out = io.BufferedWriter(io.FileIO(os.dup(self._file.fileno()), "wb"), 1024 * 1024)
        offsets = self._offsets
        text: list[str] = []
        reading = False  # inside a <t> of the string (not of its phonetic hint)
        phonetic = False

        def start(name: str, attributes: dict[str, str]) -> None:
            nonlocal reading, phonetic
            if name == _T_NAME:
                reading = not phonetic
            elif name == _RPH_NAME:
                phonetic = True

        def characters(data: str) -> None:
            if reading:
                text.append(data)

        def end(name: str) -> None:
            nonlocal reading, phonetic
            if name == _T_NAME:
                reading = False
            elif name == _SI_NAME:
                # Plain text, or the text of its rich-text runs; phonetic hints left out.
                out.write("".join(text).encode("utf-8", "surrogatepass"))
                offsets.append(out.tell())
                text.clear()
            elif name == _RPH_NAME:
                phonetic = False

        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        with book.open("xl/sharedStrings.xml") as stream, out:
            while True:
                block = stream.read(_BLOCK)
                parser.Parse(block, not block)
                if not block:
                    break

    def __getitem__(self, index: int) -> str:
        text = self._cache.get(index)
        if text is not None:
            return text
        if not 0 <= index < len(self._offsets) - 1:
            raise SourceError(
                422, "unreadable_file", f"A cell names shared string {index}, which is missing."
            )
        start = self._offsets[index]
        data = os.pread(self._file.fileno(), self._offsets[index + 1] - start, start)
        text = data.decode("utf-8", "surrogatepass")
        if len(self._cache) >= self._CACHE:
            self._cache.clear()
        self._cache[index] = text
        return text

    def close(self) -> None:
        self._file.close()


_SI = f"{_MAIN}si"
_T = f"{_MAIN}t"
_RUN = f"{_MAIN}r"
_ROW = f"{_MAIN}row"
_CELL = f"{_MAIN}c"
_VALUE = f"{_MAIN}v"
_INLINE = f"{_MAIN}is"
_SHEET_DATA = f"{_MAIN}sheetData"
_DIGITS = "0123456789"


def _number(text: str) -> int | float:
    """A number cell as openpyxl reads it: a float when written with a point or exponent."""
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


_BLOCK = 256 * 1024
_NS = _MAIN[1:]  # names as expat reports them with namespace_separator="}"


class _SheetParser:
    """The rows of a sheet's XML as lists of cell values, from expat's callbacks: a handful
    of Python calls per cell, where building and walking an element tree cost four times as
    many. After each `parser.Parse(block)`, `rows` holds the rows that block completed, as
    (row number or None, cells)."""

    def __init__(
        self,
        strings: _StringTable,
        dates: frozenset[int],
        durations: frozenset[int],
        epoch: Any,
    ) -> None:
        self.rows: list[tuple[int | None, list[Any]]] = []
        self._strings = strings
        self._dates = dates
        self._durations = durations
        self._epoch = epoch
        self._columns: dict[str, int] = {}
        self._cells: list[Any] = []
        self._row: int | None = None
        self._kind = "n"
        self._style: str | None = None
        self._text: list[str] | None = None  # the characters of a <v> or inline <t> being read
        self._value: str | None = None
        self._inline: list[str] | None = None  # an inline string's text runs
        self._phonetic = False
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters
        self.parser = parser

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        if name == _C_NAME:
            ref = attributes.get("r")
            if ref:
                letters = ref.rstrip(_DIGITS)
                column = self._columns.get(letters)
                if column is None:
                    column = self._columns[letters] = _column_index(letters)
                cells = self._cells
                if column > len(cells):
                    cells.extend([None] * (column - len(cells)))
                elif column < len(cells):
                    del cells[column:]
            self._kind = attributes.get("t", "n")
            self._style = attributes.get("s")
            self._value = None
        elif name == _V_NAME:
            self._text = []
        elif name == _ROW_NAME:
            number = attributes.get("r")
            self._row = int(number) if number else None
            self._cells = []
        elif name == _T_NAME:
            if self._inline is not None and not self._phonetic:
                self._text = []
        elif name == _IS_NAME:
            self._inline = []
        elif name == _RPH_NAME:
            self._phonetic = True

    def _characters(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def _end(self, name: str) -> None:
        if name == _V_NAME:
            self._value = "".join(self._text or ()) or None
            self._text = None
        elif name == _C_NAME:
            self._cells.append(self._cell())
            self._inline = None
        elif name == _ROW_NAME:
            self.rows.append((self._row, self._cells))
        elif name == _T_NAME:
            if self._text is not None and self._inline is not None:
                self._inline.extend(self._text)
            self._text = None
        elif name == _RPH_NAME:
            self._phonetic = False

    def _cell(self) -> Any:
        """The cell just read, as openpyxl's read-only values_only rows give it."""
        kind, text = self._kind, self._value
        if kind == "inlineStr":
            return "".join(self._inline) if self._inline is not None else None
        if text is None:
            return None
        if kind == "n":
            value: Any = _number(text)
            style = self._style
            if style and int(style) in self._dates:
                try:
                    value = from_excel(value, self._epoch, timedelta=int(style) in self._durations)
                except (OverflowError, ValueError):
                    value = "#VALUE!"
            return value
        if kind == "s":
            return self._strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)
        return text  # "str" (a formula's text), "e" (an error such as #N/A)


_C_NAME = f"{_NS}c"
_V_NAME = f"{_NS}v"
_T_NAME = f"{_NS}t"
_ROW_NAME = f"{_NS}row"
_IS_NAME = f"{_NS}is"
_RPH_NAME = f"{_NS}rPh"
_SI_NAME = f"{_NS}si"


class Workbook:
    """One sheet of an XLSX, streamed row by row; close it when done (it holds the file).

    Cells come as openpyxl's read-only `values_only` rows give them (numbers as int or float,
    dates by their cell style as datetimes, booleans, formulas' cached values, text), read
    straight from the sheet's XML with the standard library's C parser: openpyxl's own cell
    handling took twice the time of the XML parse and kept the shared strings in memory.
    """

    def __init__(self, path: Path, sheet: str | None) -> None:
        try:
            self._book = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise SourceError(
                422, "unreadable_file", f"The workbook could not be opened: {exc}"
            ) from exc
        try:
            self.sheet, self._sheet_path = _sheet_path(self._book, sheet)
            self._dates, self._durations = _date_styles(self._book)
            self._epoch = _epoch(self._book)
            self._strings = _StringTable(self._book)
        except SourceError:
            self._book.close()
            raise
        except (
            zipfile.BadZipFile,
            KeyError,
            OSError,
            ValueError,
            SafeTree.ParseError,
            expat.ExpatError,
        ) as exc:
            self._book.close()
            raise SourceError(
                422, "unreadable_file", f"The workbook could not be opened: {exc}"
            ) from exc

    def rows(self) -> Iterator[Sequence[Any]]:
        try:
            yield from self._rows()
        except SourceError:
            raise
        except (
            expat.ExpatError,
            SafeTree.ParseError,
            ValueError,
            KeyError,
            OSError,
            zipfile.BadZipFile,
        ) as exc:
            raise SourceError(
                422, "unreadable_file", f"The sheet could not be read: {exc}"
            ) from exc

    def _rows(self) -> Iterator[list[Any]]:
        sheet = _SheetParser(self._strings, self._dates, self._durations, self._epoch)
        position = 0
        with self._book.open(self._sheet_path) as stream:
            while True:
                block = stream.read(_BLOCK)
                sheet.parser.Parse(block, not block)
                for number, cells in sheet.rows:
                    row_number = number or position + 1
                    while position + 1 < row_number:  # rows the sheet leaves out are empty
                        position += 1
                        yield []
                    position = row_number
                    yield cells
                sheet.rows.clear()
                if not block:
                    return

    def close(self) -> None:
        self._strings.close()
        self._book.close()


def _date_styles(book: zipfile.ZipFile) -> tuple[frozenset[int], frozenset[int]]:
    """The cell styles whose number format shows a date (and of those, a duration)."""
    if "xl/styles.xml" not in book.namelist():
        return frozenset(), frozenset()
    from openpyxl.styles.stylesheet import Stylesheet

    styles = Stylesheet.from_tree(
        SafeTree.fromstring(book.read("xl/styles.xml"))  # noqa: S314 (see _XML_SAFETY)
    )
    return frozenset(styles.date_formats), frozenset(styles.timedelta_formats)


def _epoch(book: zipfile.ZipFile) -> Any:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

    workbook = SafeTree.fromstring(book.read("xl/workbook.xml"))  # noqa: S314 (see _XML_SAFETY)
    properties = workbook.find(f"{_MAIN}workbookPr")
    flag = properties.get("date1904", "") if properties is not None else ""
    return CALENDAR_MAC_1904 if flag.lower() in ("1", "true") else CALENDAR_WINDOWS_1900
