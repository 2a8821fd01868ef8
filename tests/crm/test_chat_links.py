"""Chats linked to customers: automatically by phone when a customer has it (the ingest path
does it), the unmatched list otherwise, `@lid` -> phone merges that keep every link, shared
sessions where each account links the same chat to its own customer, and the customer-link
routes of a chat."""

from __future__ import annotations

from typing import Any

import httpx

from tests.crm.helpers import Api, events, inbox, jid, register, team

PHONE = "905551112233"
LID = "98765432101234@lid"


def waha_lid_message(
    session: str, message_id: str, text: str, *, phone_jid: str | None
) -> dict[str, Any]:
    """A customer's message addressed by `@lid`, as WAHA (GOWS engine) posts it; `SenderAlt`
    is the phone JID once WhatsApp reveals it."""
    info: dict[str, Any] = {
        "Chat": LID,
        "Sender": LID,
        "IsFromMe": False,
        "IsGroup": False,
        "AddressingMode": "lid",
        "ID": message_id,
        "PushName": "Mehmet",
    }
    if phone_jid:
        info["SenderAlt"] = phone_jid
    return {
        "id": f"evt_{message_id}",
        "timestamp": 1747218067512,
        "event": "message",
        "session": session,
        "engine": "GOWS",
        "payload": {
            "id": f"false_{LID}_{message_id}",
            "timestamp": 1747218100,
            "from": LID,
            "fromMe": False,
            "source": "app",
            "body": text,
            "hasMedia": False,
            "ack": 2,
            "_data": {"Info": info, "Message": {"conversation": text}},
        },
    }


async def _link(api: Api, psid: str, remote_jid: str) -> dict[str, Any]:
    return dict(
        await api.get(f"/wa/chats/{remote_jid}/customer-link", params={"providerSessionId": psid})
    )


