"""A WhatTalk client pointed at Ticaret: the conversation list and the history answer in the
exact shapes of WhatTalk's documentation (seeds 001 and 002), with an API account's key and
secret as its Bearer token."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.conversations.helpers import Api, agent, conversation, new_api, send

BASE = "http://testserver/compat/whattalk/user/conversations"
ITEM_KEYS = [
    "id",
    "assistant_id",
    "assistant_name",
    "type",
    "message_count",
    "total_cost",
    "ai_enabled",
    "created_at",
    "updated_at",
]
PAGE_KEYS = [
    "current_page",
    "data",
    "first_page_url",
    "from",
    "last_page",
    "last_page_url",
    "links",
    "next_page_url",
    "path",
    "per_page",
    "prev_page_url",
    "to",
    "total",
]


async def whattalk_token(api: Api) -> dict[str, str]:
    made = await api.post(
        f"/accounts/{api.caller.account_id}/api-accounts", json={"name": "WhatTalk client"}
    )
    return {"Authorization": f"Bearer {made['key']}:{made['secret']}"}


async def listing(client: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get("/compat/whattalk/user/conversations", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _conversations(api: Api, count: int) -> list[str]:
    """`count` api conversations, newest last; returned newest first (the list's order)."""
    made = [(await conversation(api))["id"] for _ in range(count)]
    return list(reversed(made))


async def test_the_list_has_laravels_paginator_keys_and_whattalks_item_keys(
    client: httpx.AsyncClient,
) -> None:
    from ticaret.conversations.service.messages import post_message
    from ticaret.core.db import unit_of_work

    api = await new_api(client)
    auth = await whattalk_token(api)
    agent_id = await agent(api, "Support Assistant")
    chat = await conversation(api, type="widget", agentId=agent_id)
    await send(api, chat["id"], sender="customer", content={"en": "Hi"})
    async with unit_of_work() as session:
        await post_message(
            session,
            account_id=uuid.UUID(api.caller.account_id),
            conversation_id=uuid.UUID(chat["id"]),
            role="assistant",
            sender="workspace",
            content={"en": "Hello! How can I help you today?"},
            cost=Decimal("0.0045"),
        )
    body = await listing(client, auth)
    assert list(body) == PAGE_KEYS
    [item] = body["data"]
    assert list(item) == ITEM_KEYS
    assert item["id"] == chat["id"]
    assert item["assistant_id"] == agent_id
    assert item["assistant_name"] == "Support Assistant"
    assert item["type"] == "widget"
    assert item["message_count"] == 2 and isinstance(item["message_count"], int)
    assert item["total_cost"] == 0.0045 and isinstance(item["total_cost"], float)
    assert item["ai_enabled"] is True
    for key in ("created_at", "updated_at"):
        parsed = datetime.strptime(item[key], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        assert abs(parsed - datetime.now(UTC)) < timedelta(minutes=5)
    assert item["created_at"] == chat["createdAt"][:19].replace("T", " ")
    assert body == {
        "current_page": 1,
        "data": [item],
        "first_page_url": f"{BASE}?page=1",
        "from": 1,
        "last_page": 1,
        "last_page_url": f"{BASE}?page=1",
        "links": [
            {"url": None, "label": "« Previous", "active": False},
            {"url": f"{BASE}?page=1", "label": "1", "active": True},
            {"url": None, "label": "Next »", "active": False},
        ],
        "next_page_url": None,
        "path": BASE,
        "per_page": 15,
        "prev_page_url": None,
        "to": 1,
        "total": 1,
    }


async def test_pages_count_like_laravel(client: httpx.AsyncClient) -> None:
    api = await new_api(client)
    auth = await whattalk_token(api)
    ids = await _conversations(api, 17)

    default = await listing(client, auth)
    assert default["per_page"] == 15 and default["last_page"] == 2
    assert [row["id"] for row in default["data"]] == ids[:15]
    assert (default["from"], default["to"], default["total"]) == (1, 15, 17)

    second = await listing(client, auth, per_page=5, page=2)
    assert [row["id"] for row in second["data"]] == ids[5:10]
    assert (second["current_page"], second["from"], second["to"]) == (2, 6, 10)
    assert (second["last_page"], second["total"], second["per_page"]) == (4, 17, 5)
    assert second["prev_page_url"] == f"{BASE}?page=1"
    assert second["next_page_url"] == f"{BASE}?page=3"
    assert second["last_page_url"] == f"{BASE}?page=4"
    assert [(link["label"], link["active"]) for link in second["links"]] == [
        ("« Previous", False),
        ("1", False),
        ("2", True),
        ("3", False),
        ("4", False),
        ("Next »", False),
    ]
    last = await listing(client, auth, per_page=5, page=4)
    assert [row["id"] for row in last["data"]] == ids[15:]
    assert (last["from"], last["to"], last["next_page_url"]) == (16, 17, None)
    beyond = await listing(client, auth, per_page=5, page=9)
    assert beyond["data"] == [] and beyond["from"] is None and beyond["to"] is None
    assert beyond["current_page"] == 9 and beyond["prev_page_url"] == f"{BASE}?page=8"
    # Laravel reads a page that is not a whole number from 1 up as the first page.
    for page in ("0", "-3", "abc"):
        assert (await listing(client, auth, per_page=5, page=page))["current_page"] == 1
    every = await listing(client, auth, per_page=100)
    assert len(every["data"]) == 17 and every["last_page"] == 1


async def test_many_pages_are_linked_through_laravels_window(client: httpx.AsyncClient) -> None:
    api = await new_api(client)
    auth = await whattalk_token(api)
    await _conversations(api, 20)

    def labels(body: dict[str, Any]) -> list[str]:
        return [link["label"] for link in body["links"]][1:-1]

    # 20 pages of one: the window slides with the current page, `...` between its parts.
    start = await listing(client, auth, per_page=1, page=1)
    assert labels(start) == [*map(str, range(1, 11)), "...", "19", "20"]
    middle = await listing(client, auth, per_page=1, page=10)
    assert labels(middle) == ["1", "2", "...", "7", "8", "9", "10", "11", "12", "13", "...",
                              "19", "20"]  # fmt: skip
    end = await listing(client, auth, per_page=1, page=18)
    assert labels(end) == ["1", "2", "...", *map(str, range(11, 21))]
    dots = [link for link in middle["links"] if link["label"] == "..."]
    assert dots == [{"url": None, "label": "...", "active": False}] * 2
    [current] = [link for link in middle["links"] if link["active"]]
    assert current == {"url": f"{BASE}?page=10", "label": "10", "active": True}


async def test_the_filters_of_whattalks_list(client: httpx.AsyncClient) -> None:
    api = await new_api(client)
    auth = await whattalk_token(api)
    agent_id = await agent(api)
    widget = await conversation(api, type="widget", agentId=agent_id)
    plain = await conversation(api)

    async def ids(**params: Any) -> list[str]:
        return [row["id"] for row in (await listing(client, auth, **params))["data"]]

    assert await ids(type="widget") == [widget["id"]]
    assert await ids(type="api") == [plain["id"]]
    assert await ids(type="whatsapp") == []
    assert await ids(assistant_id=agent_id) == [widget["id"]]
    today = datetime.now(UTC).date().isoformat()
    assert await ids(date_from=today, date_to=today) == [plain["id"], widget["id"]]
    assert await ids(date_from="2999-01-01") == []
    assert await ids(date_to="2000-01-01") == []
    filtered = await listing(client, auth, type="widget", per_page=10)
    assert filtered["total"] == 1 and filtered["per_page"] == 10


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": "0"},
        {"per_page": "101"},
        {"per_page": "many"},
        {"type": "fax"},
        {"assistant_id": "not-an-id"},
        {"date_from": "25/01/2025"},
        {"date_to": "2025-13-01"},
    ],
)
async def test_invalid_parameters_answer_in_whattalks_error_shape(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    api = await new_api(client)
    auth = await whattalk_token(api)
    response = await client.get("/compat/whattalk/user/conversations", params=params, headers=auth)
    assert response.status_code == 422
    body = response.json()
    assert list(body) == ["status", "error"]
    assert body["status"] is False and isinstance(body["error"], str) and body["error"]


async def test_the_history_has_whattalks_shape_with_function_calls(
    client: httpx.AsyncClient,
) -> None:
    from ticaret.conversations.service.messages import post_message
    from ticaret.core.db import unit_of_work

    api = await new_api(client)
    auth = await whattalk_token(api)
    chat = await conversation(api, type="widget")
    account_id, conversation_id = uuid.UUID(api.caller.account_id), uuid.UUID(chat["id"])

    async def assistant(text: str, calls: list[dict[str, Any]] | None = None) -> None:
        async with unit_of_work() as session:
            await post_message(
                session,
                account_id=account_id,
                conversation_id=conversation_id,
                role="assistant",
                sender="workspace",
                content={"en": text},
                function_calls=calls,
            )

    calendar = [
        {
            "name": "check_calendar_availability",
            "arguments": {"date_range": "next_7_days"},
            "result": {"available_slots": ["2025-01-10 14:00", "2025-01-12 10:00"]},
        }
    ]
    booking = [
        {
            "name": "book_appointment",
            "arguments": {"datetime": "2025-01-12T10:00:00", "title": "Product Demo"},
            "result": {"success": True, "booking_id": "abc123"},
        }
    ]
    await assistant("Hello! Welcome to our support. How can I help you today?")
    await send(api, chat["id"], sender="customer", content={"en": "I'd like to schedule a demo"})
    await assistant("I have availability tomorrow at 2 PM or Thursday at 10 AM.", calendar)
    await send(api, chat["id"], sender="customer", content={"en": "Thursday at 10 AM works"})
    await assistant("I've scheduled your demo for Thursday at 10 AM.", booking)

    response = await client.get(f"/compat/whattalk/conversations/{chat['id']}", headers=auth)
    assert response.status_code == 200
    assert response.json() == {
        "status": True,
        "history": [
            {
                "role": "assistant",
                "content": "Hello! Welcome to our support. How can I help you today?",
            },
            {"role": "user", "content": "I'd like to schedule a demo"},
            {
                "role": "assistant",
                "content": "I have availability tomorrow at 2 PM or Thursday at 10 AM.",
                "function_calls": calendar,
            },
            {"role": "user", "content": "Thursday at 10 AM works"},
            {
                "role": "assistant",
                "content": "I've scheduled your demo for Thursday at 10 AM.",
                "function_calls": booking,
            },
        ],
    }
    # A person's reply is the assistant's turn in WhatTalk's two-speaker history.
    await send(api, chat["id"], content={"en": "A colleague here."})
    history = (
        await client.get(f"/compat/whattalk/conversations/{chat['id']}", headers=auth)
    ).json()["history"]
    assert history[-1] == {"role": "assistant", "content": "A colleague here."}


async def test_unknown_and_foreign_conversations_are_not_found(client: httpx.AsyncClient) -> None:
    owner = await new_api(client, "Owner")
    stranger = await new_api(client, "Stranger")
    auth = await whattalk_token(stranger)
    theirs = await conversation(owner)
    await send(owner, theirs["id"], content={"en": "secret"})
    for target in (theirs["id"], str(uuid.uuid4()), "not-a-uuid"):
        response = await client.get(f"/compat/whattalk/conversations/{target}", headers=auth)
        assert response.status_code == 404
        assert response.json() == {"status": False, "error": "Conversation not found"}
    listed = await listing(client, auth)
    assert listed["data"] == [] and listed["total"] == 0
    assert listed["last_page"] == 1 and listed["from"] is None


async def test_without_the_right_key_and_secret_the_answer_is_401(
    client: httpx.AsyncClient,
) -> None:
    api = await new_api(client)
    auth = await whattalk_token(api)
    made = await conversation(api)
    key, _, secret = auth["Authorization"].removeprefix("Bearer ").partition(":")
    for headers in (
        {},
        {"Authorization": f"Bearer {key}"},
        {"Authorization": f"Bearer {key}:wrong-secret"},
        {"Authorization": f"Bearer :{secret}"},
        {"Authorization": f"Basic {key}:{secret}"},
        # A user's access token is not WhatTalk's credential.
        api.caller.headers,
    ):
        for url in (
            "/compat/whattalk/user/conversations",
            f"/compat/whattalk/conversations/{made['id']}",
        ):
            response = await client.get(url, headers=headers)
            assert response.status_code == 401, (headers, url, response.text)
            assert response.json() == {"status": False, "error": "Unauthenticated."}
    revoked = await api.post(
        f"/accounts/{api.caller.account_id}/api-accounts", json={"name": "Old"}
    )
    await api.post(
        f"/accounts/{api.caller.account_id}/api-accounts/{revoked['id']}/revoke", expect=200
    )
    gone = await client.get(
        "/compat/whattalk/user/conversations",
        headers={"Authorization": f"Bearer {revoked['key']}:{revoked['secret']}"},
    )
    assert gone.status_code == 401


async def test_the_credential_is_documented_in_the_openapi_security_scheme(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["WhatTalkBearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert "<apiKey>:<apiSecret>" in scheme["description"]
    for path in ("/compat/whattalk/user/conversations", "/compat/whattalk/conversations/{uuid}"):
        operation = spec["paths"][path]["get"]
        assert operation["security"] == [{"WhatTalkBearer": []}]
        assert "401" in operation["responses"]
