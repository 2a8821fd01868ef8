"""A chat's message list reads the session, the chat and the page with each message's labels,
the calling account's assignments (the message's own, else its chat's) and whether a customer
of that account may own the page in one statement (the fast lane). A page a customer may own
is built by the FastAPI route, which shows the `customerLink`; another account's labels and
assignments never show, and another account's chat is not found. Every answer is compared
with the route's (a no-op filter sends the request there)."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.crm.helpers import Api, inbox, jid, register, team
from tests.crm.test_group_chats import GROUP, group_message
from tests.wa.helpers import share_and_accept

LINKED = "905551112233"
PLAIN = "905554445566"
THEIRS = "905550001122"


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The chats whose message list the FastAPI route built (the fast lane gave way)."""
    from ticaret.wa.service import messages as service

    built = service.list_messages
    seen: list[str] = []

    async def building(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[2])
        return await built(*args, **kwargs)

    monkeypatch.setattr(service, "list_messages", building)
    return seen


async def pages(api: Api, psid: str, remote_jid: str) -> list[dict[str, Any]]:
    """Every message, one per page (each after a cursor), then all on one page; the route
    must answer the same pages."""
    url = f"/wa/chats/{remote_jid}/messages"
    params = {"providerSessionId": psid, "limit": "1"}
    fast = await api.all_rows(url, **params)
    assert fast == await api.all_rows(url, **params, labelMode="any")
    assert (await api.get(url, params={"providerSessionId": psid}))["rows"] == fast
    return fast


async def test_each_message_shows_its_labels_and_own_or_chat_assignment(
    client: httpx.AsyncClient, run_jobs: Any, routed: list[str]
) -> None:
    shop = await team(client)
    group = await shop.owner.post("/crm/groups", json={"name": "Satış"})
    box = await inbox(shop.owner)
    first = await box.customer_writes(PLAIN, "Merhaba")
    second = await box.customer_writes(PLAIN, "Fiyat nedir?")
    await box.customer_writes(PLAIN, "Kargo?")
    await run_jobs()
    labels = [
        (await shop.owner.post("/wa/labels", json={"name": name, "color": color}))["id"]
        for name, color in (("Bekliyor", "#00ff00"), ("Acil", "#ff0000"))
    ]
    url = f"/wa/chats/{jid(PLAIN)}"
    await shop.agent.put(
        f"{url}/messages/{first['messageId']}/labels",
        json={"labelIds": labels},
        params=box.params,
    )

    # No assignment yet: labels only.
    rows = {row["text"]: row for row in await pages(shop.viewer, box.psid, jid(PLAIN))}
    assert [label["name"] for label in rows["Merhaba"]["labels"]] == ["Acil", "Bekliyor"]
    assert rows["Merhaba"]["labels"][0] == {"id": labels[1], "name": "Acil", "color": "#ff0000"}
    assert all(row["assignment"] is None and row["customerLink"] is None for row in rows.values())
    assert rows["Kargo?"]["labels"] == []

    # The chat to a group, one message to a user: that one shows its own, the rest the chat's.
    await shop.agent.put(
        f"{url}/assignment",
        json={"assigneeType": "group", "assigneeId": group["id"]},
        params=box.params,
    )
    await shop.agent.put(
        f"{url}/messages/{second['messageId']}/assignment",
        json={"assigneeType": "user", "assigneeId": shop.agent.caller.user_id},
        params=box.params,
    )
    rows = {row["text"]: row for row in await pages(shop.viewer, box.psid, jid(PLAIN))}
    own = rows["Fiyat nedir?"]["assignment"]
    assert own["scope"] == "message" and own["assignedAt"]
    assert own["assignee"] == {
        "type": "user",
        "id": shop.agent.caller.user_id,
        "name": "Agent Member",
    }
    for text in ("Merhaba", "Kargo?"):
        assert rows[text]["assignment"]["scope"] == "chat"
        assert rows[text]["assignment"]["assignee"] == {
            "type": "group",
            "id": group["id"],
            "name": "Satış",
        }
    assert [label["id"] for label in rows["Merhaba"]["labels"]] == [labels[1], labels[0]]
    # The message's own assignment taken away: it follows its chat again.
    await shop.agent.delete(f"{url}/messages/{second['messageId']}/assignment", params=box.params)
    rows = {row["text"]: row for row in await pages(shop.viewer, box.psid, jid(PLAIN))}
    assert {row["assignment"]["scope"] for row in rows.values()} == {"chat"}
    # Only the no-op filter's requests went to the route: three pages of one, three times.
    assert len(routed) == 3 * 3