async def test_a_new_chat_is_linked_by_phone_to_the_customer_who_has_it(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer("Ayşe Kaya", phones=["0555 111 22 33"])
    contact = await shop.agent.contact(customer["id"], "Ayşe", phone="+90 555 111 22 33")
    box = await inbox(shop.owner)
    await box.customer_writes(PHONE, "Kargom nerede?")
    await run_jobs()

    link = await _link(shop.viewer, box.psid, jid(PHONE))
    assert link["status"] == "matched"
    assert link["link"]["customer"]["id"] == customer["id"]
    assert link["link"]["contact"]["id"] == contact["id"]
    assert link["link"]["source"] == "identity"
    [mapping] = link["mappings"]
    assert mapping["source"] == "phone" and mapping["phone"] == "+905551112233"
    chats = await shop.viewer.get("/wa/chats", params=box.params)
    assert chats["rows"][0]["customerLink"]["customer"]["title"] == "Ayşe Kaya"
    messages = await shop.viewer.get(f"/wa/chats/{jid(PHONE)}/messages", params=box.params)
    assert messages["rows"][0]["customerLink"]["customer"]["id"] == customer["id"]
    linked = await events(shop.owner.caller.account_id, "crm.identity.")
    assert [e["type"] for e in linked] == ["crm.identity.linked"]
    assert linked[0]["actor"] == {"type": "system", "id": None}
    assert (await shop.viewer.get("/crm/identities/unmatched"))["rows"] == []


async def test_a_chat_nobody_has_waits_in_unmatched_until_a_customer_gets_the_phone(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    box = await inbox(shop.owner)
    await box.customer_writes(PHONE, "Merhaba", name="Zeynep")
    await run_jobs()
    unmatched = await shop.viewer.get("/crm/identities/unmatched")
    [row] = unmatched["rows"]
    assert row["remoteJid"] == jid(PHONE) and row["phone"] == "+905551112233"
    assert row["name"] == "Zeynep" and row["candidates"] == []
    assert (await _link(shop.viewer, box.psid, jid(PHONE)))["status"] == "unmatched"

    # Two customers with the number: still unmatched, both offered.
    first = await shop.agent.customer("Bir", phones=["0555 111 22 33"])
    second = await shop.agent.customer("İki", phones=["5551112233"])
    await run_jobs()
    [row] = (await shop.viewer.get("/crm/identities/unmatched"))["rows"]
    assert {c["customer"]["id"] for c in row["candidates"]} == {first["id"], second["id"]}

    # One of them is deleted: the other gets the chat (a phone change links existing chats).
    await shop.agent.delete(f"/crm/customers/{second['id']}")
    await shop.agent.patch(
        f"/crm/customers/{first['id']}", json={"phones": ["+905551112233", "+905320001122"]}
    )
    await run_jobs()
    assert (await shop.viewer.get("/crm/identities/unmatched"))["rows"] == []
    assert (await _link(shop.viewer, box.psid, jid(PHONE)))["link"]["customer"]["id"] == first["id"]


async def test_a_lid_chat_linked_by_hand_keeps_its_link_when_the_phone_jid_arrives(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer("Mehmet Bey")
    box = await inbox(shop.owner)
    # WhatsApp names the person only by `@lid`: no phone, nothing to match on.
    await box.gateway_posts(waha_lid_message(box.psid, "AC01", "Merhaba", phone_jid=None))
    await run_jobs()
    [row] = (await shop.viewer.get("/crm/identities/unmatched"))["rows"]
    assert row["remoteJid"] == LID and row["phone"] is None
    linked = await shop.agent.put(
        f"/wa/chats/{LID}/customer-link",
        json={"providerSessionId": box.psid, "customerId": customer["id"]},
    )
    assert linked["status"] == "matched" and [m["value"] for m in linked["mappings"]] == [LID]

    # Later the same person writes from the phone JID, then WhatsApp reveals the pair.
    await box.customer_writes(PHONE, "Ben Mehmet, telefondan yazıyorum", name="Mehmet")
    await run_jobs()
    assert (await _link(shop.viewer, box.psid, jid(PHONE)))["status"] == "unmatched"
    await box.gateway_posts(waha_lid_message(box.psid, "AC02", "Sipariş?", phone_jid=jid(PHONE)))
    await run_jobs()

    lid_link = await _link(shop.viewer, box.psid, LID)
    phone_link = await _link(shop.viewer, box.psid, jid(PHONE))
    # One person, one chat (issue 8, item 14): the LID's chat joined the phone's, and either
    # JID names it.
    assert lid_link == phone_link
    assert lid_link["altJid"] == LID
    assert lid_link["link"]["customer"]["id"] == customer["id"]
    assert phone_link["link"]["customer"]["id"] == customer["id"]
    assert {m["value"]: m["source"] for m in lid_link["mappings"]} == {
        LID: "manual",
        jid(PHONE): "merge",
    }
    assert (await shop.viewer.get("/crm/identities/unmatched"))["rows"] == []
    # Both chats' messages are in the customer's timeline.
    timeline = await shop.viewer.get(
        f"/crm/customers/{customer['id']}/timeline", params={"kind": "message"}
    )
    assert {i["message"]["remoteJid"] for i in timeline["rows"]} == {jid(PHONE)}
    assert len(timeline["rows"]) == 3


async def test_a_phone_link_reaches_the_lid_chat_of_the_same_person(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer("Mehmet Bey", phones=["0555 111 22 33"])
    box = await inbox(shop.owner)
    await box.gateway_posts(waha_lid_message(box.psid, "AC01", "Merhaba", phone_jid=jid(PHONE)))
    await run_jobs()
    link = await _link(shop.viewer, box.psid, LID)
    assert link["link"]["customer"]["id"] == customer["id"]
    assert {m["value"] for m in link["mappings"]} == {LID, jid(PHONE)}


async def test_accounts_sharing_a_session_link_the_same_chat_to_their_own_customers(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    partner = Api(client, await register(client, name="Partner"))
    box = await inbox(shop.owner)
    offer = await shop.owner.post(
        f"/accounts/{shop.owner.caller.account_id}/wa-sessions/{box.psid}/shares",
        json={"accountId": partner.caller.account_id},
    )
    # A share is an offer the partner's admin accepts (issue 8, item 6).
    await partner.post(
        f"/accounts/{partner.caller.account_id}/wa-session-shares/{offer['id']}/accept",
        expect=200,
    )
    ours = await shop.agent.customer("Bizim Müşteri", phones=[PHONE])
    theirs = await partner.customer("Onların Müşterisi")
    await box.customer_writes(PHONE)
    await run_jobs()
    assert (await _link(shop.viewer, box.psid, jid(PHONE)))["link"]["customer"]["id"] == ours["id"]
    # The partner's account has no customer with the phone: the chat is unmatched there.
    assert (await _link(partner, box.psid, jid(PHONE)))["status"] == "unmatched"
    [row] = (await partner.get("/crm/identities/unmatched"))["rows"]
    assert row["remoteJid"] == jid(PHONE)
    await partner.put(
        f"/wa/chats/{jid(PHONE)}/customer-link",
        json={"providerSessionId": box.psid, "customerId": theirs["id"]},
    )
    assert (await _link(partner, box.psid, jid(PHONE)))["link"]["customer"]["id"] == theirs["id"]
    assert (await _link(shop.viewer, box.psid, jid(PHONE)))["link"]["customer"]["id"] == ours["id"]
    # Neither can link the chat to the other's customer.
    await partner.error(
        "PUT",
        f"/wa/chats/{jid(PHONE)}/customer-link",
        404,
        "customer_not_found",
        json={"providerSessionId": box.psid, "customerId": ours["id"]},
    )


async def test_a_customer_and_contact_are_created_from_a_chat(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    box = await inbox(shop.owner)
    await box.customer_writes(PHONE, name="Zeynep Arslan")
    await run_jobs()
    url = f"/wa/chats/{jid(PHONE)}/customer-link"
    made = await shop.agent.post(url, json={"tags": ["whatsapp"]}, params=box.params)
    customer = await shop.viewer.get(f"/crm/customers/{made['customerId']}")
    assert customer["title"] == "Zeynep Arslan" and customer["type"] == "person"
    assert customer["phones"] == ["+905551112233"] and customer["tags"] == ["whatsapp"]
    contact = await shop.viewer.get(f"/crm/contacts/{made['contactId']}")
    assert contact["displayName"] == "Zeynep Arslan" and contact["phone"] == "+905551112233"
    assert made["link"]["link"]["contact"]["id"] == made["contactId"]
    await shop.agent.error("POST", url, 409, "chat_already_linked", json={}, params=box.params)
    # Unlinking empties the mappings; the chat is unmatched again.
    cleared = await shop.agent.delete(url, params=box.params)
    assert cleared["status"] == "unmatched" and cleared["mappings"] == []
    types = [e["type"] for e in await events(shop.owner.caller.account_id, "crm.identity.")]
    assert types == ["crm.identity.linked", "crm.identity.unlinked"]


async def test_customer_link_routes_guard_roles_tenancy_and_bodies(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer("Acme")
    sibling = await shop.agent.customer("Kardeş")
    sibling_contact = await shop.agent.contact(sibling["id"])
    box = await inbox(shop.owner)
    await box.customer_writes(PHONE)
    await run_jobs()
    url = f"/wa/chats/{jid(PHONE)}/customer-link"
    body = {"providerSessionId": box.psid, "customerId": customer["id"]}
    await shop.viewer.error("PUT", url, 403, json=body)
    await shop.viewer.error("DELETE", url, 403, params=box.params)
    await shop.viewer.error("POST", url, 403, json={}, params=box.params)
    await shop.agent.error(
        "PUT", url, 422, "validation_error", json={"providerSessionId": box.psid}
    )
    await shop.agent.error(
        "PUT",
        url,
        422,
        "contact_of_another_customer",
        json={**body, "contactId": sibling_contact["id"]},
    )
    await shop.agent.error(
        "POST", url, 422, "validation_error", json={"type": "alien"}, params=box.params
    )
    await shop.agent.error(
        "GET",
        f"/wa/chats/{jid('905550000000')}/customer-link",
        404,
        "chat_not_found",
        params=box.params,
    )
    other = Api(client, await register(client, name="Other"))
    await other.error(
        "GET", "/crm/identities/unmatched", 404, "session_not_found", params=box.params
    )
    assert (await other.get("/crm/identities/unmatched"))["rows"] == []
    for method, kwargs in (
        ("GET", {"params": box.params}),
        ("PUT", {"json": body}),
        ("DELETE", {"params": box.params}),
        ("POST", {"json": {}, "params": box.params}),
    ):
        await other.error(method, url, 404, "session_not_found", **kwargs)
