"""Product imports over HTTP: CSV and XLSX as shops export them, JSON rows, row errors, re-imports,
the job path for large files, and the refusals (415, 422, 413)."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.catalog.helpers import (
    create_product,
    csv_bytes,
    import_file,
    member,
    products_by_sku,
    raw_xlsx_bytes,
    xlsx_bytes,
)
from tests.helpers import assert_error, register
from ticaret.core.db import get_sessionmaker
from ticaret.models import CatalogImportFile, Event
from ticaret.settings import get_settings

TURKISH_HEADER = ["Stok Kodu", "Ürün Adı", "Marka", "Kategori", "Fiyat", "Stok", "Renk", "Beden"]


async def _events(event_type: str) -> list[dict[str, Any]]:
    async with get_sessionmaker()() as session:
        rows = await session.scalars(select(Event.data).where(Event.type == event_type))
        return list(rows)


async def test_turkish_excel_csv_with_bom_semicolons_decimal_commas_and_quoted_newlines(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    content = csv_bytes(
        [
            TURKISH_HEADER,
            ["EL-001", "Kırmızı Elbise", "İpekyol", "Elbise", "1.299,90", "12", "Kırmızı", "38"],
            ["GM-002", "Şık Gömlek; pamuklu", "Koton", "Gömlek", "349,5", "0", "Beyaz", "M"],
            ["CN-003", "Deri Çanta\nel yapımı", "Derimod", "Çanta", "12.500,00", "3", "", ""],
            ["AY-004", "Spor Ayakkabı", "", "Ayakkabı", "1.299", "7", "Siyah", "42"],
        ],
        delimiter=";",
        bom=True,
    )
    response = await import_file(client, owner, content, "ürünler.csv")
    assert response.status_code == 200, response.text
    result = response.json()["data"]
    assert result["status"] == "completed"
    assert (result["created"], result["updated"], result["unchanged"], result["failed"]) == (
        4,
        0,
        0,
        0,
    )
    assert result["detected"] == {
        "encoding": "utf-8-sig",
        "delimiter": ";",
        "decimalSeparator": "auto",
        "headerRow": 1,
    }
    assert result["columns"]["sku"] == "Stok Kodu" and result["columns"]["price"] == "Fiyat"
    assert result["columns"]["attributes.color"] == "Renk"
    products = await products_by_sku(client, owner)
    dress = products["EL-001"]
    assert dress["price"] == "1299.90" and dress["currency"] == "TRY"
    assert dress["brand"] == "İpekyol" and dress["stockQuantity"] == 12
    assert dress["stockStatus"] == "in_stock"
    assert dress["attributes"] == {"color": "Kırmızı", "size": "38"}
    assert products["GM-002"]["name"] == "Şık Gömlek; pamuklu"
    assert products["GM-002"]["price"] == "349.50"
    assert products["GM-002"]["stockStatus"] == "out_of_stock"
    assert products["CN-003"]["name"] == "Deri Çanta\nel yapımı"
    assert products["CN-003"]["price"] == "12500.00" and products["CN-003"]["attributes"] == {}
    # In a `;` file (a Turkish spreadsheet) a lone dot groups thousands: 1.299 is 1299 TL.
    assert products["AY-004"]["price"] == "1299.00" and products["AY-004"]["brand"] is None


async def test_windows_1254_csv_is_read_when_the_bytes_are_not_utf8(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    content = csv_bytes(
        [["stok kodu", "ürün adı", "fiyat"], ["TR-1", "Işıklı Şömine Çağ", "99,90"]],
        delimiter=";",
        encoding="cp1254",
    )
    assert b"\xfd" in content  # ı as Windows-1254 writes it: not UTF-8
    response = await import_file(client, owner, content)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["detected"]["encoding"] == "cp1254"
    products = await products_by_sku(client, owner)
    assert products["TR-1"]["name"] == "Işıklı Şömine Çağ"
    assert products["TR-1"]["price"] == "99.90"


async def test_english_comma_csv_with_thousands_tags_status_and_a_column_mapping(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    content = csv_bytes(
        [
            ["Code X", "Title", "Price", "Currency", "Tags", "Status", "Supplier", "Fabric"],
            [
                "US-1",
                "Linen shirt",
                "1,299.90",
                "usd",
                "summer, linen|new",
                "draft",
                "ACME",
                "linen",
            ],
            ["US-2", "Wool coat", "250", "EUR", "", "Pasif", "ACME", "wool"],
        ]
    )
    response = await import_file(
        client,
        owner,
        content,
        "export.csv",
        columnMapping='{"Code X": "sku", "Supplier": null, "Fabric": "attributes.material"}',
    )
    assert response.status_code == 200, response.text
    result = response.json()["data"]
    assert result["detected"]["delimiter"] == ","
    assert result["ignoredColumns"] == ["Supplier"]
    assert result["columns"]["sku"] == "Code X"
    products = await products_by_sku(client, owner)
    shirt = products["US-1"]
    assert (shirt["price"], shirt["currency"], shirt["status"]) == ("1299.90", "USD", "draft")
    assert shirt["tags"] == ["summer", "linen", "new"]
    assert shirt["attributes"] == {"material": "linen"}
    assert (products["US-2"]["status"], products["US-2"]["currency"]) == ("archived", "EUR")


async def test_xlsx_with_title_rows_a_named_sheet_and_typed_cells(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    content = xlsx_bytes(
        [
            ["SKU", "Product name", "Price", "Stock", "Barcode", "Launch"],
            ["X-1", "Çelik Termos", 1299.9, 15, 8690000000012, dt.datetime(2026, 3, 1)],
            ["X-2", "Cam Şişe", 45, 0, None, None],
            [1001, "Numeric sku", Decimal("10.5"), 2.0, None, None],
        ],
        sheet="Stok 2026",
        before=2,
    )
    response = await import_file(
        client,
        owner,
        content,
        "katalog.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        sheet="Stok 2026",
        columnMapping='{"Launch": "attributes.launch"}',
    )
    assert response.status_code == 200, response.text
    result = response.json()["data"]
    assert result["source"] == "xlsx" and result["created"] == 3, result
    assert result["detected"]["sheet"] == "Stok 2026" and result["detected"]["headerRow"] == 3
    products = await products_by_sku(client, owner)
    # A float cell of 1299.9 is the price the shop typed, not 1299.900000000000091...
    assert products["X-1"]["price"] == "1299.90"
    assert products["X-1"]["attributes"] == {"barcode": 8690000000012, "launch": "2026-03-01"}
    assert products["X-2"]["price"] == "45.00" and products["X-2"]["stockStatus"] == "out_of_stock"
    assert products["1001"]["price"] == "10.50" and products["1001"]["stockQuantity"] == 2

    missing_sheet = await import_file(
        client,
        owner,
        content,
        "katalog.xlsx",
        content_type="application/octet-stream",
        sheet="Yok",
    )
    error = assert_error(missing_sheet, 422, "sheet_not_found")
    assert "Stok 2026" in error["message"]


async def test_xlsx_cells_as_other_programs_write_them(client: httpx.AsyncClient) -> None:
    """Inline strings, rich text split in runs (a phonetic hint left out), booleans, a
    formula's text and a row the sheet leaves out: the rows keep their numbers."""
    owner = await register(client)
    sheet = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="inlineStr"><is><t>Fiyat</t></is></c><c r="D1" t="s"><v>2</v></c>'
        '<c r="E1" t="s"><v>3</v></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>IN-1</t></is></c>'
        '<c r="B2" t="s"><v>4</v></c><c r="C2"><v>1299.9</v></c>'
        '<c r="D2" t="str"><f>CONCAT("Mav","i")</f><v>Mavi</v></c><c r="E2" t="b"><v>1</v></c>'
        "</row>"
        # Row 3 is left out of the file: an empty row, skipped.
        '<row r="4"><c r="A4" t="inlineStr"><is><r><t>IN-</t></r><r><t>2</t></r></is></c>'
        '<c r="B4" t="inlineStr"><is><t>Yün Atkı</t></is></c><c r="C4" t="e"><v>#N/A</v></c>'
        "</row>"
        '<row r="5"><c r="A5" t="inlineStr"><is><t>IN-3</t></is></c>'
        '<c r="B5" t="inlineStr"><is><t>Deri Eldiven</t></is></c><c r="C5"><v>45</v></c></row>'
    )
    strings = [
        "<t>Stok Kodu</t>",
        "<t>Ürün Adı</t>",
        "<t>Renk</t>",
        "<t>attr:hediye</t>",
        "<r><t>Kırmızı </t></r><r><rPr><b/></rPr><t>Elbise</t></r><rPh><t>x</t></rPh>",
    ]
    response = await import_file(client, owner, raw_xlsx_bytes(sheet, strings), "liste.xlsx")
    assert response.status_code == 200, response.text
    result = response.json()["data"]
    assert (result["created"], result["failed"]) == (2, 1), result
    # Data rows are counted from the header: the sheet's row 4 is data row 3.
    assert [(e["row"], e["field"], e["code"]) for e in result["errors"]] == [
        (3, "price", "invalid_number")
    ]
    products = await products_by_sku(client, owner)
    assert products["IN-1"]["name"] == "Kırmızı Elbise"
    assert products["IN-1"]["price"] == "1299.90"
    assert products["IN-1"]["attributes"] == {"color": "Mavi", "hediye": True}
    assert products["IN-3"]["price"] == "45.00" and "IN-2" not in products


