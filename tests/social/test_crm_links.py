"""Page and Instagram threads in the CRM: the person's PSID / IGSID as an identity operators
map (or the inbox rule maps, for a Page bound to a customer), the thread's `customerLink`,
the unmatched list, the inbox-link sources and the customer's timeline."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import respx

from tests.crm.helpers import Api, events, inbox, team
from tests.helpers import assert_error, register
from tests.social.helpers import (
    GRAPH,
    IG_ID,
    IGSID,
    PAGE_ID,
    PSID,
    connect_instagram,
    connect_page,
    customer_message,
    deliver,
    instagram_body,
    now_ms,
    page_body,
    route_sends,
)

OTHER_PSID = "24100000000000002"


async def _writes(
    client: httpx.AsyncClient,
    text: str,
    *,
    sender: str = PSID,
    platform: str = "meta",
    timestamp: int | None = None,
) -> None:
    if platform == "meta":
        body = page_body(customer_message(text, sender=sender, timestamp=timestamp))
    else:
        item = customer_message(text, sender=sender, recipient=IG_ID, timestamp=timestamp)
        body = instagram_body(item)
    response = await deliver(client, body, platform=platform)
    assert response.status_code == 200, response.text


def _threads_url(asset: dict[str, Any], platform: str = "meta") -> str:
    base = "assets" if platform == "meta" else "accounts"
    return f"/{platform}/{base}/{asset['id']}/threads"


async def _thread(api: Api, asset: dict[str, Any], person: str, platform: str = "meta") -> Any:
    rows = (await api.get(_threads_url(asset, platform)))["rows"]
    [thread] = [t for t in rows if t["participantId"] == person]
    return thread


def _link_url(asset: dict[str, Any], thread: dict[str, Any], platform: str = "meta") -> str:
    return f"{_threads_url(asset, platform)}/{thread['id']}/customer-link"


async def test_a_thread_waits_in_unmatched_until_an_operator_links_its_person(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    shop = await team(client)
    page = await connect_page(client, shop.owner.caller, graph)
    await _writes(client, "Bu elbise stokta var mı?")
    await run_jobs()
    thread = await _thread(shop.viewer, page, PSID)
    assert thread["customerLink"] is None

    [row] = (await shop.viewer.get("/crm/identities/unmatched"))["rows"]
    assert (row["channel"], row["scope"], row["value"]) == ("messenger", PAGE_ID, PSID)
    assert (row["assetId"], row["threadId"]) == (page["id"], thread["id"])
    assert row["providerSessionId"] is None and row["remoteJid"] is None
    assert row["lastMessagePreview"] == "Bu elbise stokta var mı?" and row["candidates"] == []
    link = await shop.viewer.get(_link_url(page, thread))
    assert (link["status"], link["link"], link["mapping"]) == ("unmatched", None, None)
    assert (link["channel"], link["scope"], link["participantId"]) == ("messenger", PAGE_ID, PSID)

    customer = await shop.agent.customer("Deniz Yılmaz")
    contact = await shop.agent.contact(customer["id"], "Deniz")
    await shop.viewer.error(
        "PUT", _link_url(page, thread), 403, json={"customerId": customer["id"]}
    )
    linked = await shop.agent.put(
        _link_url(page, thread), json={"customerId": customer["id"], "contactId": contact["id"]}
    )
    assert linked["status"] == "matched"
    assert linked["link"] == {
        "customer": {"id": customer["id"], "title": "Deniz Yılmaz", "shortName": None},
        "contact": {"id": contact["id"], "customerId": customer["id"], "displayName": "Deniz"},
        "source": "identity",
    }
    mapping = linked["mapping"]
    assert (mapping["channel"], mapping["scope"], mapping["value"], mapping["source"]) == (
        "messenger",
        PAGE_ID,
        PSID,
        "manual",
    )
    assert (await _thread(shop.viewer, page, PSID))["customerLink"] == linked["link"]
    assert (await shop.viewer.get("/crm/identities/unmatched"))["rows"] == []
    mappings = await shop.viewer.get(
        "/crm/identity-mappings", params={"customerId": customer["id"]}
    )
    assert [m["id"] for m in mappings["rows"]] == [mapping["id"]]
    [event] = await events(shop.owner.caller.account_id, "crm.identity.")
    assert event["type"] == "crm.identity.linked" and event["data"]["mapping"]["value"] == PSID

    # Other domains find the customer by the thread's identity.
    from ticaret.core.db import unit_of_work
    from ticaret.crm.service import identities
    from ticaret.models import IdentityChannel

    async with unit_of_work() as session:
        found = await identities.find_customer_by_identity(
            session,
            uuid.UUID(shop.owner.caller.account_id),
            IdentityChannel.messenger,
            PSID,
            scope=PAGE_ID,
        )
    assert found is not None and str(found.customer_id) == customer["id"]

    cleared = await shop.agent.delete(_link_url(page, thread))
    assert (cleared["status"], cleared["mapping"]) == ("unmatched", None)
    [row] = (await shop.viewer.get("/crm/identities/unmatched"))["rows"]
    assert row["threadId"] == thread["id"]
    unlinked = await events(shop.owner.caller.account_id, "crm.identity.unlinked")
    assert [e["data"]["value"] for e in unlinked] == [PSID]


async def test_an_identity_another_domain_linked_shows_on_the_thread(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    from ticaret.core.db import unit_of_work
    from ticaret.crm.service import identities
    from ticaret.models import IdentityChannel

    shop = await team(client)
    account = await connect_instagram(client, shop.owner.caller, graph)
    await _writes(client, "Merhaba", sender=IGSID, platform="instagram")
    await run_jobs()
    customer = await shop.agent.customer("Acme")
    async with unit_of_work() as session:
        await identities.link_identity(
            session,
            uuid.UUID(shop.owner.caller.account_id),
            IdentityChannel.instagram,
            IGSID,
            scope=IG_ID,
            customer_id=uuid.UUID(customer["id"]),
        )
    thread = await _thread(shop.viewer, account, IGSID, "instagram")
    assert thread["customerLink"]["customer"]["id"] == customer["id"]
    assert thread["customerLink"]["source"] == "identity"
    assert (await shop.viewer.get("/crm/identities/unmatched"))["rows"] == []


async def test_a_customer_is_made_from_an_instagram_thread_and_sees_its_messages(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    shop = await team(client)
    account = await connect_instagram(client, shop.owner.caller, graph)
    route_sends(graph)
    await _writes(client, "Bedeni var mı?", sender=IGSID, platform="instagram")
    await run_jobs()
    thread = await _thread(shop.agent, account, IGSID, "instagram")
    made = await shop.agent.post(
        _link_url(account, thread, "instagram"), json={"title": "Deniz", "tags": ["instagram"]}
    )
    assert made["link"]["link"]["customer"]["title"] == "Deniz"
    assert made["link"]["link"]["contact"]["displayName"] == "Deniz"
    assert made["link"]["mapping"]["scope"] == IG_ID
    await shop.agent.error(
        "POST", _link_url(account, thread, "instagram"), 409, "chat_already_linked", json={}
    )
    await shop.agent.post(
        f"{_threads_url(account, 'instagram')}/{thread['id']}/messages",
        json={"text": "Evet, M ve L var."},
        expect=202,
    )
    await run_jobs()

    timeline = await shop.viewer.get(
        f"/crm/customers/{made['customerId']}/timeline", params={"kind": "social_message"}
    )
    shown = [(i["message"]["fromMe"], i["message"]["text"]) for i in timeline["rows"]]
    assert shown == [(True, "Evet, M ve L var."), (False, "Bedeni var mı?")]
    item = timeline["rows"][1]
    assert item["kind"] == "social_message" and item["id"] == item["message"]["id"]
    assert item["message"]["platform"] == "instagram"
    assert (item["message"]["threadId"], item["message"]["participantId"]) == (thread["id"], IGSID)
    assert item["message"]["status"] == "received"
    # The whole feed holds them too, with the customer's audit entries.
    everything = await shop.viewer.get(f"/crm/customers/{made['customerId']}/timeline")
    assert {i["kind"] for i in everything["rows"]} >= {"social_message", "audit"}


async def test_a_page_bound_to_a_customer_brings_its_people_and_they_follow_the_binding(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    shop = await team(client)
    page = await connect_page(client, shop.owner.caller, graph)
    instagram = await connect_instagram(client, shop.owner.caller, graph)
    box = await inbox(shop.owner)
    await _writes(client, "Sipariş vermek istiyorum", timestamp=now_ms() - 3_600_000)
    await run_jobs()
    dealer = await shop.agent.customer("Bayi İzmir")

    sources = (await shop.viewer.get("/crm/inbox-links/sources"))["rows"]
    by_channel = {s["channel"]: s for s in sources}
    assert set(by_channel) == {"whatsapp", "messenger", "instagram"}
    assert by_channel["messenger"] == {
        "channel": "messenger",
        "sourceId": PAGE_ID,
        "name": "Ayşe Butik",
        "access": "owner",
        "assetId": page["id"],
        "customer": None,
        "linkedAt": None,
        "entityVersion": "0",
    }
    assert by_channel["instagram"]["sourceId"] == IG_ID
    assert by_channel["instagram"]["assetId"] == instagram["id"]
    assert by_channel["whatsapp"]["sourceId"] == box.psid
    first = await shop.viewer.get("/crm/inbox-links/sources", params={"limit": 2})
    rest = await shop.viewer.get(
        "/crm/inbox-links/sources", params={"limit": 2, "cursor": first["nextCursor"]}
    )
    assert [s["sourceId"] for s in first["rows"] + rest["rows"]] == [s["sourceId"] for s in sources]

    url = f"/crm/inbox-links/messenger/{PAGE_ID}"
    await shop.agent.error("PUT", url, 403, json={"customerId": dealer["id"]})
    bound = await shop.owner.put(url, json={"customerId": dealer["id"], "entityVersion": "0"})
    assert bound["customer"]["id"] == dealer["id"] and bound["assetId"] == page["id"]
    assert await shop.viewer.get(url) == bound
    mine = await shop.viewer.get(f"/crm/customers/{dealer['id']}/inbox-links")
    assert [(r["channel"], r["sourceId"]) for r in mine["rows"]] == [("messenger", PAGE_ID)]
    # The thread is the dealer's at once, through the Page...
    thread = await _thread(shop.viewer, page, PSID)
    assert thread["customerLink"]["customer"]["id"] == dealer["id"]
    assert thread["customerLink"]["source"] == "inbox"
    assert (await shop.viewer.get("/crm/identities/unmatched"))["rows"] == []

    # ...and its person is mapped to the dealer by the job the binding queued.
    await run_jobs()
    rule = await shop.viewer.get("/crm/identity-mappings", params={"source": "inbox"})
    assert [(m["value"], m["customerId"]) for m in rule["rows"]] == [(PSID, dealer["id"])]
    assert (await _thread(shop.viewer, page, PSID))["customerLink"]["source"] == "inbox"

    # A new person writing to the Page is mapped to the dealer as their thread begins.
    await _writes(client, "Kargo ne zaman?", sender=OTHER_PSID, timestamp=now_ms() - 600_000)
    await run_jobs()
    rule = await shop.viewer.get("/crm/identity-mappings", params={"source": "inbox"})
    assert {m["value"] for m in rule["rows"]} == {PSID, OTHER_PSID}
    assert {m["customerId"] for m in rule["rows"]} == {dealer["id"]}
    # One `meta.thread.created` per person, however many messages they send.
    await _writes(client, "Bir de beden?", sender=OTHER_PSID, timestamp=now_ms() - 1_200_000)
    await run_jobs()
    created = await events(shop.owner.caller.account_id, "meta.thread.created")
    assert [e["data"]["participantId"] for e in created] == [PSID, OTHER_PSID]
    timeline = await shop.viewer.get(
        f"/crm/customers/{dealer['id']}/timeline", params={"kind": "social_message"}
    )
    assert [i["message"]["text"] for i in timeline["rows"]] == [
        "Kargo ne zaman?",
        "Bir de beden?",
        "Sipariş vermek istiyorum",
    ]
    assert [i["message"]["participantId"] for i in timeline["rows"]] == [
        OTHER_PSID,
        OTHER_PSID,
        PSID,
    ]

    # An operator moves one person to a customer of their own: that mapping is theirs now.
    own = await shop.agent.customer("Özel Müşteri")
    second = await _thread(shop.viewer, page, OTHER_PSID)
    await shop.agent.put(_link_url(page, second), json={"customerId": own["id"]})

    # The Page is bound to another customer: the rule's mappings move, the operator's stays.
    other = await shop.agent.customer("Bayi Ankara")
    await shop.owner.put(url, json={"customerId": other["id"]})
    await run_jobs()
    assert (await _thread(shop.viewer, page, PSID))["customerLink"]["customer"]["id"] == other["id"]
    assert (await _thread(shop.viewer, page, OTHER_PSID))["customerLink"]["customer"]["id"] == own[
        "id"
    ]
    moved = await events(shop.owner.caller.account_id, "crm.identity.linked")
    assert moved[-1]["data"]["previousCustomerId"] == dealer["id"]
    assert moved[-1]["actor"] == {"type": "system", "id": None}

    # Cleared: the rule's mapping goes, the thread waits in the unmatched list again.
    assert await shop.owner.delete(url) == {"cleared": True}
    await run_jobs()
    assert (await shop.viewer.get("/crm/identity-mappings", params={"source": "inbox"}))[
        "rows"
    ] == []
    assert (await _thread(shop.viewer, page, PSID))["customerLink"] is None
    [row] = (await shop.viewer.get("/crm/identities/unmatched"))["rows"]
    assert row["value"] == PSID
    assert (await _thread(shop.viewer, page, OTHER_PSID))["customerLink"]["customer"]["id"] == own[
        "id"
    ]


async def test_an_instagram_account_bound_to_a_customer_shows_its_messages_in_the_timeline(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    shop = await team(client)
    account = await connect_instagram(client, shop.owner.caller, graph)
    dealer = await shop.agent.customer("Bayi Bursa")
    await shop.owner.put(f"/crm/inbox-links/instagram/{IG_ID}", json={"customerId": dealer["id"]})
    await _writes(client, "Merhaba", sender=IGSID, platform="instagram")
    await run_jobs()
    thread = await _thread(shop.viewer, account, IGSID, "instagram")
    assert thread["customerLink"]["customer"]["id"] == dealer["id"]
    [mapping] = (await shop.viewer.get("/crm/identity-mappings", params={"source": "inbox"}))[
        "rows"
    ]
    assert (mapping["channel"], mapping["scope"], mapping["value"]) == ("instagram", IG_ID, IGSID)
    timeline = await shop.viewer.get(
        f"/crm/customers/{dealer['id']}/timeline", params={"kind": "social_message"}
    )
    assert [i["message"]["text"] for i in timeline["rows"]] == ["Merhaba"]


async def test_a_disconnected_page_keeps_its_link_for_when_it_is_connected_again(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    shop = await team(client)
    page = await connect_page(client, shop.owner.caller, graph)
    await _writes(client, "Merhaba")
    await run_jobs()
    dealer = await shop.agent.customer("Bayi")
    url = f"/crm/inbox-links/messenger/{PAGE_ID}"
    await shop.owner.put(url, json={"customerId": dealer["id"]})
    await run_jobs()
    graph.delete(f"https://graph.facebook.com/v25.0/{PAGE_ID}/subscribed_apps").respond(
        200, json={"success": True}
    )
    await shop.owner.delete(f"/meta/assets/{page['id']}")

    await shop.viewer.error("GET", url, 404, "inbox_source_not_found")
    assert [s["channel"] for s in (await shop.viewer.get("/crm/inbox-links/sources"))["rows"]] == []
    assert (await shop.viewer.get(f"/crm/customers/{dealer['id']}/inbox-links"))["rows"] == []
    assert (
        await shop.viewer.get(
            f"/crm/customers/{dealer['id']}/timeline", params={"kind": "social_message"}
        )
    )["rows"] == []

    again = await connect_page(client, shop.owner.caller, graph)
    assert again["id"] != page["id"]
    assert (await shop.viewer.get(url))["customer"]["id"] == dealer["id"]
    await _writes(client, "Tekrar merhaba")
    await run_jobs()
    thread = await _thread(shop.viewer, again, PSID)
    assert thread["customerLink"]["customer"]["id"] == dealer["id"]


async def test_unmatched_lists_chats_and_threads_by_activity_with_one_cursor(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    shop = await team(client)
    await connect_page(client, shop.owner.caller, graph)
    await connect_instagram(client, shop.owner.caller, graph)
    box = await inbox(shop.owner)
    await _writes(client, "eski", timestamp=now_ms() - 3_600_000)
    await box.customer_writes("905550000001", "orta")
    await run_jobs()
    await _writes(client, "yeni", sender=IGSID, platform="instagram", timestamp=now_ms() + 600_000)
    await run_jobs()

    everything = await shop.viewer.get("/crm/identities/unmatched")
    assert [(r["channel"], r["lastMessagePreview"]) for r in everything["rows"]] == [
        ("instagram", "yeni"),
        ("whatsapp", "orta"),
        ("messenger", "eski"),
    ]
    whatsapp = everything["rows"][1]
    assert (whatsapp["scope"], whatsapp["value"]) == ("", "905550000001@s.whatsapp.net")
    assert whatsapp["assetId"] is None and whatsapp["providerSessionId"] == box.psid
    paged = await shop.viewer.all_rows("/crm/identities/unmatched", limit=1)
    assert paged == everything["rows"]
    only = await shop.viewer.get("/crm/identities/unmatched", params={"channel": "messenger"})
    assert [r["lastMessagePreview"] for r in only["rows"]] == ["eski"]
    session_only = await shop.viewer.get("/crm/identities/unmatched", params=box.params)
    assert [r["channel"] for r in session_only["rows"]] == ["whatsapp"]
    assert (await shop.viewer.get("/crm/identities/unmatched", params={"channel": "external"}))[
        "rows"
    ] == []


async def test_another_accounts_page_is_no_inbox_and_its_threads_are_not_in_unmatched(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    shop = await team(client)
    await connect_page(client, shop.owner.caller, graph)
    await _writes(client, "Merhaba")
    await run_jobs()
    other = Api(client, await register(client, name="Other"))
    stranger = await other.customer("Yabancı")
    url = f"/crm/inbox-links/messenger/{PAGE_ID}"
    await other.error("GET", url, 404, "inbox_source_not_found")
    await other.error(
        "PUT", url, 404, "inbox_source_not_found", json={"customerId": stranger["id"]}
    )
    await other.error("DELETE", url, 404, "inbox_source_not_found")
    assert (await other.get("/crm/inbox-links/sources"))["rows"] == []
    assert (await other.get("/crm/identities/unmatched"))["rows"] == []
    # The shop cannot bind its Page to the other account's customer.
    await shop.owner.error(
        "PUT", url, 404, "customer_not_found", json={"customerId": stranger["id"]}
    )


async def test_a_page_scoped_mapping_names_its_page(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer()
    for channel in ("messenger", "instagram"):
        response = await shop.agent.response(
            "POST",
            "/crm/identity-mappings",
            json={"channel": channel, "value": PSID, "customerId": customer["id"]},
        )
        error = assert_error(response, 422, "invalid_identity")
        assert error["details"]["fields"][0]["path"] == "scope"


async def test_a_synced_conversation_of_a_bound_page_is_the_customers(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    shop = await team(client)
    page = await connect_page(client, shop.owner.caller, graph)
    dealer = await shop.agent.customer("Bayi")
    await shop.owner.put(f"/crm/inbox-links/messenger/{PAGE_ID}", json={"customerId": dealer["id"]})
    person, name = "24100000000000003", "Ali Kaya"
    # Graph's Conversations API (docs/META.md): one conversation with one message, no posts.
    graph.get(f"{GRAPH}/{PAGE_ID}/conversations").respond(
        200,
        json={
            "data": [
                {
                    "id": "t_3001",
                    "updated_time": "2026-11-30T09:00:00+0000",
                    "participants": {
                        "data": [
                            {"name": name, "email": f"{person}@facebook.com", "id": person},
                            {
                                "name": "Ayşe Butik",
                                "email": f"{PAGE_ID}@facebook.com",
                                "id": PAGE_ID,
                            },
                        ]
                    },
                }
            ],
            "paging": {"cursors": {"before": "QVFIUmx1", "after": "QVFIUmxz"}},
        },
    )
    graph.get(f"{GRAPH}/t_3001/messages").respond(
        200,
        json={
            "data": [
                {
                    "id": "m_s1",
                    "created_time": "2026-11-30T08:59:00+0000",
                    "from": {"name": name, "email": f"{person}@facebook.com", "id": person},
                    "to": {
                        "data": [
                            {
                                "name": "Ayşe Butik",
                                "email": f"{PAGE_ID}@facebook.com",
                                "id": PAGE_ID,
                            }
                        ]
                    },
                    "message": "Toptan fiyat?",
                }
            ],
            "paging": {"cursors": {"before": "QVFIUmx1", "after": "QVFIUmxz"}},
        },
    )
    graph.get(f"{GRAPH}/{PAGE_ID}/posts").respond(
        200, json={"data": [], "paging": {"cursors": {"before": "QQ", "after": "QQ"}}}
    )
    await shop.owner.post(f"/meta/assets/{page['id']}/sync", expect=202)
    await run_jobs()

    [created] = await events(shop.owner.caller.account_id, "meta.thread.created")
    assert (created["data"]["participantId"], created["data"]["participantName"]) == (person, name)
    [mapping] = (await shop.viewer.get("/crm/identity-mappings", params={"source": "inbox"}))[
        "rows"
    ]
    assert (mapping["value"], mapping["displayName"], mapping["customerId"]) == (
        person,
        name,
        dealer["id"],
    )
    thread = await _thread(shop.viewer, page, person)
    assert thread["customerLink"]["customer"]["id"] == dealer["id"]
