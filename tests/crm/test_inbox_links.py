"""Inbox links: a whole WhatsApp session bound to a customer."""

from __future__ import annotations

from typing import Any

import httpx

from tests.crm.helpers import Api, inbox, jid, register, team


async def test_an_inbox_bound_to_a_customer_brings_all_its_chats(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    dealer = await shop.agent.customer("Bayi İzmir")
    box = await inbox(shop.owner)
    for phone in ("905550000001", "905550000002"):
        await box.customer_writes(phone)
    await run_jobs()
    [source] = (await shop.viewer.get("/crm/inbox-links/sources"))["rows"]
    assert source["sourceId"] == box.psid and source["customer"] is None
    assert source["access"] == "owner" and source["entityVersion"] == "0"
    url = f"/crm/inbox-links/whatsapp/{box.psid}"
    linked = await shop.owner.put(url, json={"customerId": dealer["id"], "entityVersion": "0"})
    assert linked["customer"]["id"] == dealer["id"] and linked["entityVersion"] == "1"
    assert await shop.viewer.get(url) == linked
    mine = await shop.viewer.get(f"/crm/customers/{dealer['id']}/inbox-links")
    assert [r["sourceId"] for r in mine["rows"]] == [box.psid]
    link = await shop.viewer.get(
        f"/wa/chats/{jid('905550000001')}/customer-link", params=box.params
    )
    assert link["link"] == {
        "customer": {"id": dealer["id"], "title": "Bayi İzmir", "shortName": None},
        "contact": None,
        "source": "inbox",
    }
    assert (await shop.viewer.get("/crm/identities/unmatched"))["rows"] == []
    chats = await shop.viewer.get("/wa/chats", params={**box.params, "customerId": dealer["id"]})
    assert len(chats["rows"]) == 2
    timeline = await shop.viewer.get(
        f"/crm/customers/{dealer['id']}/timeline", params={"kind": "message"}
    )
    assert len(timeline["rows"]) == 2
    audit = await shop.viewer.get(
        f"/crm/customers/{dealer['id']}/audit", params={"entityType": "inbox_link"}
    )
    assert audit["rows"][0]["changes"]["sourceId"] == {"before": None, "after": box.psid}

    # A chat mapped to another customer stays that customer's.
    other = await shop.agent.customer("Özel")
    await shop.agent.put(
        f"/wa/chats/{jid('905550000002')}/customer-link",
        json={"customerId": other["id"]},
        params=box.params,
    )
    chats = await shop.viewer.get("/wa/chats", params={**box.params, "customerId": dealer["id"]})
    assert [c["remoteJid"] for c in chats["rows"]] == [jid("905550000001")]

    cleared = await shop.owner.put(url, json={"customerId": None})
    assert cleared["customer"] is None
    assert await shop.owner.delete(url) == {"cleared": False}
    await shop.owner.put(url, json={"customerId": dealer["id"]})
    assert await shop.owner.delete(url) == {"cleared": True}
    assert (await shop.viewer.get(f"/crm/customers/{dealer['id']}/inbox-links"))["rows"] == []


async def test_inbox_links_are_set_by_admins_of_accounts_that_see_the_inbox(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    box = await inbox(shop.owner)
    url = f"/crm/inbox-links/whatsapp/{box.psid}"
    for api in (shop.agent, shop.viewer):
        await api.error("PUT", url, 403, json={"customerId": customer["id"]})
        await api.error("DELETE", url, 403)
    await shop.owner.error("PUT", url, 422, "validation_error", json={})
    await shop.owner.error(
        "PUT", "/crm/inbox-links/fax/x", 422, "validation_error", json={"customerId": None}
    )
    await shop.owner.put(url, json={"customerId": customer["id"]})
    await shop.owner.error(
        "PUT", url, 409, "version_conflict", json={"customerId": None, "entityVersion": "0"}
    )
    other = Api(client, await register(client, name="Other"))
    own = await other.customer("Kendi")
    await other.error("GET", url, 404, "inbox_source_not_found")
    await other.error("PUT", url, 404, "inbox_source_not_found", json={"customerId": own["id"]})
    await other.error("DELETE", url, 404, "inbox_source_not_found")
    await other.error(
        "GET", f"/crm/customers/{customer['id']}/inbox-links", 404, "customer_not_found"
    )
    assert (await other.get("/crm/inbox-links/sources"))["rows"] == []
    # Another account's customer cannot be bound to one's inbox.
    their_box = await inbox(other)
    await other.error(
        "PUT",
        f"/crm/inbox-links/whatsapp/{their_box.psid}",
        404,
        "customer_not_found",
        json={"customerId": customer["id"]},
    )
