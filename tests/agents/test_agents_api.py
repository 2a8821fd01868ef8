"""`/ai/agents` as an admin, a viewer and another account use it: defaults from the AI
settings, changes guarded by entityVersion, soft delete, inboxes and groups checked, and
another account's agents and runs not found anywhere."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from tests.agents.helpers import (
    answers,
    chat_route,
    chat_with,
    completion,
    create_agent,
    open_shop,
)
from tests.helpers import add_member, assert_error
from tests.wa.helpers import create_session

ALL_TOOLS = [
    "search_products",
    "get_product",
    "check_stock",
    "create_order_draft",
    "get_order_status",
    "lookup_customer",
    "handoff_to_human",
]


async def test_an_agent_is_created_with_defaults_from_the_ai_settings(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_shop(client, catalog=False)
    agent = await create_agent(shop)
    assert agent["model"] is None and agent["resolvedModel"] == "gpt-4o-mini"
    assert agent["tools"] == ALL_TOOLS and agent["channels"] == []
    assert agent["maxSteps"] == 5 and agent["temperature"] is None
    assert agent["handoffRules"] == {
        "keywords": [],
        "onHumanRequest": True,
        "lowConfidence": True,
    }
    assert agent["entityVersion"] == "1"
    # The settings' model moves every agent that did not pick its own.
    await shop.call("PUT", "/ai/settings", json={"model": "gpt-4.1-mini"})
    again = await shop.call("GET", f"/ai/agents/{agent['id']}")
    assert again["resolvedModel"] == "gpt-4.1-mini"
    listed = await shop.call("GET", "/ai/agents")
    assert [row["id"] for row in listed["rows"]] == [agent["id"]]


async def test_an_agent_is_changed_with_its_entity_version_and_soft_deleted(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client, catalog=False)
    group = await shop.call("POST", "/crm/groups", json={"name": "Satış"}, expect=201)
    agent = await create_agent(shop, model="gpt-4o", temperature=0.7)
    changed = await shop.call(
        "PATCH",
        f"/ai/agents/{agent['id']}",
        json={
            "entityVersion": "1",
            "model": None,
            "tools": ["search_products", "handoff_to_human", "search_products"],
            "handoffGroupId": group["id"],
            "handoffRules": {"keywords": ["iade"], "onHumanRequest": False},
            "channels": [{"type": "widget"}],
            "maxSteps": 3,
        },
    )
    assert changed["model"] is None and changed["resolvedModel"] == "gpt-4o-mini"
    assert changed["temperature"] == 0.7  # left out: kept
    assert changed["tools"] == ["search_products", "handoff_to_human"]
    assert changed["handoffGroupId"] == group["id"]
    assert changed["handoffRules"]["keywords"] == ["iade"]
    assert changed["channels"] == [{"type": "widget", "channelId": None}]
    assert changed["entityVersion"] == "2"
    stale = await shop.request(
        "PATCH", f"/ai/agents/{agent['id']}", json={"name": "X", "entityVersion": "1"}
    )
    assert assert_error(stale, 409, "version_conflict")["details"] == {"currentEntityVersion": "2"}

    chat_route(openai_api).side_effect = answers(completion("Merhaba!"))
    started = await chat_with(shop, agent["id"], "Merhaba")
    await run_jobs()
    deleted = await shop.call("DELETE", f"/ai/agents/{agent['id']}")
    assert deleted == {"deleted": True}
    assert_error(await shop.request("GET", f"/ai/agents/{agent['id']}"), 404, "agent_not_found")
    assert (await shop.call("GET", "/ai/agents"))["rows"] == []
    # Its runs stay readable.
    run = await shop.call("GET", f"/ai/runs/{started['run']['id']}")
    assert run["status"] == "completed"


async def test_bad_agents_are_refused_with_a_clear_error(client: httpx.AsyncClient) -> None:
    shop = await open_shop(client, catalog=False)
    other = await open_shop(client, catalog=False)
    foreign_group = await other.call("POST", "/crm/groups", json={"name": "X"}, expect=201)
    foreign_session = await create_session(client, other.owner)

    for body, status, code in [
        ({"name": "A", "maxSteps": 0}, 422, "validation_error"),
        ({"name": "A", "maxSteps": 21}, 422, "validation_error"),
        ({"name": "A", "tools": ["delete_everything"]}, 422, "validation_error"),
        ({"name": "A", "temperature": 3}, 422, "validation_error"),
        ({"name": " "}, 422, "validation_error"),
        ({"name": "A", "channels": [{"type": "fax"}]}, 422, "validation_error"),
        ({"name": "A", "handoffGroupId": foreign_group["id"]}, 404, "handoff_group_not_found"),
        (
            {
                "name": "A",
                "channels": [
                    {"type": "whatsapp", "channelId": foreign_session["providerSessionId"]}
                ],
            },
            404,
            "agent_channel_not_found",
        ),
        (
            {"name": "A", "channels": [{"type": "meta", "channelId": "not-an-asset"}]},
            404,
            "agent_channel_not_found",
        ),
    ]:
        response = await shop.request("POST", "/ai/agents", json=body)
        assert_error(response, status, code)
    assert (await shop.call("GET", "/ai/agents"))["rows"] == []

    own_session = await create_session(client, shop.owner)
    agent = await create_agent(
        shop,
        channels=[{"type": "whatsapp", "channelId": own_session["providerSessionId"]}],
    )
    assert agent["channels"][0]["channelId"] == own_session["providerSessionId"]
    empty = await shop.request("POST", f"/ai/agents/{agent['id']}/test", json={"content": " "})
    assert_error(empty, 422, "validation_error")


async def test_only_admins_shape_agents_and_viewers_read_them(client: httpx.AsyncClient) -> None:
    shop = await open_shop(client, catalog=False)
    agent = await create_agent(shop)
    viewer = await add_member(client, shop.owner, "viewer")
    headers = {**viewer.headers, "x-account-id": shop.owner.account_id}
    read = await client.get(f"/ai/agents/{agent['id']}", headers=headers)
    assert read.status_code == 200
    refused = await client.post("/ai/agents", json={"name": "B"}, headers=headers)
    assert_error(refused, 403)
    test = await client.post(
        f"/ai/agents/{agent['id']}/test", json={"content": "x"}, headers=headers
    )
    assert_error(test, 403)


async def test_another_accounts_agents_and_runs_are_not_found(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    victim = await open_shop(client, catalog=False)
    attacker = await open_shop(client, catalog=False)
    agent = await create_agent(victim)
    chat_route(openai_api).side_effect = answers(completion("Merhaba!"))
    started = await chat_with(victim, agent["id"], "Merhaba")
    await run_jobs()
    run_id = started["run"]["id"]

    for method, url, body in [
        ("GET", f"/ai/agents/{agent['id']}", None),
        ("PATCH", f"/ai/agents/{agent['id']}", {"name": "Mine now"}),
        ("DELETE", f"/ai/agents/{agent['id']}", None),
        ("POST", f"/ai/agents/{agent['id']}/test", {"content": "Merhaba"}),
        ("GET", f"/ai/agents/{agent['id']}/runs", None),
    ]:
        response = await attacker.request(method, url, json=body)
        assert_error(response, 404, "agent_not_found")
    assert_error(await attacker.request("GET", f"/ai/runs/{run_id}"), 404, "agent_run_not_found")
    # Going on with the victim's test conversation through the attacker's own agent: not found.
    own = await create_agent(attacker)
    response = await attacker.request(
        "POST",
        f"/ai/agents/{own['id']}/test",
        json={"content": "Merhaba", "conversationId": started["conversationId"]},
    )
    assert_error(response, 404, "test_conversation_not_found")
    assert (await attacker.call("GET", "/ai/agents"))["rows"] == [own]
    # Nothing of the victim's changed.
    assert (await victim.call("GET", f"/ai/agents/{agent['id']}"))["name"] == "Satış asistanı"
