"""Products over HTTP: their lifecycle, variants and images, money on the wire, filters and
pages, roles, tenancy, entityVersion and soft delete."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from tests.catalog.helpers import create_product, member
from tests.helpers import assert_error, register
from ticaret.core.db import get_sessionmaker
from ticaret.models import Event

FOREIGN = "0190f3a4-0000-7000-8000-000000000000"


async def _event_types() -> list[tuple[str, dict[str, Any]]]:
    async with get_sessionmaker()() as session:
        rows = await session.execute(
            select(Event.type, Event.data).where(Event.type.like("catalog.%")).order_by(Event.seq)
        )
        return [(row[0], row[1]) for row in rows]


async def test_create_read_update_delete_a_product_with_variants_and_images(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    product = await create_product(
        client,
        owner,
        sku="EL-38",
        name="Kırmızı Elbise",
        description="Yazlık, keten.",
        brand="İpekyol",
        category="Elbise",
        attributes={"color": "Kırmızı", "material": "Keten"},
        price="1299.90",
        compareAtPrice="1599.90",
        stockQuantity=4,
        productUrl="https://shop.example.com/p/el-38",
        tags=["yaz", "keten", "yaz"],
        variants=[
            {"sku": "EL-38-S", "attributes": {"size": "S"}, "stockQuantity": 0},
            {"sku": "EL-38-M", "attributes": {"size": "M"}, "price": "1349.90", "stockQuantity": 2},
        ],
    )
    assert product["price"] == "1299.90" and product["compareAtPrice"] == "1599.90"
    assert product["currency"] == "TRY" and product["stockStatus"] == "in_stock"
    assert product["tags"] == ["yaz", "keten"] and product["status"] == "active"
    assert [(v["sku"], v["price"], v["stockStatus"]) for v in product["variants"]] == [
        ("EL-38-S", None, "out_of_stock"),
        ("EL-38-M", "1349.90", "in_stock"),
    ]
    assert product["images"] == [] and product["entityVersion"] == "1"

    base = f"/products/{product['id']}"
    second = await client.post(
        f"{base}/images",
        json={
            "url": "https://cdn.example.com/el-38-b.jpg",
            "position": 2,
            "width": 800,
            "height": 1200,
            "contentType": "image/jpeg",
        },
        headers=owner.headers,
    )
    assert second.status_code == 201, second.text
    first = await client.post(
        f"{base}/images",
        json={"url": "https://cdn.example.com/el-38-a.jpg", "position": 0, "alt": "Ön"},
        headers=owner.headers,
    )
    last = await client.post(
        f"{base}/images", json={"url": "https://cdn.example.com/el-38-c.jpg"}, headers=owner.headers
    )
    assert last.json()["data"]["position"] == 3
    detail = (await client.get(base, headers=owner.headers)).json()["data"]
    assert [i["id"] for i in detail["images"]] == [
        first.json()["data"]["id"],
        second.json()["data"]["id"],
        last.json()["data"]["id"],
    ]
    assert detail["images"][1]["width"] == 800 and detail["images"][0]["alt"] == "Ön"
    assert detail["entityVersion"] != product["entityVersion"]

    updated = await client.patch(
        base,
        json={
            "price": "1199.90",
            "stockQuantity": 0,
            "variants": [{"sku": "EL-38-M", "attributes": {"size": "M"}, "stockQuantity": 5}],
            "entityVersion": detail["entityVersion"],
        },
        headers=owner.headers,
    )
    assert updated.status_code == 200, updated.text
    data = updated.json()["data"]
    assert data["price"] == "1199.90" and data["stockStatus"] == "out_of_stock"
    assert [v["sku"] for v in data["variants"]] == ["EL-38-M"]
    assert data["variants"][0]["id"] == product["variants"][1]["id"]  # the same variant, kept
    stale = await client.patch(
        base, json={"name": "x", "entityVersion": detail["entityVersion"]}, headers=owner.headers
    )
    assert assert_error(stale, 409, "version_conflict")["details"] == {
        "currentEntityVersion": data["entityVersion"]
    }
    stale_header = await client.patch(
        base, json={"name": "x"}, headers={**owner.headers, "If-Match": product["entityVersion"]}
    )
    assert_error(stale_header, 409, "version_conflict")
    unchanged = await client.patch(base, json={"price": "1199.9"}, headers=owner.headers)
    assert unchanged.json()["data"]["entityVersion"] == data["entityVersion"]

    removed = await client.delete(
        f"{base}/images/{second.json()['data']['id']}", headers=owner.headers
    )
    assert removed.status_code == 200
    assert len((await client.get(base, headers=owner.headers)).json()["data"]["images"]) == 2

    deleted = await client.delete(base, headers=owner.headers)
    assert deleted.json()["data"] == {"deleted": True}
    assert_error(await client.get(base, headers=owner.headers), 404, "product_not_found")
    assert_error(await client.delete(base, headers=owner.headers), 404)
    listed = (await client.get("/products", headers=owner.headers)).json()["data"]
    assert listed["rows"] == []
    # A deleted product's skus (its own and its variants') can be used again.
    again = await create_product(
        client, owner, sku="EL-38", name="Yeni", variants=[{"sku": "EL-38-M"}]
    )
    assert again["id"] != product["id"]

    assert [(t, d.get("sku"), d.get("changed")) for t, d in await _event_types()] == [
        ("catalog.product.created", "EL-38", None),
        ("catalog.product.updated", "EL-38", ["images"]),
        ("catalog.product.updated", "EL-38", ["images"]),
        ("catalog.product.updated", "EL-38", ["images"]),
        ("catalog.product.updated", "EL-38", ["price", "stockQuantity", "stockStatus", "variants"]),
        ("catalog.product.updated", "EL-38", ["images"]),
        ("catalog.product.deleted", "EL-38", None),
        ("catalog.product.created", "EL-38", None),
    ]


async def test_money_is_exact_strings_and_bad_amounts_are_refused(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    yen = await create_product(client, owner, sku="JP-1", price=1500, currency="jpy")
    assert (yen["price"], yen["currency"]) == ("1500", "JPY")
    number = await create_product(client, owner, sku="N-1", price=0.1)
    assert number["price"] == "0.10"
    for body, path in (
        ({"price": "10.005"}, "price"),
        ({"price": "12.5", "currency": "JPY"}, "price"),
        ({"price": "-1"}, "price"),
        ({"price": "abc"}, "price"),
        ({"currency": "XXY"}, "currency"),
        ({"productUrl": "ftp://x"}, "productUrl"),
        ({"variants": [{"sku": "V"}, {"sku": "V"}]}, "variants.1.sku"),
        ({"variants": [{"sku": "V", "price": "1.001"}]}, "variants.0.price"),
    ):
        response = await client.post(
            "/products", json={"sku": "BAD", "name": "Bad", **body}, headers=owner.headers
        )
        error = assert_error(response, 422)
        assert path in [f["path"] for f in error["details"]["fields"]], (body, error)
    patch = await client.patch(
        f"/products/{yen['id']}", json={"price": "1500.5"}, headers=owner.headers
    )
    assert_error(patch, 422, "validation_error")
    to_euro = await client.patch(
        f"/products/{yen['id']}", json={"currency": "EUR", "price": "9.99"}, headers=owner.headers
    )
    assert to_euro.json()["data"]["price"] == "9.99"


async def test_skus_are_unique_among_live_products_and_variants(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    first = await create_product(client, owner, sku="U-1", variants=[{"sku": "U-1-V"}])
    duplicate = await client.post(
        "/products", json={"sku": "U-1", "name": "Again"}, headers=owner.headers
    )
    assert_error(duplicate, 409, "sku_taken")
    variant = await client.post(
        "/products",
        json={"sku": "U-2", "name": "Two", "variants": [{"sku": "U-1-V"}]},
        headers=owner.headers,
    )
    assert_error(variant, 409, "variant_sku_taken")
    second = await create_product(client, owner, sku="U-2")
    rename = await client.patch(
        f"/products/{second['id']}", json={"sku": "U-1"}, headers=owner.headers
    )
    assert_error(rename, 409, "sku_taken")
    # Another account may use the same skus.
    other = await register(client)
    assert (await create_product(client, other, sku="U-1"))["id"] != first["id"]


async def test_filters_and_pages(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    specs = [
        ("F-1", "Elbise", "İpekyol", "100.00", "active", 5, ["yaz"], "TRY"),
        ("F-2", "Elbise", "Koton", "250.00", "active", 0, ["kış"], "TRY"),
        ("F-3", "Gömlek", "ipekyol", "300.00", "draft", 3, ["yaz", "ofis"], "TRY"),
        ("F-4", "Çanta", "Derimod", "80.00", "archived", 1, [], "EUR"),
        ("F-5", "elbise", "KOTON", "500.00", "active", 2, ["yaz"], "TRY"),
    ]
    for sku, category, brand, price, status, stock, tags, currency in specs:
        await create_product(
            client,
            owner,
            sku=sku,
            name=f"Ürün {sku}",
            category=category,
            brand=brand,
            price=price,
            status=status,
            stockQuantity=stock,
            tags=tags,
            currency=currency,
        )

    async def skus(**params: str) -> list[str]:
        response = await client.get("/products", params=params, headers=owner.headers)
        assert response.status_code == 200, response.text
        return [row["sku"] for row in response.json()["data"]["rows"]]

    assert await skus() == ["F-5", "F-4", "F-3", "F-2", "F-1"]
    assert await skus(status="active") == ["F-5", "F-2", "F-1"]
    assert await skus(stockStatus="out_of_stock") == ["F-2"]
    assert await skus(category="ELBİSE") == ["F-5", "F-2", "F-1"]
    assert await skus(brand="Ipekyol") == ["F-3", "F-1"]
    assert await skus(tag="yaz") == ["F-5", "F-3", "F-1"]
    assert await skus(minPrice="100", maxPrice="300", currency="TRY") == ["F-3", "F-2", "F-1"]
    assert await skus(minPrice="250.00", category="elbise", status="active") == ["F-5", "F-2"]
    assert_error(
        await client.get("/products", params={"minPrice": "abc"}, headers=owner.headers), 422
    )
    assert_error(
        await client.get("/products", params={"stockStatus": "many"}, headers=owner.headers), 422
    )

    pages: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/products", params=params, headers=owner.headers)).json()["data"]
        pages.extend(row["sku"] for row in page["rows"])
        cursor = page["nextCursor"]
        assert page["hasMore"] is (cursor is not None)
        if not cursor:
            break
    assert pages == ["F-5", "F-4", "F-3", "F-2", "F-1"]
    assert_error(
        await client.get("/products", params={"cursor": "garbage"}, headers=owner.headers),
        400,
        "invalid_cursor",
    )


async def test_viewers_read_agents_cannot_edit_only_admins_do(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    admin = await member(client, owner, "admin")
    agent = await member(client, owner, "agent")
    viewer = await member(client, owner, "viewer")
    product = await create_product(client, admin, sku="R-1")
    base = f"/products/{product['id']}"
    for reader in (viewer, agent):
        assert (await client.get(base, headers=reader.headers)).status_code == 200
        assert (await client.get("/products", headers=reader.headers)).status_code == 200
    for lower in (viewer, agent):
        for response in (
            await client.post("/products", json={"sku": "R-2", "name": "x"}, headers=lower.headers),
            await client.patch(base, json={"name": "x"}, headers=lower.headers),
            await client.delete(base, headers=lower.headers),
            await client.post(
                f"{base}/images", json={"url": "https://x.example/a.png"}, headers=lower.headers
            ),
        ):
            assert_error(response, 403, "insufficient_role")
    assert (
        await client.patch(base, json={"name": "Admin edit"}, headers=admin.headers)
    ).status_code == 200


async def test_another_accounts_products_are_not_found(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    stranger = await register(client)
    product = await create_product(client, owner)
    base = f"/products/{product['id']}"
    image = (
        await client.post(
            f"{base}/images", json={"url": "https://x.example/a.png"}, headers=owner.headers
        )
    ).json()["data"]
    for response in (
        await client.get(base, headers=stranger.headers),
        await client.patch(base, json={"name": "x"}, headers=stranger.headers),
        await client.delete(base, headers=stranger.headers),
        await client.post(
            f"{base}/images", json={"url": "https://x.example/b.png"}, headers=stranger.headers
        ),
        await client.delete(f"{base}/images/{image['id']}", headers=stranger.headers),
        await client.get(f"/products/{FOREIGN}", headers=owner.headers),
    ):
        assert_error(response, 404)
    assert (await client.get("/products", headers=stranger.headers)).json()["data"]["rows"] == []
    listed = await client.get("/products", params={"q": "elbise"}, headers=stranger.headers)
    assert listed.json()["data"]["rows"] == []
    assert_error(await client.get("/products/not-a-uuid", headers=owner.headers), 422)
