"""Product imports end to end (API + job) beside the parsers alone, and catalog search latency.

Starts embedded PostgreSQL and Redis, one `ticaret serve` and one `ticaret worker` process, then:

1. writes a CSV and an XLSX of N product rows (Turkish headers, `;` and decimal commas in the
   CSV, typed cells in the XLSX) and times `csv.reader` alone and openpyxl read-only iteration
   alone over them: the baselines;
2. posts each file to `POST /products/import` (multipart) and polls
   `GET /products/imports/{id}` until the job has completed: rows per second from the upload's
   first byte to the import's completion, as a ratio of the baseline; the CSV once into an empty
   catalog (every row created) and once more (every row unchanged);
3. samples the worker's resident memory while each import runs, for a small and a large file
   of each kind: flat means the large file's peak is about the small one's;
4. `GET /products?q=` latency (p50 / p99) over a catalog of `--catalog` products, with a mix
   of one- to three-word queries (Turkish letters, capitals, a typo).

    PYTHONPATH=src python -m bench.catalog_bench [--rows 200000] [--small 20000]
        [--catalog 100000] [--queries 300]
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx

from bench.stack import Stack, rss_mib

COLORS = ["Kırmızı", "Mavi", "Siyah", "Beyaz", "Yeşil", "Lacivert", "Gri", "Bordo"]
KINDS = ["Elbise", "Gömlek", "Pantolon", "Ayakkabı", "Çanta", "Kazak", "Ceket", "Şapka"]
BRANDS = ["İpekyol", "Koton", "Derimod", "Mavi", "LC Waikiki", "Defacto", "Network", "Vakko"]
SIZES = ["XS", "S", "M", "L", "XL", "36", "38", "40", "42"]
HEADER = ["Stok Kodu", "Ürün Adı", "Marka", "Kategori", "Fiyat", "Stok", "Renk", "Beden"]


def product_row(n: int, prefix: str) -> list[Any]:
    kind = KINDS[n % len(KINDS)]
    color = COLORS[(n // 8) % len(COLORS)]
    return [
        f"{prefix}-{n:07d}",
        f"{color} {kind} Model {n}",
        BRANDS[(n // 64) % len(BRANDS)],
        kind,
        round((n % 5000) + (n % 100) / 100 + 9, 2),
        n % 50,
        color,
        SIZES[n % len(SIZES)],
    ]


def write_csv(path: Path, rows: int, prefix: str) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(HEADER)
        for n in range(rows):
            row = product_row(n, prefix)
            price = f"{row[4]:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
            writer.writerow([*row[:4], price, row[5], row[6], row[7]])


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def write_xlsx(path: Path, rows: int, prefix: str) -> None:
    """An XLSX as Excel writes one: a shared strings table, a sheet dimension, numbers typed.

    Written directly (openpyxl's write-only mode uses inline strings and no dimension, which
    readers handle differently from what shops send)."""
    from xml.sax.saxutils import escape

    strings: dict[str, int] = {}

    def shared(value: str) -> int:
        return strings.setdefault(value, len(strings))

    width = len(HEADER)
    sheet = io.StringIO()
    sheet.write(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="'
        f'{_MAIN}"><dimension ref="A1:{_column(width - 1)}{rows + 1}"/><sheetData>'
    )
    for number, values in enumerate([HEADER, *(product_row(n, prefix) for n in range(rows))], 1):
        sheet.write(f'<row r="{number}">')
        for column, value in enumerate(values):
            ref = f"{_column(column)}{number}"
            if isinstance(value, str):
                sheet.write(f'<c r="{ref}" t="s"><v>{shared(value)}</v></c>')
            else:
                sheet.write(f'<c r="{ref}"><v>{value!r}</v></c>')
        sheet.write("</row>")
    sheet.write("</sheetData></worksheet>")
    shared_xml = io.StringIO()
    shared_xml.write(
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{_MAIN}" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">'
    )
    for value in strings:
        shared_xml.write(f"<si><t>{escape(value)}</t></si>")
    shared_xml.write("</sst>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/worksheets/sheet1.xml", sheet.getvalue())
        book.writestr("xl/sharedStrings.xml", shared_xml.getvalue())


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_CONTENT_TYPES = (
    f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC}/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" '
    f'xmlns:r="{_DOC}/relationships"><sheets><sheet name="Ürünler" sheetId="1" '
    'r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC}/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
    f'Type="{_DOC}/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)


def csv_reader_rate(path: Path) -> float:
    started = time.perf_counter()
    with path.open(encoding="utf-8-sig", newline="") as stream:
        count = sum(1 for _ in csv.reader(stream, delimiter=";")) - 1
    return count / (time.perf_counter() - started)


def openpyxl_rate(path: Path) -> float:
    from openpyxl import load_workbook

    started = time.perf_counter()
    book = load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True)) - 1
    book.close()
    return count / (time.perf_counter() - started)


class MemoryWatch:
    """The peak resident memory of a process while a block runs (sampled every 20 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> MemoryWatch:
        self.baseline = rss_mib(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def register(base_url: str) -> dict[str, str]:
    email = f"bench-{time.time_ns()}@example.com"
    response = httpx.post(
        f"{base_url}/auth/register",
        json={"email": email, "password": "bench password 1", "name": "Bench", "accountName": "B"},
        timeout=30,
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['data']['accessToken']}"}


def run_import(
    base_url: str, headers: dict[str, str], path: Path, content_type: str
) -> tuple[float, dict[str, Any]]:
    """Seconds from the upload's start to the import's completion, and the final import."""
    started = time.perf_counter()
    with path.open("rb") as stream, httpx.Client(base_url=base_url, timeout=600) as http:
        response = http.post(
            "/products/import", files={"file": (path.name, stream, content_type)}, headers=headers
        )
        if response.status_code not in (200, 202):
            raise SystemExit(f"import refused: {response.status_code} {response.text[:500]}")
        data = response.json()["data"]
        while data["status"] in ("queued", "running"):
            time.sleep(0.05)
            data = http.get(f"/products/imports/{data['importId']}", headers=headers).json()["data"]
    elapsed = time.perf_counter() - started
    if data["status"] != "completed":
        raise SystemExit(f"import {data['status']}: {data.get('failureReason')}")
    return elapsed, data


QUERIES = [
    "elbise",
    "kirmizi elbise",
    "KIRMIZI ELBİSE",
    "mavi gömlek",
    "lacivert kazak xl",
    "ipekyol",
    "deri canta",
    "siyah ayakkabi 42",
    "bordo ceket model 1234",
    "yesil sapka",
    "pantolon",
    "gri kazk",  # a typo
    "SKU-0012345",
    "vakko gömlek beyaz",
]


def search_latency(
    base_url: str, headers: dict[str, str], requests: int
) -> tuple[float, float, dict[str, float]]:
    """p50 and p99 over every request, and each query's median."""
    timings: list[float] = []
    per_query: dict[str, list[float]] = {query: [] for query in QUERIES}
    with httpx.Client(base_url=base_url, timeout=60, headers=headers) as http:
        for query in QUERIES:  # warm up plans and caches once
            http.get("/products", params={"q": query, "limit": "20"}).raise_for_status()
        for index in range(requests):
            query = QUERIES[index % len(QUERIES)]
            started = time.perf_counter()
            response = http.get("/products", params={"q": query, "limit": "20"})
            elapsed = (time.perf_counter() - started) * 1000
            timings.append(elapsed)
            per_query[query].append(elapsed)
            response.raise_for_status()
    timings.sort()
    medians = {query: statistics.median(values) for query, values in per_query.items()}
    return (
        statistics.median(timings),
        timings[min(len(timings) - 1, int(len(timings) * 0.99))],
        medians,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--catalog", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--parts", default="imports,search", help="imports, search or both")
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    work = Path(tempfile.mkdtemp(prefix="ticaret-catalog-bench-"))
    files = {
        ("csv", "large"): work / "large.csv",
        ("csv", "small"): work / "small.csv",
        ("xlsx", "large"): work / "large.xlsx",
        ("xlsx", "small"): work / "small.xlsx",
    }
    if "imports" in parts:
        print(f"writing files of {args.rows:,} and {args.small:,} rows ...", flush=True)
        write_csv(files["csv", "large"], args.rows, "SKU")
        write_csv(files["csv", "small"], args.small, "SML")
        write_xlsx(files["xlsx", "large"], args.rows, "XLS")
        write_xlsx(files["xlsx", "small"], args.small, "XSM")
        csv_mib = files["csv", "large"].stat().st_size / 2**20
        xlsx_mib = files["xlsx", "large"].stat().st_size / 2**20
        print(f"CSV {csv_mib:.1f} MiB, XLSX {xlsx_mib:.1f} MiB", flush=True)

    types = {"csv": "text/csv", "xlsx": "application/vnd.ms-excel.sheet"}
    with Stack(with_worker=True) as stack:
        worker_pid = stack._processes[1].pid
        results: dict[str, Any] = {}
        for kind in ("csv", "xlsx") if "imports" in parts else ():
            for size in ("small", "large"):
                headers = register(stack.base_url)
                # The baseline right before, so both see the same machine load.
                baseline = (csv_reader_rate if kind == "csv" else openpyxl_rate)(files[kind, size])
                with MemoryWatch(worker_pid) as memory:
                    elapsed, done = run_import(
                        stack.base_url, headers, files[kind, size], types[kind]
                    )
                rows = done["processedRows"]
                results[kind, size] = (rows / elapsed, baseline, memory.peak, done)
                label = f"{kind.upper()} {rows:>9,} rows (all created)"
                print(
                    f"{label:<34} {rows / elapsed:>9,.0f} rows/s   "
                    f"{'csv.reader' if kind == 'csv' else 'openpyxl'} alone {baseline:>9,.0f} "
                    f"rows/s   ratio {rows / elapsed / baseline:5.2f}   "
                    f"worker RSS peak {memory.peak:6.0f} MiB (before {memory.baseline:.0f})",
                    flush=True,
                )
                if kind == "csv" and size == "large":
                    baseline = csv_reader_rate(files[kind, size])
                    with MemoryWatch(worker_pid) as memory:
                        elapsed, done = run_import(
                            stack.base_url, headers, files[kind, size], types[kind]
                        )
                    assert done["unchanged"] == rows, done
                    print(
                        f"{'CSV again (all unchanged)':<34} {rows / elapsed:>9,.0f} rows/s   "
                        f"csv.reader alone {baseline:>9,.0f} rows/s   ratio "
                        f"{rows / elapsed / baseline:5.2f}   worker RSS peak {memory.peak:6.0f} MiB",
                        flush=True,
                    )

        if "search" not in parts:
            return 0
        headers = register(stack.base_url)
        catalog = work / "catalog.csv"
        write_csv(catalog, args.catalog, "SKU")
        elapsed, _ = run_import(stack.base_url, headers, catalog, "text/csv")
        p50, p99, medians = search_latency(stack.base_url, headers, args.queries)
        print(
            f"GET /products?q= over {args.catalog:,} products"
            f"{' (and others in other accounts)' if 'imports' in parts else ''}: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({args.queries} requests, one at a "
            f"time, {len(QUERIES)} queries)",
            flush=True,
        )
        for query, median in medians.items():
            print(f"    {query!r:<28} median {median:7.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
