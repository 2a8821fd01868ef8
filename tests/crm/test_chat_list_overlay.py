"""The chat list's first pages read each chat with its labels, the calling account's
assignment and whether a customer of that account owns it in one statement (the fast lane):
each chat gets its own overlay, a chat a customer owns still shows its link, another
account's chats never appear, and a shared session shows the partner its own overlay only.
Every answer is compared with the FastAPI route's (a no-op filter sends the request there)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.crm.helpers import Api, inbox, jid, register, team
from tests.wa.helpers import share_and_accept

LINKED = "905551112233"
PLAIN = "905554445566"
ASSIGNED = "905557778899"
THEIRS = "905550001122"


async def pages(api: Api, psid: str) -> list[dict[str, Any]]:
    """Every chat, one per page (each page after a cursor: a page without the linked chat is
    the fast lane's own), then all on one page; the route must answer the same pages."""
    params = {"providerSessionId": psid, "limit": "1"}
    fast = await api.all_rows("/wa/chats", **params)
    assert fast == await api.all_rows("/wa/chats", **params, labelMode="any")
    assert (await api.get("/wa/chats", params={"providerSessionId": psid}))["rows"] == fast
    return fast


async def test_each_chat_shows_its_own_overlay_and_only_the_accounts_chats_are_listed(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    partner = Api(client, await register(client, name="Partner"))
    customer = await shop.agent.customer("Ayşe Kaya", phones=["0555 111 22 33"])
    group = await shop.owner.post("/crm/groups", json={"name": "Satış"})
    box = await inbox(shop.owner)
    theirs = await inbox(partner)
    for phone in (LINKED, PLAIN, ASSIGNED):
        await box.customer_writes(phone)
    await theirs.customer_writes(THEIRS)
    await run_jobs()
    labels = [
        (await shop.owner.post("/wa/labels", json={"name": name, "color": color}))["id"]
        for name, color in (("Bekliyor", "#00ff00"), ("Acil", "#ff0000"))
    ]
    await shop.agent.put(
        f"/wa/chats/{jid(PLAIN)}/labels", json={"labelIds": labels}, params=box.params
    )
    await shop.agent.put(
        f"/wa/chats/{jid(ASSIGNED)}/assignment",
        json={"providerSessionId": box.psid, "assigneeType": "group", "assigneeId": group["id"]},
    )

    rows = {row["remoteJid"]: row for row in await pages(shop.viewer, box.psid)}
    assert set(rows) == {jid(LINKED), jid(PLAIN), jid(ASSIGNED)}
    link = rows[jid(LINKED)]["customerLink"]
    assert link["customer"]["id"] == customer["id"] and link["source"] == "identity"
    assert rows[jid(PLAIN)]["customerLink"] is None
    assert [label["name"] for label in rows[jid(PLAIN)]["labels"]] == ["Acil", "Bekliyor"]
    assert rows[jid(PLAIN)]["assignment"] is None
    assert rows[jid(ASSIGNED)]["assignment"]["assignee"] == {
        "type": "group",
        "id": group["id"],
        "name": "Satış",
    }
    assert rows[jid(ASSIGNED)]["customerLink"] is None and rows[jid(ASSIGNED)]["labels"] == []

    # Another account: its own chats only, and neither sees the other's session.
    assert [r["remoteJid"] for r in await pages(partner, theirs.psid)] == [jid(THEIRS)]
    await partner.error("GET", "/wa/chats", 404, "session_not_found", params=box.params)
    await shop.viewer.error("GET", "/wa/chats", 404, "session_not_found", params=theirs.params)


async def test_a_shared_session_shows_the_partner_its_own_overlay(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    partner = Api(client, await register(client, name="Partner"))
    await shop.agent.customer("Ayşe Kaya", phones=[LINKED])
    box = await inbox(shop.owner)
    for phone in (LINKED, PLAIN):
        await box.customer_writes(phone)
    await run_jobs()
    label = (await shop.owner.post("/wa/labels", json={"name": "Acil", "color": "#ff0000"}))["id"]
    await shop.agent.put(
        f"/wa/chats/{jid(PLAIN)}/labels", json={"labelIds": [label]}, params=box.params
    )
    await shop.agent.put(
        f"/wa/chats/{jid(PLAIN)}/assignment",
        json={
            "providerSessionId": box.psid,
            "assigneeType": "user",
            "assigneeId": shop.agent.caller.user_id,
        },
    )
    await share_and_accept(client, shop.owner.caller, partner.caller, box.psid)

    ours = {row["remoteJid"]: row for row in await pages(shop.viewer, box.psid)}
    assert ours[jid(PLAIN)]["labels"][0]["id"] == label
    assert ours[jid(PLAIN)]["assignment"]["assignee"]["name"] == "Agent Member"
    assert ours[jid(LINKED)]["customerLink"] is not None
    seen = {row["remoteJid"]: row for row in await pages(partner, box.psid)}
    assert set(seen) == set(ours)
    for row in seen.values():
        assert row["labels"] == [] and row["assignment"] is None and row["customerLink"] is None

    # The partner binds the whole inbox to a customer of its own: every chat shows it there,
    # and nothing changes for the owner's account.
    dealer = await partner.customer("Bayi İzmir")
    await partner.put(
        f"/crm/inbox-links/whatsapp/{box.psid}",
        json={"customerId": dealer["id"], "entityVersion": "0"},
    )
    for row in await pages(partner, box.psid):
        assert row["customerLink"]["customer"]["id"] == dealer["id"]
        assert row["customerLink"]["source"] == "inbox"
    assert {row["remoteJid"]: row for row in await pages(shop.viewer, box.psid)} == ours
