"""Customer and contact search: case, accents and Turkish letters ignored, phones in any
format, ranked by similarity; the filters combine with it and with each other."""

from __future__ import annotations

import httpx

from tests.crm.helpers import Api, team


async def _titles(api: Api, url: str, **params: object) -> list[str]:
    rows = await api.all_rows(url, **params)
    return [row["displayName"] if "displayName" in row else row["title"] for row in rows]


async def test_turkish_letters_and_case_do_not_matter(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    for title in ("Şahin Tekstil", "SAHİN GIDA", "şahinler İnşaat", "Yılmaz Ticaret"):
        await shop.agent.customer(title)
    for query in ("şahin", "sahin", "ŞAHİN", "SAHIN", "Şahİn"):
        found = await _titles(shop.viewer, "/crm/customers", q=query)
        assert sorted(found) == ["SAHİN GIDA", "Şahin Tekstil", "şahinler İnşaat"], query
    assert await _titles(shop.viewer, "/crm/customers", q="yilmaz") == ["Yılmaz Ticaret"]
    assert await _titles(shop.viewer, "/crm/customers", q="YILMAZ tıcaret") == ["Yılmaz Ticaret"]
    assert await _titles(shop.viewer, "/crm/customers", q="insaat") == ["şahinler İnşaat"]
    assert await _titles(shop.viewer, "/crm/customers", q="kaplan") == []


async def test_the_closest_match_comes_first(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    for title in ("Şahin", "Şahinbey Kuyumculuk ve Mücevherat", "Büyük Şahin Otomotiv"):
        await shop.agent.customer(title)
    found = await _titles(shop.viewer, "/crm/customers", q="sahin", limit=1)
    assert found[0] == "Şahin"
    assert len(found) == 3


async def test_phone_email_and_tax_number_find_a_customer(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    await shop.agent.customer(
        "Ayşe Kaya", phones=["0555 111 22 33"], emails=["ayse@kaya.example"], taxNumber="9876543210"
    )
    await shop.agent.customer("Başka", phones=["+90 532 000 11 22"])
    for query in (
        "555 11",
        "0555 111 22 33",
        "+90 555 111 22 33",
        "5551112233",
        "905551112233@s.whatsapp.net",
        "(555) 111-22",
        "ayse@kaya",
        "KAYA.EXAMPLE",
        "98765",
    ):
        assert await _titles(shop.viewer, "/crm/customers", q=query) == ["Ayşe Kaya"], query


async def test_filters_combine_with_search(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    await shop.agent.customer("Şahin İzmir", city="İzmir", tags=["vip"], status="lead")
    await shop.agent.customer("Şahin Ankara", city="Ankara", tags=["vip", "toptan"])
    await shop.agent.customer("Demir İzmir", city="izmir", tags=["toptan"])
    url = "/crm/customers"
    assert sorted(await _titles(shop.viewer, url, city="IZMIR")) == ["Demir İzmir", "Şahin İzmir"]
    assert await _titles(shop.viewer, url, q="şahin", city="izmir") == ["Şahin İzmir"]
    assert sorted(await _titles(shop.viewer, url, tag="vip")) == ["Şahin Ankara", "Şahin İzmir"]
    assert await _titles(shop.viewer, url, tag=["vip", "toptan"]) == ["Şahin Ankara"]
    assert await _titles(shop.viewer, url, status="lead") == ["Şahin İzmir"]
    assert await _titles(shop.viewer, url, q="sahin", status="active") == ["Şahin Ankara"]
    assert await _titles(shop.viewer, url, type="person") == []
    await shop.viewer.error("GET", url, 422, "validation_error", params={"status": "nope"})


async def test_search_pages_keep_their_order(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    for i in range(7):
        await shop.agent.customer(f"Çelik {'Yapı ' * i}Sanayi")
    one_page = await shop.viewer.get("/crm/customers", params={"q": "celik", "limit": 100})
    paged = await shop.viewer.all_rows("/crm/customers", q="celik", limit=2)
    assert [c["id"] for c in paged] == [c["id"] for c in one_page["rows"]]
    assert len(paged) == 7


async def test_contacts_search_by_name_phone_and_email(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer("Şahin Tekstil")
    await shop.agent.contact(
        customer["id"], "Gülşen Öztürk", phone="0532 444 55 66", email="gulsen@sahin.example"
    )
    await shop.agent.contact(customer["id"], "Mehmet Çınar", title="Satın alma")
    for query in ("GULSEN", "öztürk", "532 444", "gulsen@"):
        assert await _titles(shop.viewer, "/crm/contacts", q=query) == ["Gülşen Öztürk"], query
    assert await _titles(shop.viewer, "/crm/contacts", q="satin alma") == ["Mehmet Çınar"]
    assert sorted(await _titles(shop.viewer, f"/crm/customers/{customer['id']}/contacts")) == [
        "Gülşen Öztürk",
        "Mehmet Çınar",
    ]