async def test_five_bad_rows_among_a_thousand_are_reported_exactly_and_the_rest_written(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    rows = [["sku", "name", "price", "stock", "currency"]]
    bad = {
        17: ("price", "abc"),
        250: ("stock", "-3"),
        251: ("name", ""),
        600: ("price", "1,2,3"),
        999: ("currency", "XXY"),
    }
    for number in range(1, 1001):
        row = {
            "sku": f"P-{number:04d}",
            "name": f"Ürün {number}",
            "price": f"{number},50",
            "stock": str(number % 7),
            "currency": "TRY",
        }
        if number in bad:
            column, value = bad[number]
            row[column] = value
        rows.append([row["sku"], row["name"], row["price"], row["stock"], row["currency"]])
    content = csv_bytes(rows, delimiter=";")
    response = await import_file(client, owner, content)
    assert response.status_code == 200, response.text
    result = response.json()["data"]
    assert (result["created"], result["failed"], result["processedRows"]) == (995, 5, 1000)
    assert [(e["row"], e["field"], e["code"]) for e in result["errors"]] == [
        (17, "price", "invalid_number"),
        (250, "stockQuantity", "negative"),
        (251, "name", "required"),
        (600, "price", "invalid_number"),
        (999, "currency", "unknown_currency"),
    ]
    assert result["errorTotal"] == 5 and result["errorsTruncated"] is False
    assert all(e["message"] for e in result["errors"])
    products = await products_by_sku(client, owner)
    assert len(products) == 995 and "P-0017" not in products
    assert products["P-0016"]["price"] == "16.50"

    # The same file again: nothing to write, and the same rows refused.
    again = (await import_file(client, owner, content)).json()["data"]
    assert (again["created"], again["updated"], again["unchanged"], again["failed"]) == (
        0,
        0,
        995,
        5,
    )
    assert (await products_by_sku(client, owner))["P-0016"]["entityVersion"] == products["P-0016"][
        "entityVersion"
    ]


async def test_reimport_changes_only_what_changed_and_keeps_attributes_it_does_not_name(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    await create_product(
        client, owner, sku="K-1", name="Kazak", attributes={"color": "Mavi", "fit": "Slim"}
    )
    content = csv_bytes(
        [
            ["sku", "name", "price", "renk"],
            ["K-1", "Kazak", "1299.90", "Lacivert"],
            ["K-2", "Atkı", "99", ""],
        ]
    )
    first = (await import_file(client, owner, content)).json()["data"]
    assert (first["created"], first["updated"], first["unchanged"]) == (1, 1, 0)
    products = await products_by_sku(client, owner)
    # Attribute columns add to the stored attributes; an empty cell leaves one alone.
    assert products["K-1"]["attributes"] == {"color": "Lacivert", "fit": "Slim"}
    assert products["K-2"]["attributes"] == {}
    second = (await import_file(client, owner, content)).json()["data"]
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 2)

    # A stock file (no name column) only updates the products it names.
    stock = csv_bytes(
        [["Stok Kodu", "Stok"], ["K-1", "0"], ["NOPE", "5"], ["K-2", "8"]], delimiter=";"
    )
    result = (await import_file(client, owner, stock)).json()["data"]
    assert (result["created"], result["updated"], result["failed"]) == (0, 2, 1)
    assert [(e["row"], e["field"], e["code"]) for e in result["errors"]] == [
        (2, "sku", "unknown_sku")
    ]
    products = await products_by_sku(client, owner)
    assert set(products) == {"K-1", "K-2"}
    assert (products["K-1"]["stockQuantity"], products["K-1"]["stockStatus"]) == (0, "out_of_stock")
    assert products["K-1"]["name"] == "Kazak" and products["K-1"]["price"] == "1299.90"
    assert products["K-2"]["stockStatus"] == "in_stock"


async def test_a_sku_twice_in_one_file_ends_with_the_later_row(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    content = csv_bytes(
        [
            ["sku", "name", "price"],
            ["D-1", "First", "10"],
            ["D-2", "Other", "5"],
            ["D-1", "Second", "12"],
        ]
    )
    result = (await import_file(client, owner, content)).json()["data"]
    assert (result["created"], result["updated"], result["failed"]) == (2, 1, 0)
    assert (await products_by_sku(client, owner))["D-1"]["name"] == "Second"


async def test_json_rows_import_with_attributes_and_tags(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    response = await client.post(
        "/products/import",
        json={
            "rows": [
                {
                    "sku": "J-1",
                    "name": "Yün Bere",
                    "price": "149.90",
                    "stockQuantity": 4,
                    "attributes": {"color": "Gri"},
                    "tags": ["kış", "aksesuar"],
                },
                {"sku": "J-2", "name": "Eldiven", "price": 89.5, "currency": "EUR"},
                {"sku": "J-3", "name": "Bad", "price": "12.345"},
            ]
        },
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    result = response.json()["data"]
    assert (result["source"], result["created"], result["failed"]) == ("json", 2, 1)
    assert result["errors"][0]["row"] == 3 and result["errors"][0]["field"] == "price"
    assert result["errors"][0]["code"] == "invalid_amount"
    products = await products_by_sku(client, owner)
    assert products["J-1"]["attributes"] == {"color": "Gri"}
    assert products["J-1"]["tags"] == ["kış", "aksesuar"]
    assert (products["J-2"]["price"], products["J-2"]["currency"]) == ("89.50", "EUR")


async def test_refusals_unsupported_empty_header_only_and_too_large(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await register(client)
    pdf = await import_file(
        client, owner, b"%PDF-1.7 ...", "katalog.pdf", content_type="application/pdf"
    )
    assert_error(pdf, 415, "unsupported_file_type")
    xls = await import_file(
        client,
        owner,
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64,
        "eski.xls",
        content_type="application/vnd.ms-excel",
    )
    assert ".xlsx" in assert_error(xls, 415, "unsupported_file_type")["message"]
    text_body = await client.post(
        "/products/import",
        content=b"sku,name",
        headers={**owner.headers, "Content-Type": "text/csv"},
    )
    assert_error(text_body, 415, "unsupported_file_type")
    broken = await import_file(client, owner, b"PK\x03\x04 not really a zip", "a.xlsx")
    assert_error(broken, 422, "unreadable_file")

    empty = await import_file(client, owner, b"")
    assert_error(empty, 422, "empty_import")
    header_only = await import_file(client, owner, csv_bytes([["sku", "name", "price"]]))
    assert "no data rows" in assert_error(header_only, 422, "empty_import")["message"]
    no_sku = await import_file(client, owner, csv_bytes([["name", "price"], ["a", "1"]]))
    assert_error(no_sku, 422, "missing_sku_column")
    bad_mapping = await import_file(
        client, owner, csv_bytes([["sku", "x"], ["a", "1"]]), columnMapping='{"x": "colour"}'
    )
    assert_error(bad_mapping, 422, "invalid_column_mapping")
    no_rows = await client.post("/products/import", json={"rows": []}, headers=owner.headers)
    assert_error(no_rows, 422, "validation_error")

    monkeypatch.setattr(get_settings().catalog, "max_import_bytes", 2048)
    big = csv_bytes([["sku", "name"], *[[f"S{i}", "x" * 40] for i in range(200)]])
    assert_error(await import_file(client, owner, big), 413)
    assert (await products_by_sku(client, owner)) == {}


async def test_roles_tenancy_and_idempotency_of_imports(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    agent = await member(client, owner, "agent")
    viewer = await member(client, owner, "viewer")
    content = csv_bytes([["sku", "name", "price"], ["R-1", "Raf", "10"]])
    assert_error(await import_file(client, agent, content), 403, "insufficient_role")

    key = {"Idempotency-Key": "import-1"}
    first = await import_file(client, owner, content, headers=key)
    replay = await import_file(client, owner, content, headers=key)
    assert replay.status_code == 200 and replay.json() == first.json()
    other = await import_file(client, owner, content + b"R-2,Raf 2,11\r\n", headers=key)
    assert_error(other, 409, "idempotency_key_reused")
    assert len(await products_by_sku(client, owner)) == 1

    import_id = first.json()["data"]["importId"]
    seen = await client.get(f"/products/imports/{import_id}", headers=viewer.headers)
    assert seen.status_code == 200 and seen.json()["data"]["created"] == 1
    stranger = await register(client)
    assert_error(
        await client.get(f"/products/imports/{import_id}", headers=stranger.headers),
        404,
        "import_not_found",
    )
    completed = await _events("catalog.import.completed")
    assert [(e["importId"], e["created"], e["status"]) for e in completed] == [
        (import_id, 1, "completed")
    ]


async def test_a_50000_row_csv_runs_as_a_job_whose_progress_moves(
    client: httpx.AsyncClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings().catalog, "import_chunk_rows", 2500)
    owner = await register(client)
    rows = [["sku", "name", "price", "stock", "renk"]]
    rows += [
        [
            f"B-{n:06d}",
            f"Ürün {n}",
            f"{n % 5000}.{n % 100:02d}",
            str(n % 40),
            ("Kırmızı", "Mavi")[n % 2],
        ]
        for n in range(50_000)
    ]
    rows[1234][2] = "pahalı"  # data row 1234: one bad price
    response = await import_file(client, owner, csv_bytes(rows))
    assert response.status_code == 202, response.text
    accepted = response.json()["data"]
    assert accepted["status"] == "queued" and accepted["processedRows"] == 0
    assert accepted["totalRows"] == 50_000
    import_id = accepted["importId"]

    seen: list[int] = []

    async def watch() -> None:
        while True:
            progress = (
                await client.get(f"/products/imports/{import_id}", headers=owner.headers)
            ).json()["data"]
            seen.append(progress["processedRows"])
            if progress["status"] in ("completed", "failed"):
                return
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    await run_jobs()
    await asyncio.wait_for(watcher, 30)
    assert any(0 < processed < 50_000 for processed in seen), seen
    assert seen == sorted(seen)
    done = (await client.get(f"/products/imports/{import_id}", headers=owner.headers)).json()[
        "data"
    ]
    assert done["status"] == "completed", done
    assert (done["created"], done["failed"], done["processedRows"], done["totalRows"]) == (
        49_999,
        1,
        50_000,
        50_000,
    )
    assert [(e["row"], e["field"]) for e in done["errors"]] == [(1234, "price")]
    assert done["startedAt"] and done["finishedAt"]
    # The stored upload is gone once the job has read it.
    async with get_sessionmaker()() as session:
        assert list(await session.scalars(select(CatalogImportFile.seq))) == []
    listed = await client.get("/products", params={"q": "ürün 49999"}, headers=owner.headers)
    assert listed.json()["data"]["rows"][0]["sku"] == "B-049999"
    events = await _events("catalog.import.completed")
    assert events[-1]["processedRows"] == 50_000 and events[-1]["created"] == 49_999


async def test_a_job_whose_chunks_repeat_skus_ends_with_each_skus_last_row(
    client: httpx.AsyncClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks are written two at a time; a chunk that repeats a sku of the one before waits
    for it, so the file's later row wins as it would one row at a time."""
    monkeypatch.setattr(get_settings().catalog, "import_chunk_rows", 100)
    owner = await register(client)
    # The first half's chunks share no sku with the chunk before (written side by side), the
    # second half's all do (one after the other).
    skus = [f"D-{n % 250 if n < 750 else n % 150:03d}" for n in range(1500)]
    rows = [["sku", "name", "price", "stock"]]
    rows += [[sku, f"Defter {n}", f"{n}.50", str(n % 7)] for n, sku in enumerate(skus)]
    response = await import_file(client, owner, csv_bytes(rows))
    assert response.status_code == 202, response.text
    import_id = response.json()["data"]["importId"]
    await run_jobs()
    done = (await client.get(f"/products/imports/{import_id}", headers=owner.headers)).json()[
        "data"
    ]
    assert done["status"] == "completed", done
    assert (done["processedRows"], done["created"], done["failed"]) == (1500, 250, 0), done
    assert done["created"] + done["updated"] + done["unchanged"] == 1500
    products = await products_by_sku(client, owner)
    last = {sku: n for n, sku in enumerate(skus)}
    assert {sku: (p["name"], p["price"]) for sku, p in products.items()} == {
        sku: (f"Defter {n}", f"{n}.50") for sku, n in last.items()
    }


async def test_an_xlsx_over_the_limit_runs_as_a_job_and_a_bad_header_is_refused_at_once(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    rows: list[list[Any]] = [["Ürün Kodu", "Ürün Adı", "Fiyat", "Stok"]]
    rows += [[f"XL-{n:05d}", f"Çorap {n}", 49.9 + n, n % 3] for n in range(1500)]
    content = xlsx_bytes(rows, before=1)
    response = await import_file(client, owner, content, "stok.xlsx")
    assert response.status_code == 202, response.text
    accepted = response.json()["data"]
    assert accepted["detected"]["headerRow"] == 2 and accepted["detected"]["sheet"] == "Ürünler"
    await run_jobs()
    done = (
        await client.get(f"/products/imports/{accepted['importId']}", headers=owner.headers)
    ).json()["data"]
    assert (done["status"], done["created"], done["totalRows"]) == ("completed", 1500, 1500)
    products = await products_by_sku(client, owner)
    assert products["XL-00010"]["price"] == "59.90" and products["XL-00010"]["stockQuantity"] == 1

    bad = xlsx_bytes([["Ürün Adı", "Fiyat"], *[[f"x{n}", 1] for n in range(1500)]])
    assert_error(await import_file(client, owner, bad, "stok.xlsx"), 422, "missing_sku_column")


async def test_json_rows_over_the_limit_run_as_a_job_that_a_sweep_requeues_when_lost(
    client: httpx.AsyncClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticaret.catalog import tasks
    from ticaret.core.queue import get_redis

    owner = await register(client)
    rows = [{"sku": f"JS-{n:04d}", "name": f"Ürün {n}", "price": f"{n}.50"} for n in range(1200)]
    response = await client.post("/products/import", json={"rows": rows}, headers=owner.headers)
    assert response.status_code == 202, response.text
    import_id = response.json()["data"]["importId"]
    # Redis loses the queued job (a restart without persistence).
    await get_redis().flushdb()
    await run_jobs()
    waiting = (await client.get(f"/products/imports/{import_id}", headers=owner.headers)).json()
    assert waiting["data"]["status"] == "queued"
    monkeypatch.setattr(tasks, "IDLE_BEFORE_REQUEUE", dt.timedelta(0))
    assert await tasks.sweep_product_imports({}) == 1
    await run_jobs()
    done = (await client.get(f"/products/imports/{import_id}", headers=owner.headers)).json()
    assert (done["data"]["status"], done["data"]["created"]) == ("completed", 1200)
    # A finished import is left alone by the next sweep and by a job that runs again.
    assert await tasks.sweep_product_imports({}) == 0
    assert await tasks.run_product_import({}, import_id) == "nothing to do"
    assert (await products_by_sku(client, owner))["JS-0007"]["price"] == "7.50"
