"""Conversations as an integration uses them: created for a website's visitor, listed with
every filter, read, taken over by a person, and invisible to every other account."""

from __future__ import annotations

import uuid

import httpx

from tests.conversations.helpers import (
    Api,
    agent,
    assert_error,
    conversation,
    events,
    new_api,
    send,
)
from tests.helpers import add_member


async def test_an_api_conversation_is_created_for_a_new_visitor(client: httpx.AsyncClient) -> None:
    api = await new_api(client)
    made = await conversation(
        api,
        type="widget",
        channelIdentifier="example.com",
        language="tr",
        customer={"externalId": "website_user_123", "name": "Jane Customer"},
    )
    assert made["type"] == "widget"
    assert made["status"] == "open"
    assert made["aiEnabled"] is True
    assert made["agentId"] is None
    assert made["messageCount"] == 0
    assert made["totalCost"] == "0"
    assert made["language"] == "tr"
    assert made["channelIdentifier"] == "example.com"
    assert made["customer"]["title"] == "Jane Customer"
    assert made["channel"] == {
        "providerSessionId": None,
        "remoteJid": None,
        "assetId": None,
        "threadId": None,
    }
    assert made["lastMessageAt"] is None
    customer = await api.get(f"/crm/customers/{made['customerId']}")
    assert customer["type"] == "person"
    mappings = await api.get("/crm/identity-mappings", params={"channel": "external"})
    assert [(m["scope"], m["value"]) for m in mappings["rows"]] == [
        ("conversations", "website_user_123")
    ]
    detail = await api.get(f"/conversations/{made['id']}")
    assert detail == made
    [created] = await events(api.caller.account_id, "conversation.created")
    assert created["data"]["id"] == made["id"] and created["data"]["type"] == "widget"


async def test_channel_conversations_cannot_be_created_through_the_api(
    client: httpx.AsyncClient,
) -> None:
    api = await new_api(client)
    for kind in ("whatsapp", "meta", "instagram", "test"):
        response = await api.response("POST", "/conversations", json={"type": kind})
        assert_error(response, 422)
    both = await api.response(
        "POST",
        "/conversations",
        json={"customerId": str(uuid.uuid4()), "customer": {"externalId": "x"}},
    )
    assert_error(both, 422)
    unknown = await api.response("POST", "/conversations", json={"customerId": str(uuid.uuid4())})
    assert_error(unknown, 404)


async def test_the_list_filters_combine_and_pages_go_newest_first(
    client: httpx.AsyncClient,
) -> None:
    api = await new_api(client)
    customer = await api.post("/crm/customers", json={"title": "Acme"})
    agent_id = await agent(api)
    widget = await conversation(api, type="widget", agentId=agent_id)
    plain = await conversation(api, customerId=customer["id"])
    third = await conversation(api, aiEnabled=False)
    await api.patch(f"/conversations/{third['id']}", json={"status": "closed"})

    async def ids(**params: object) -> list[str]:
        page = await api.get("/conversations", params=params)
        return [row["id"] for row in page["rows"]]

    assert await ids() == [third["id"], plain["id"], widget["id"]]
    assert await ids(type="widget") == [widget["id"]]
    assert await ids(type="whatsapp") == []
    assert await ids(agentId=agent_id) == [widget["id"]]
    assert await ids(customerId=customer["id"]) == [plain["id"]]
    assert await ids(status="closed") == [third["id"]]
    assert await ids(status="open") == [plain["id"], widget["id"]]
    assert await ids(aiEnabled="false") == [third["id"]]
    today = widget["createdAt"][:10]
    assert await ids(dateFrom=today, dateTo=today) == [third["id"], plain["id"], widget["id"]]
    assert await ids(dateFrom="2999-01-01") == []
    assert await ids(dateTo="2000-01-01") == []

    first = await api.get("/conversations", params={"limit": 2})
    assert [r["id"] for r in first["rows"]] == [third["id"], plain["id"]]
    assert first["hasMore"] is True
    rest = await api.get("/conversations", params={"limit": 2, "cursor": first["nextCursor"]})
    assert [r["id"] for r in rest["rows"]] == [widget["id"]]
    assert rest["hasMore"] is False and rest["nextCursor"] is None
    assert_error(await api.response("GET", "/conversations", params={"cursor": "nope"}), 400)
    assert_error(await api.response("GET", "/conversations", params={"type": "fax"}), 422)


