"""The chat and message lists are written straight from rows (no response model built on the
way out): what they send must be exactly what their documented response models say, labels,
CRM assignment and customer link included."""

from __future__ import annotations

from typing import Any

import httpx

from tests.wa.helpers import CUSTOMER_JID, customer_wrote, headers
from ticaret.core.envelope import Envelope, Page
from ticaret.wa.schemas import ChatOut, MessageOut


def reads_back(model: Any, body: dict[str, Any]) -> None:
    parsed = Envelope[Page[model]].model_validate(body)  # type: ignore[valid-type]
    dumped = parsed.model_dump(mode="json", by_alias=True)
    for ours, theirs in zip(body["data"]["rows"], dumped["data"]["rows"], strict=True):
        assert {k: v for k, v in ours.items() if theirs.get(k) != v} == {}, theirs
    assert dumped == body


async def test_labelled_assigned_and_linked_rows_are_exactly_their_response_models(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, psid, inbound = await customer_wrote(client, run_jobs)
    q = {"providerSessionId": psid}
    label = await client.post(
        "/wa/labels", json={"name": "Acil", "color": "#ff0000"}, headers=headers(owner)
    )
    assert label.status_code == 201, label.text
    label_id = label.json()["data"]["id"]
    for url, body in (
        (f"/wa/chats/{CUSTOMER_JID}/labels", {"labelIds": [label_id]}),
        (f"/wa/chats/{CUSTOMER_JID}/messages/{inbound['messageId']}/labels", None),
    ):
        if body is None:
            done = await client.post(
                url, json={"labelId": label_id}, params=q, headers=headers(owner)
            )
        else:
            done = await client.put(url, json=body, params=q, headers=headers(owner))
        assert done.status_code in (200, 201), done.text
    assigned = await client.put(
        f"/wa/chats/{CUSTOMER_JID}/assignment",
        json={
            "providerSessionId": psid,
            "assigneeType": "user",
            "assigneeId": owner.user_id,
            "entityVersion": "0",
        },
        headers=headers(owner),
    )
    assert assigned.status_code == 200, assigned.text
    customer = await client.post(
        "/crm/customers", json={"title": "Acme Tekstil"}, headers=headers(owner)
    )
    assert customer.status_code == 201, customer.text
    linked = await client.put(
        f"/wa/chats/{CUSTOMER_JID}/customer-link",
        json={"providerSessionId": psid, "customerId": customer.json()["data"]["id"]},
        headers=headers(owner),
    )
    assert linked.status_code in (200, 201), linked.text

    chats = await client.get("/wa/chats", params=q, headers=headers(owner))
    assert chats.status_code == 200, chats.text
    reads_back(ChatOut, chats.json())
    [chat] = chats.json()["data"]["rows"]
    assert chat["labels"] and chat["assignment"] and chat["customerLink"]

    listed = await client.get(
        f"/wa/chats/{CUSTOMER_JID}/messages", params=q, headers=headers(owner)
    )
    assert listed.status_code == 200, listed.text
    reads_back(MessageOut, listed.json())
    [message] = listed.json()["data"]["rows"]
    assert message["labels"] and message["assignment"] and message["customerLink"]
    assert message["sourceTimestamp"].endswith("Z") and len(message["sourceTimestamp"]) == 24


async def both_paths(
    client: httpx.AsyncClient, url: str, caller: Any, psid: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The common request (served by the fast lane) and the same request with a no-op filter
    (`labelMode=any` is the default), which only the FastAPI route takes."""
    fast = await client.get(url, params={"providerSessionId": psid}, headers=headers(caller))
    full = await client.get(
        url, params={"providerSessionId": psid, "labelMode": "any"}, headers=headers(caller)
    )
    assert fast.status_code == full.status_code == 200, (fast.text, full.text)
    return fast.json(), full.json()


async def test_the_fast_lane_and_the_route_answer_alike(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, psid, inbound = await customer_wrote(client, run_jobs)
    urls = ["/wa/chats", f"/wa/chats/{CUSTOMER_JID}/messages"]
    for url in urls:
        fast, full = await both_paths(client, url, owner, psid)
        assert fast == full

    # Labels, then the chat's assignment (messages follow it), then one message's own.
    label = await client.post(
        "/wa/labels", json={"name": "Bekliyor", "color": "#00ff00"}, headers=headers(owner)
    )
    label_id = label.json()["data"]["id"]
    q = {"providerSessionId": psid}
    await client.put(
        f"/wa/chats/{CUSTOMER_JID}/labels",
        json={"labelIds": [label_id]},
        params=q,
        headers=headers(owner),
    )
    await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages/{inbound['messageId']}/labels",
        json={"labelId": label_id},
        params=q,
        headers=headers(owner),
    )
    chat_assigned = await client.put(
        f"/wa/chats/{CUSTOMER_JID}/assignment",
        json={"providerSessionId": psid, "assigneeType": "user", "assigneeId": owner.user_id},
        headers=headers(owner),
    )
    assert chat_assigned.status_code == 200, chat_assigned.text
    for url in urls:
        fast, full = await both_paths(client, url, owner, psid)
        assert fast == full
        assert fast["data"]["rows"][0]["assignment"]["scope"] == "chat"
        assert fast["data"]["rows"][0]["labels"][0]["id"] == label_id
    own = await client.put(
        f"/wa/chats/{CUSTOMER_JID}/messages/{inbound['messageId']}/assignment",
        json={
            "providerSessionId": psid,
            "assigneeType": "user",
            "assigneeId": owner.user_id,
            "entityVersion": "0",
        },
        headers=headers(owner),
    )
    assert own.status_code == 200, own.text
    fast, full = await both_paths(client, urls[1], owner, psid)
    assert fast == full
    assert fast["data"]["rows"][0]["assignment"]["scope"] == "message"