async def test_another_accounts_overlay_and_chats_are_not_shown(
    client: httpx.AsyncClient, run_jobs: Any, routed: list[str]
) -> None:
    shop = await team(client)
    partner = Api(client, await register(client, name="Partner"))
    stranger = Api(client, await register(client, name="Stranger"))
    box = await inbox(shop.owner)
    theirs = await inbox(partner)
    sent = await box.customer_writes(PLAIN, "Merhaba")
    await theirs.customer_writes(THEIRS, "Selam")
    await run_jobs()
    label = (await shop.owner.post("/wa/labels", json={"name": "Acil", "color": "#ff0000"}))["id"]
    url = f"/wa/chats/{jid(PLAIN)}"
    await shop.agent.put(
        f"{url}/messages/{sent['messageId']}/labels", json={"labelIds": [label]}, params=box.params
    )
    await shop.agent.put(
        f"{url}/assignment",
        json={"assigneeType": "user", "assigneeId": shop.agent.caller.user_id},
        params=box.params,
    )
    await share_and_accept(client, shop.owner.caller, partner.caller, box.psid)
    # The partner's own label on the same message and its own customer of the sender.
    theirs_label = (await partner.post("/wa/labels", json={"name": "Bayi", "color": "#0000ff"}))[
        "id"
    ]
    await partner.put(
        f"{url}/messages/{sent['messageId']}/labels",
        json={"labelIds": [theirs_label]},
        params=box.params,
    )

    [ours] = await pages(shop.viewer, box.psid, jid(PLAIN))
    assert [x["id"] for x in ours["labels"]] == [label]
    assert ours["assignment"]["assignee"]["name"] == "Agent Member"
    [seen] = await pages(partner, box.psid, jid(PLAIN))
    assert [x["id"] for x in seen["labels"]] == [theirs_label]
    assert seen["assignment"] is None and seen["customerLink"] is None
    assert {k: v for k, v in seen.items() if k not in ("labels", "assignment")} == {
        k: v for k, v in ours.items() if k not in ("labels", "assignment")
    }
    assert routed == [jid(PLAIN)] * 2  # the no-op filter's page, twice

    # The partner links a customer of its own: only its list shows it (by the route).
    dealer = await partner.customer("Bayi İzmir")
    await partner.put(f"{url}/customer-link", json={"customerId": dealer["id"]}, params=box.params)
    [linked] = await pages(partner, box.psid, jid(PLAIN))
    assert linked["customerLink"]["customer"]["id"] == dealer["id"]
    assert await pages(shop.viewer, box.psid, jid(PLAIN)) == [ours]

    # Not shared: no session; the partner's own chat is not in the shop's session.
    params = {"providerSessionId": box.psid}
    messages = f"{url}/messages"
    await stranger.error("GET", messages, 404, "session_not_found", params=params)
    await stranger.error("GET", messages, 404, "session_not_found", params={**params, "limit": "1"})
    await shop.viewer.error(
        "GET", f"/wa/chats/{jid(THEIRS)}/messages", 404, "chat_not_found", params=params
    )
    await shop.viewer.error(
        "GET", f"/wa/chats/{jid(THEIRS)}/messages", 404, "session_not_found", params=theirs.params
    )
    # A known chat's page past its end is an empty page, not a 404.
    from ticaret.core.envelope import encode_cursor

    past = {**params, "cursor": encode_cursor([datetime(2001, 1, 1, tzinfo=UTC), uuid.uuid4()])}
    empty = {"rows": [], "nextCursor": None, "hasMore": False}
    assert await shop.viewer.get(messages, params=past) == empty
    assert await shop.viewer.get(messages, params={**past, "labelMode": "any"}) == empty


