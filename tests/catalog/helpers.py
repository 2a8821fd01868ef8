"""Helpers of the catalog tests: products over the API, and import files built like the ones
shops export (CSV from Excel in Turkish or English, XLSX with typed cells)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import httpx
from openpyxl import Workbook

from tests.helpers import Caller, add_member


@dataclass
class Member(Caller):
    """A member of someone else's account (they have their own too): calls name the account."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "x-account-id": self.account_id}


async def member(client: httpx.AsyncClient, owner: Caller, role: str) -> Member:
    added = await add_member(client, owner, role)
    return Member(added.email, added.password, added.token, added.user_id, added.account_id)


async def create_product(
    client: httpx.AsyncClient, caller: Caller, **fields: Any
) -> dict[str, Any]:
    body = {"sku": "SKU-1", "name": "Kırmızı Elbise", "price": "1299.90", **fields}
    response = await client.post("/products", json=body, headers=caller.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def csv_bytes(
    rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8", bom: bool = False
) -> bytes:
    def field(value: str) -> str:
        if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    text = "\r\n".join(delimiter.join(field(v) for v in row) for row in rows) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[list[Any]], *, sheet: str = "Ürünler", before: int = 0) -> bytes:
    """A workbook whose `sheet` holds `rows` after `before` title rows (a second sheet too)."""
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = sheet
    for index in range(before):
        first.append([f"Ürün listesi {index + 1}"] if index == 0 else [])
    for row in rows:
        first.append(row)
    other = book.create_sheet("Notlar")
    other.append(["not", "bu sayfa ürün değil"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def import_file(
    client: httpx.AsyncClient,
    caller: Caller,
    content: bytes,
    filename: str = "urunler.csv",
    *,
    content_type: str = "text/csv",
    headers: dict[str, str] | None = None,
    **options: str,
) -> httpx.Response:
    return await client.post(
        "/products/import",
        files={"file": (filename, content, content_type)},
        data=options,
        headers={**caller.headers, **(headers or {})},
    )


async def products_by_sku(client: httpx.AsyncClient, caller: Caller) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/products", params=params, headers=caller.headers)).json()
        for row in page["data"]["rows"]:
            found[row["sku"]] = row
        cursor = page["data"]["nextCursor"]
        if not cursor:
            return found


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def raw_xlsx_bytes(sheet_data: str, shared_strings: list[str]) -> bytes:
    """A workbook whose one sheet is `sheet_data` (the XML inside <sheetData>) and whose shared
    strings table holds `shared_strings` (each the XML inside one <si>): cells as programs
    other than Excel write them (inline strings, rich text, booleans, formulas' text)."""
    import zipfile

    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">'
        f"<sheetData>{sheet_data}</sheetData></worksheet>"
    )
    strings = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}">'
        + "".join(f"<si>{item}</si>" for item in shared_strings)
        + "</sst>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
            'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override '
            'PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
        book.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}"><Relationship '
            f'Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        book.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<sheets><sheet name="Sayfa1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}"><Relationship '
            f'Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship '
            f'Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )
        book.writestr("xl/worksheets/sheet1.xml", sheet)
        book.writestr("xl/sharedStrings.xml", strings)
    return buffer.getvalue()
