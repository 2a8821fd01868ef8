"""Identity mappings over HTTP: WhatsApp JIDs or phone numbers, other channels' ids; moves,
removals, the audit trail and the events."""

from __future__ import annotations

from typing import Any

import httpx

from tests.crm.helpers import Api, events, inbox, jid, register, team


async def test_a_phone_number_is_mapped_as_its_whatsapp_jid_and_moved(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    first = await shop.agent.customer("Birinci")
    second = await shop.agent.customer("İkinci")
    contact = await shop.agent.contact(second["id"])
    mapping = await shop.agent.post(
        "/crm/identity-mappings", json={"value": "0555 111 22 33", "customerId": first["id"]}
    )
    assert mapping["channel"] == "whatsapp" and mapping["value"] == jid("905551112233")
    assert mapping["phone"] == "+905551112233" and mapping["source"] == "manual"
    await shop.agent.error(
        "POST",
        "/crm/identity-mappings",
        409,
        "identity_already_linked",
        json={"value": "905551112233@c.us", "customerId": second["id"]},
    )
    url = f"/crm/identity-mappings/{mapping['id']}"
    moved = await shop.agent.patch(
        url, json={"customerId": second["id"], "contactId": contact["id"], "entityVersion": "1"}
    )
    assert moved["customerId"] == second["id"] and moved["contactId"] == contact["id"]
    await shop.agent.error(
        "PATCH", url, 409, "version_conflict", json={"displayName": "x", "entityVersion": "1"}
    )
    listed = await shop.viewer.get("/crm/identity-mappings", params={"customerId": second["id"]})
    assert [m["id"] for m in listed["rows"]] == [mapping["id"]]
    by_value = await shop.viewer.get(
        "/crm/identity-mappings", params={"value": "905551112233@s.whatsapp.net"}
    )
    assert [m["id"] for m in by_value["rows"]] == [mapping["id"]]
    assert await shop.agent.delete(url) == {"deleted": True}
    await shop.agent.error("DELETE", url, 404, "mapping_not_found")
    types = [e["type"] for e in await events(shop.owner.caller.account_id, "crm.identity.")]
    assert types == ["crm.identity.linked", "crm.identity.linked", "crm.identity.unlinked"]
    moved_event = (await events(shop.owner.caller.account_id, "crm.identity."))[1]
    assert moved_event["data"]["previousCustomerId"] == first["id"]
    # Both customers' audit trails show the move.
    for customer in (first, second):
        audit = await shop.viewer.get(
            f"/crm/customers/{customer['id']}/audit", params={"entityType": "mapping"}
        )
        assert any(
            e["changes"].get("customerId") == {"before": first["id"], "after": second["id"]}
            for e in audit["rows"]
        )


async def test_other_channels_keep_their_ids_within_their_scope(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    ig = await shop.agent.post(
        "/crm/identity-mappings",
        json={
            "channel": "instagram",
            "scope": "17841400000000",
            "value": "IGSID-1",
            "customerId": customer["id"],
        },
    )
    assert (ig["channel"], ig["scope"], ig["value"], ig["phone"]) == (
        "instagram",
        "17841400000000",
        "IGSID-1",
        None,
    )
    # The same id under another Page is another identity.
    await shop.agent.post(
        "/crm/identity-mappings",
        json={
            "channel": "instagram",
            "scope": "17841400000001",
            "value": "IGSID-1",
            "customerId": customer["id"],
        },
    )
    page = await shop.viewer.get("/crm/identity-mappings", params={"channel": "instagram"})
    assert len(page["rows"]) == 2


async def test_mapping_guards(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    sibling = await shop.agent.customer("Kardeş")
    sibling_contact = await shop.agent.contact(sibling["id"])
    url = "/crm/identity-mappings"
    await shop.viewer.error(
        "POST", url, 403, json={"value": "905551112233", "customerId": customer["id"]}
    )
    await shop.agent.error(
        "POST",
        url,
        422,
        "invalid_identity",
        json={"value": "not a phone", "customerId": customer["id"]},
    )
    await shop.agent.error(
        "POST",
        url,
        422,
        "invalid_identity",
        json={"value": "abc@example.com", "customerId": customer["id"]},
    )
    await shop.agent.error("POST", url, 422, "validation_error", json={"value": "905551112233"})
    await shop.agent.error(
        "POST",
        url,
        422,
        "validation_error",
        json={"channel": "fax", "value": "1", "customerId": customer["id"]},
    )
    await shop.agent.error(
        "POST",
        url,
        422,
        "contact_of_another_customer",
        json={
            "value": "905551112233",
            "customerId": customer["id"],
            "contactId": sibling_contact["id"],
        },
    )
    mapping = await shop.agent.post(
        url, json={"value": "905551112233", "customerId": customer["id"]}
    )
    other = Api(client, await register(client, name="Other"))
    own = await other.customer("Kendi")
    await other.error(
        "POST",
        url,
        404,
        "customer_not_found",
        json={"value": "905551112233", "customerId": customer["id"]},
    )
    await other.error(
        "PATCH", f"{url}/{mapping['id']}", 404, "mapping_not_found", json={"customerId": own["id"]}
    )
    await other.error("DELETE", f"{url}/{mapping['id']}", 404, "mapping_not_found")
    await shop.agent.error(
        "PATCH", f"{url}/{mapping['id']}", 404, "customer_not_found", json={"customerId": own["id"]}
    )
    await shop.viewer.error("PATCH", f"{url}/{mapping['id']}", 403, json={"displayName": "x"})
    await shop.viewer.error("DELETE", f"{url}/{mapping['id']}", 403)
    assert (await other.get(url))["rows"] == []
    # The same number is free in another account.
    await other.post(url, json={"value": "905551112233", "customerId": own["id"]})


async def test_mapping_a_lid_maps_the_phone_jid_of_its_chat(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from tests.crm.test_chat_links import LID, waha_lid_message

    shop = await team(client)
    customer = await shop.agent.customer()
    box = await inbox(shop.owner)
    await box.gateway_posts(
        waha_lid_message(box.psid, "AC01", "Merhaba", phone_jid=jid("905551112233"))
    )
    await run_jobs()
    await shop.agent.post(
        "/crm/identity-mappings", json={"value": LID, "customerId": customer["id"]}
    )
    rows = (await shop.viewer.get("/crm/identity-mappings", params={"customerId": customer["id"]}))[
        "rows"
    ]
    assert {(m["value"], m["source"]) for m in rows} == {
        (LID, "manual"),
        (jid("905551112233"), "merge"),
    }
