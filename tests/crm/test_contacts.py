"""Contacts over HTTP: under a customer, on their own, moved to another customer."""

from __future__ import annotations

import uuid

import httpx

from tests.crm.helpers import Api, events, register, team


async def test_a_contact_is_created_under_a_customer(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    contact = await shop.agent.contact(
        customer["id"],
        "Ayşe Yılmaz",
        phone="0555 111 22 33",
        email="Ayse@Acme.example",
        title="Satın alma",
    )
    assert contact["customerId"] == customer["id"]
    assert contact["phone"] == "+905551112233"
    assert contact["email"] == "ayse@acme.example"
    assert contact["status"] == "active"
    assert contact["entityVersion"] == "1"
    assert await shop.viewer.get(f"/crm/contacts/{contact['id']}") == contact
    listed = await shop.viewer.get(f"/crm/customers/{customer['id']}/contacts")
    assert [c["id"] for c in listed["rows"]] == [contact["id"]]
    [event] = await events(shop.owner.caller.account_id, "crm.contact.")
    assert event["type"] == "crm.contact.created"


async def test_a_contact_moves_to_another_customer(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    first = await shop.agent.customer("Birinci")
    second = await shop.agent.customer("İkinci")
    contact = await shop.agent.contact(first["id"])
    moved = await shop.agent.patch(
        f"/crm/contacts/{contact['id']}",
        json={"customerId": second["id"], "title": "Müdür", "entityVersion": "1"},
    )
    assert moved["customerId"] == second["id"]
    assert moved["title"] == "Müdür"
    assert (await shop.viewer.get(f"/crm/customers/{first['id']}/contacts"))["rows"] == []
    assert [
        c["id"] for c in (await shop.viewer.get(f"/crm/customers/{second['id']}/contacts"))["rows"]
    ] == [contact["id"]]
    updated = (await events(shop.owner.caller.account_id, "crm.contact."))[-1]
    assert updated["type"] == "crm.contact.updated"
    assert updated["data"]["previousCustomerId"] == first["id"]
    assert updated["data"]["changedFields"] == ["customerId", "title"]


async def test_contact_writes_need_an_agent_and_the_right_version(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    contact = await shop.agent.contact(customer["id"])
    url = f"/crm/contacts/{contact['id']}"
    await shop.viewer.error(
        "POST", f"/crm/customers/{customer['id']}/contacts", 403, json={"displayName": "X"}
    )
    await shop.viewer.error("PATCH", url, 403, json={"displayName": "X"})
    await shop.viewer.error("DELETE", url, 403)
    await shop.agent.patch(url, json={"displayName": "Ayşe Y."})
    await shop.agent.error(
        "PATCH", url, 409, "version_conflict", json={"displayName": "Z", "entityVersion": "1"}
    )
    assert (await shop.agent.delete(url)) == {"deleted": True}
    await shop.agent.error("GET", url, 404, "contact_not_found")
    assert (await shop.agent.get("/crm/contacts"))["rows"] == []


async def test_another_accounts_contact_and_customer_are_not_found(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    contact = await shop.agent.contact(customer["id"])
    other = Api(client, await register(client, name="Other"))
    own = await other.customer("Kendi")
    url = f"/crm/contacts/{contact['id']}"
    await other.error("GET", url, 404, "contact_not_found")
    await other.error("PATCH", url, 404, "contact_not_found", json={"displayName": "X"})
    await other.error("DELETE", url, 404, "contact_not_found")
    await other.error("GET", f"/crm/customers/{customer['id']}/contacts", 404, "customer_not_found")
    await other.error(
        "POST",
        f"/crm/customers/{customer['id']}/contacts",
        404,
        "customer_not_found",
        json={"displayName": "X"},
    )
    own_contact = await other.contact(own["id"])
    # Moving one's own contact under another account's customer: that customer is not found.
    await other.error(
        "PATCH",
        f"/crm/contacts/{own_contact['id']}",
        404,
        "customer_not_found",
        json={"customerId": customer["id"]},
    )
    assert (await other.get("/crm/contacts", params={"customerId": customer["id"]}))["rows"] == []


async def test_bad_contact_bodies_are_422(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    url = f"/crm/customers/{customer['id']}/contacts"
    await shop.agent.error("POST", url, 422, "validation_error", json={})
    await shop.agent.error(
        "POST", url, 422, "validation_error", json={"displayName": "X", "email": "x"}
    )
    await shop.agent.error(
        "POST", url, 422, "validation_error", json={"displayName": "X", "status": "z"}
    )
    await shop.agent.error(
        "POST", url, 422, "invalid_phone", json={"displayName": "X", "phone": "abc"}
    )
    await shop.agent.error("GET", f"/crm/contacts/{uuid.uuid4()}x", 422, "validation_error")
