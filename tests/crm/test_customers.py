"""Customers over HTTP: create, read, change, soft-delete; roles, tenancy, versions, bad bodies."""

from __future__ import annotations

import uuid

import httpx

from tests.crm.helpers import Api, events, register, team


async def test_an_agent_creates_a_customer_with_phones_in_any_format(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    created = await shop.agent.customer(
        "Şahin Tekstil A.Ş.",
        shortName="Şahin",
        type="company",
        sector="Tekstil",
        city="İstanbul",
        taxOffice="Kadıköy",
        taxNumber="1234567890",
        phones=["+90 555 111 22 33", "0555 111 22 33", "5551112233", "905551112233@s.whatsapp.net"],
        emails=["Info@Sahin.example"],
        tags=["vip", "toptan", "vip"],
        customFields={"erpCode": "C-001"},
    )
    assert created["phones"] == ["+905551112233"]
    assert created["emails"] == ["info@sahin.example"]
    assert created["tags"] == ["vip", "toptan"]
    assert created["status"] == "active"
    assert created["customFields"] == {"erpCode": "C-001"}
    assert created["createdBy"] == {"type": "user", "id": shop.agent.caller.user_id}
    assert created["openTaskCount"] == 0
    assert created["entityVersion"] == "1"
    assert created["createdAt"].endswith("Z")

    fetched = await shop.viewer.get(f"/crm/customers/{created['id']}")
    assert fetched == created
    [event] = await events(shop.owner.caller.account_id, "crm.customer.")
    assert event["type"] == "crm.customer.created"
    assert event["data"]["customer"]["id"] == created["id"]
    assert event["actor"] == {"type": "user", "id": shop.agent.caller.user_id}


async def test_a_customer_changes_only_the_fields_sent_and_bumps_its_version(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer("Acme", city="Ankara", notes="eski not")
    url = f"/crm/customers/{customer['id']}"
    changed = await shop.agent.patch(
        url, json={"title": "Acme Ltd", "notes": None, "entityVersion": customer["entityVersion"]}
    )
    assert changed["title"] == "Acme Ltd"
    assert changed["city"] == "Ankara"
    assert changed["notes"] is None
    assert changed["entityVersion"] == "2"
    [_, updated] = await events(shop.owner.caller.account_id, "crm.customer.")
    assert updated["type"] == "crm.customer.updated"
    assert updated["data"]["changedFields"] == ["notes", "title"]

    # The same body again changes nothing: no new version, no event.
    same = await shop.agent.patch(url, json={"title": "Acme Ltd"})
    assert same["entityVersion"] == "2"
    assert len(await events(shop.owner.caller.account_id, "crm.customer.")) == 2


async def test_a_stale_entity_version_is_a_conflict(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    url = f"/crm/customers/{customer['id']}"
    await shop.agent.patch(url, json={"city": "İzmir"})
    error = await shop.agent.error(
        "PATCH", url, 409, "version_conflict", json={"city": "Bursa", "entityVersion": "1"}
    )
    assert error["details"]["currentEntityVersion"] == "2"
    await shop.agent.error(
        "PATCH", url, 409, "version_conflict", json={"city": "Bursa"}, headers={"If-Match": '"1"'}
    )
    assert (await shop.agent.get(url))["city"] == "İzmir"


async def test_viewers_read_but_cannot_write_customers(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    url = f"/crm/customers/{customer['id']}"
    await shop.viewer.error("POST", "/crm/customers", 403, "insufficient_role", json={"title": "X"})
    await shop.viewer.error("PATCH", url, 403, "insufficient_role", json={"title": "X"})
    await shop.viewer.error("DELETE", url, 403, "insufficient_role")
    assert (await shop.viewer.get(url))["title"] == customer["title"]


async def test_another_accounts_customer_is_not_found(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    other = Api(client, await register(client, name="Other"))
    url = f"/crm/customers/{customer['id']}"
    await other.error("GET", url, 404, "customer_not_found")
    await other.error("PATCH", url, 404, "customer_not_found", json={"title": "Mine"})
    await other.error("DELETE", url, 404, "customer_not_found")
    assert (await other.get("/crm/customers"))["rows"] == []
    assert (await shop.viewer.get(url))["title"] == customer["title"]


async def test_bad_customer_bodies_are_422_with_the_field(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    for body, path in (
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "X", "type": "alien"}, "type"),
        ({"title": "X", "emails": ["not-an-email"]}, "emails.0"),
        ({"title": "X", "status": "gone"}, "status"),
        ({"title": "X", "unknown": 1}, "unknown"),
    ):
        error = await shop.agent.error("POST", "/crm/customers", 422, "validation_error", json=body)
        assert path in [f["path"] for f in error["details"]["fields"]], (body, error)
    error = await shop.agent.error(
        "POST",
        "/crm/customers",
        422,
        "invalid_phone",
        json={"title": "X", "phones": ["+90 5", "12"]},
    )
    assert error["details"]["fields"][0]["path"] == "phones.0"
    assert (await shop.agent.get("/crm/customers"))["rows"] == []


async def test_a_deleted_customer_leaves_lists_and_answers_404(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    kept = await shop.agent.customer("Kalan")
    gone = await shop.agent.customer("Giden")
    contact = await shop.agent.contact(gone["id"])
    deleted = await shop.agent.delete(f"/crm/customers/{gone['id']}")
    assert deleted == {"deleted": True}
    await shop.agent.error("GET", f"/crm/customers/{gone['id']}", 404, "customer_not_found")
    await shop.agent.error("GET", f"/crm/contacts/{contact['id']}", 404, "contact_not_found")
    assert [c["id"] for c in (await shop.agent.get("/crm/customers"))["rows"]] == [kept["id"]]
    assert (await shop.agent.get("/crm/contacts"))["rows"] == []
    types = [e["type"] for e in await events(shop.owner.caller.account_id)]
    assert types[-2:] == ["crm.contact.deleted", "crm.customer.deleted"]
    await shop.agent.error("DELETE", f"/crm/customers/{gone['id']}", 404, "customer_not_found")


async def test_customer_lists_page_newest_first(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    made = [await shop.agent.customer(f"Müşteri {i}") for i in range(5)]
    first = await shop.viewer.get("/crm/customers", params={"limit": 2})
    assert [c["title"] for c in first["rows"]] == ["Müşteri 4", "Müşteri 3"]
    assert first["hasMore"] is True
    everything = await shop.viewer.all_rows("/crm/customers", limit=2)
    assert [c["id"] for c in everything] == [c["id"] for c in reversed(made)]
    await shop.viewer.error(
        "GET", "/crm/customers", 400, "invalid_cursor", params={"cursor": "nope"}
    )


async def test_primary_representative_and_team_must_be_the_accounts(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    other = await register(client, name="Other")
    await shop.agent.error(
        "POST",
        "/crm/customers",
        404,
        "user_not_found",
        json={"title": "X", "primaryRepresentativeId": other.user_id},
    )
    await shop.agent.error(
        "POST",
        "/crm/customers",
        404,
        "group_not_found",
        json={"title": "X", "primaryTeamId": str(uuid.uuid4())},
    )
    made = await shop.agent.customer("X", primaryRepresentativeId=shop.agent.caller.user_id)
    assert made["primaryRepresentativeId"] == shop.agent.caller.user_id