async def test_a_chat_a_customer_owns_is_listed_by_the_route_with_its_link(
    client: httpx.AsyncClient, run_jobs: Any, routed: list[str]
) -> None:
    shop = await team(client)
    customer = await shop.agent.customer("Ayşe Kaya", phones=["0555 111 22 33"])
    box = await inbox(shop.owner)
    await box.customer_writes(LINKED, "Merhaba")
    await box.customer_writes(PLAIN, "Selam")
    await run_jobs()

    [row] = await pages(shop.viewer, box.psid, jid(LINKED))
    assert row["customerLink"]["customer"]["id"] == customer["id"]
    assert row["customerLink"]["source"] == "identity"
    assert routed == [jid(LINKED)] * 3  # every page, the fast lane's too
    routed.clear()
    [row] = await pages(shop.viewer, box.psid, jid(PLAIN))
    assert row["customerLink"] is None and len(routed) == 1  # the no-op filter's only

    # The whole inbox bound to a customer: every chat's page goes to the route.
    routed.clear()
    dealer = await shop.agent.customer("Bayi İzmir")
    await shop.owner.put(
        f"/crm/inbox-links/whatsapp/{box.psid}",
        json={"customerId": dealer["id"], "entityVersion": "0"},
    )
    [row] = await pages(shop.viewer, box.psid, jid(PLAIN))
    assert row["customerLink"]["customer"]["id"] == dealer["id"]
    assert row["customerLink"]["source"] == "inbox"
    assert routed == [jid(PLAIN)] * 3


async def test_a_group_message_whose_sender_is_mapped_is_listed_by_the_route(
    client: httpx.AsyncClient, run_jobs: Any, routed: list[str]
) -> None:
    shop = await team(client)
    partner = Api(client, await register(client, name="Partner"))
    ayse = await shop.agent.customer("Ayşe K.", phones=["0555 999 88 77"])
    box = await inbox(shop.owner)
    await box.gateway_posts(group_message(box.psid, "3EB0000000000001", "905559998877", "Stok?"))
    await box.gateway_posts(group_message(box.psid, "3EB0000000000002", "905551230000", "Fiyat?"))
    await run_jobs()
    # Another account sees the same group: no sender of its own is mapped.
    await share_and_accept(client, shop.owner.caller, partner.caller, box.psid)
    rows = await pages(partner, box.psid, GROUP)
    assert [r["customerLink"] for r in rows] == [None, None]
    assert len(routed) == 2  # the no-op filter's pages

    # In the shop, the page that shows the mapped sender's message gets its link.
    routed.clear()
    by_text = {r["text"]: r["customerLink"] for r in await pages(shop.viewer, box.psid, GROUP)}
    assert by_text["Stok?"]["customer"]["id"] == ayse["id"] and by_text["Fiyat?"] is None
    fiyat_alone = await shop.viewer.get(
        f"/wa/chats/{GROUP}/messages", params={**box.params, "limit": "1"}
    )
    assert [r["text"] for r in fiyat_alone["rows"]] == ["Fiyat?"]
    # The route built the pages showing "Stok?" (alone, and with "Fiyat?") and the no-op
    # filter's two; the newest page, "Fiyat?" alone, stayed in the fast lane both times.
    assert len(routed) == 2 + 2


async def test_a_sender_spelled_with_a_device_suffix_still_shows_its_customer(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    ayse = await shop.agent.customer("Ayşe K.", phones=["0555 999 88 77"])
    box = await inbox(shop.owner)
    message = group_message(box.psid, "3EB0000000000003", "905559998877", "Stok?")
    suffixed = copy.deepcopy(message)
    suffixed["payload"]["participant"] = "905559998877:12@c.us"
    suffixed["payload"]["_data"]["key"]["participant"] = "905559998877:12@s.whatsapp.net"
    await box.gateway_posts(suffixed)
    await run_jobs()
    [row] = await pages(shop.viewer, box.psid, GROUP)
    assert row["customerLink"]["customer"]["id"] == ayse["id"]