async def test_a_person_takes_a_conversation_over_from_the_ai(client: httpx.AsyncClient) -> None:
    api = await new_api(client)
    member = await add_member(client, api.caller, "agent")
    group = await api.post("/crm/groups", json={"name": "Destek"})
    made = await conversation(api)
    taken = await api.patch(
        f"/conversations/{made['id']}",
        json={"aiEnabled": False, "assignee": {"type": "user", "id": member.user_id}},
    )
    assert taken["aiEnabled"] is False
    assert taken["assignee"] == {"userId": member.user_id, "groupId": None}
    to_group = await api.patch(
        f"/conversations/{made['id']}", json={"assignee": {"type": "group", "id": group["id"]}}
    )
    assert to_group["assignee"] == {"userId": None, "groupId": group["id"]}
    closed = await api.patch(f"/conversations/{made['id']}", json={"status": "closed"})
    assert closed["status"] == "closed" and closed["aiEnabled"] is False
    cleared = await api.patch(f"/conversations/{made['id']}", json={"assignee": None})
    assert cleared["assignee"] == {"userId": None, "groupId": None}
    updates = await events(api.caller.account_id, "conversation.updated")
    assert [u["data"]["changed"] for u in updates] == [
        ["aiEnabled", "assignee"],
        ["assignee"],
        ["status"],
        ["assignee"],
    ]
    # Nothing changed: no event.
    await api.patch(f"/conversations/{made['id']}", json={"status": "closed"})
    assert len(await events(api.caller.account_id, "conversation.updated")) == 4

    stranger = await new_api(client, "Other")
    their_agent = await agent(stranger)
    foreign_agent = await api.response(
        "PATCH", f"/conversations/{made['id']}", json={"agentId": their_agent}
    )
    assert_error(foreign_agent, 404, "agent_not_found")
    assert_error(
        await api.response("POST", "/conversations", json={"agentId": their_agent}),
        404,
        "agent_not_found",
    )
    own_agent = await agent(api)
    assigned = await api.patch(f"/conversations/{made['id']}", json={"agentId": own_agent})
    assert assigned["agentId"] == own_agent
    other_group = await stranger.post("/crm/groups", json={"name": "Diğer"})
    response = await api.response(
        "PATCH",
        f"/conversations/{made['id']}",
        json={"assignee": {"type": "group", "id": other_group["id"]}},
    )
    assert_error(response, 404)
    outsider = await api.response(
        "PATCH",
        f"/conversations/{made['id']}",
        json={"assignee": {"type": "user", "id": stranger.caller.user_id}},
    )
    assert_error(outsider, 404)


async def test_a_viewer_reads_but_cannot_write(client: httpx.AsyncClient) -> None:
    api = await new_api(client)
    viewer = Api(client, await add_member(client, api.caller, "viewer"))
    made = await conversation(api)
    assert (await viewer.get(f"/conversations/{made['id']}"))["id"] == made["id"]
    assert_error(await viewer.response("POST", "/conversations", json={"type": "api"}), 403)
    assert_error(
        await viewer.response(
            "POST", f"/conversations/{made['id']}/messages", json={"content": {"en": "x"}}
        ),
        403,
    )
    assert_error(
        await viewer.response("PATCH", f"/conversations/{made['id']}", json={"status": "closed"}),
        403,
    )


async def test_another_accounts_conversation_is_a_404_everywhere(
    client: httpx.AsyncClient,
) -> None:
    owner = await new_api(client, "Owner")
    stranger = await new_api(client, "Stranger")
    made = await conversation(owner, customer={"externalId": "v-1", "name": "Visitor"})
    sent = await send(owner, made["id"], content={"en": "Hello"})
    base = f"/conversations/{made['id']}"
    for method, url, body in (
        ("GET", base, None),
        ("PATCH", base, {"status": "closed"}),
        ("GET", f"{base}/history", None),
        ("GET", f"{base}/messages", None),
        ("POST", f"{base}/messages", {"content": {"en": "x"}}),
    ):
        response = await stranger.response(method, url, json=body)
        assert_error(response, 404, "not_found")
        assert made["id"] not in response.text
    own = await conversation(stranger)
    reply = await stranger.response(
        "POST",
        f"/conversations/{own['id']}/messages",
        json={"content": {"en": "x"}, "parentId": sent["message"]["id"]},
    )
    assert_error(reply, 404)
    assert [r["id"] for r in (await stranger.get("/conversations"))["rows"]] == [own["id"]]
    filtered = await stranger.get("/conversations", params={"customerId": made["customerId"]})
    assert filtered["rows"] == []
    untouched = await owner.get(base)
    assert untouched["status"] == "open" and untouched["messageCount"] == 1
