"""Catalog search: over HTTP (`GET /products?q=`) and as the service function the AI analysis
calls to match what a customer asks for."""

from __future__ import annotations

import uuid

import httpx

from tests.catalog.helpers import create_product
from tests.helpers import Caller, register
from ticaret.catalog.repository.products import ProductFilters
from ticaret.catalog.service.search import search_products, search_words
from ticaret.core.db import unit_of_work
from ticaret.models import ProductStatus


async def _shop(client: httpx.AsyncClient) -> Caller:
    owner = await register(client)
    for fields in (
        {"sku": "CN-1", "name": "Kırmızı Deri Çanta", "brand": "Derimod", "category": "Çanta"},
        {
            "sku": "EL-1",
            "name": "Kırmızı Elbise",
            "category": "Elbise",
            "attributes": {"material": "Keten"},
            "variants": [{"sku": "EL-1-38", "attributes": {"size": "38"}}],
        },
        {
            "sku": "EL-2",
            "name": "Uzun Kadife Elbise Askısı, kırmızı kadife kaplı",
            "category": "Aksesuar",
        },
        {"sku": "LM-1", "name": "Işıklı Masa Lambası", "brand": "İKEA", "category": "Aydınlatma"},
        {
            "sku": "GM-1",
            "name": "Mavi Gömlek",
            "category": "Gömlek",
            "attributes": {"color": "Lacivert"},
            "status": "archived",
        },
    ):
        await create_product(client, owner, **fields)
    return owner


async def _search(client: httpx.AsyncClient, owner: Caller, q: str, **params: str) -> list[str]:
    response = await client.get("/products", params={"q": q, **params}, headers=owner.headers)
    assert response.status_code == 200, response.text
    rows = response.json()["data"]["rows"]
    scores = [row["score"] for row in rows]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    return [row["sku"] for row in rows]


async def test_search_ignores_case_accents_and_turkish_letters(client: httpx.AsyncClient) -> None:
    owner = await _shop(client)
    assert await _search(client, owner, "KIRMIZI ÇANTA") == ["CN-1"]
    assert await _search(client, owner, "kirmizi canta") == ["CN-1"]
    assert await _search(client, owner, "ışıklı") == ["LM-1"]
    assert await _search(client, owner, "ISIKLI LAMBA") == ["LM-1"]
    assert await _search(client, owner, "ikea") == ["LM-1"]  # brand İKEA
    assert await _search(client, owner, "derimod") == ["CN-1"]  # brand
    assert await _search(client, owner, "aydinlatma") == ["LM-1"]  # category
    assert await _search(client, owner, "keten") == ["EL-1"]  # attribute value
    assert await _search(client, owner, "lacivert") == ["GM-1"]
    assert await _search(client, owner, "lacivert", status="active") == []
    assert await _search(client, owner, "nothing-like-it") == []


async def test_search_ranks_the_closest_name_first_and_an_exact_sku_at_one(
    client: httpx.AsyncClient,
) -> None:
    owner = await _shop(client)
    assert await _search(client, owner, "kırmızı elbise") == ["EL-1", "EL-2"]
    exact = (await client.get("/products", params={"q": "el-1"}, headers=owner.headers)).json()[
        "data"
    ]["rows"]
    assert exact[0]["sku"] == "EL-1" and exact[0]["score"] == 1.0
    # A variant's sku or attribute finds its product.
    assert await _search(client, owner, "EL-1-38") == ["EL-1"]
    # A letter typed wrong still finds it.
    assert await _search(client, owner, "elbse kirmzi") == ["EL-1", "EL-2"]


async def test_search_pages_by_score(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    for number in range(7):
        await create_product(
            client, owner, sku=f"KZ-{number}", name="Yün Kazak " + "örgü " * number
        )
    # As typed, and with a word typed wrong (the pages continue by similarity).
    for query in ("yün kazak", "YUN KAZK"):
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = {"q": query, "limit": "3", **({"cursor": cursor} if cursor else {})}
            response = await client.get("/products", params=params, headers=owner.headers)
            page = response.json()["data"]
            seen.extend(row["sku"] for row in page["rows"])
            cursor = page["nextCursor"]
            if not cursor:
                break
        assert sorted(seen) == [f"KZ-{n}" for n in range(7)] and len(seen) == 7, query
        assert seen[0] == "KZ-0"  # the name closest to the query


async def test_the_search_function_matches_a_customers_sentence(client: httpx.AsyncClient) -> None:
    owner = await _shop(client)
    account_id = uuid.UUID(owner.account_id)
    async with unit_of_work() as session:
        matches = await search_products(
            session,
            account_id,
            "Merhaba, kırmızı elbisenin 38 bedeni var mı?",
            filters=ProductFilters(status=ProductStatus.active),
            limit=3,
        )
        nothing = await search_products(session, account_id, "?? !")
        other = await search_products(session, uuid.uuid4(), "kırmızı elbise")
    assert matches[0].product.sku == "EL-1"
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    assert "GM-1" not in [m.product.sku for m in matches]
    assert nothing == [] and other == []
    assert search_words("Merhaba, 38 beden a?") == ["Merhaba", "38", "beden"]
