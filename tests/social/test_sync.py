"""Sync: backfilling through Graph paging, and the usage headers holding the next call."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
import respx

from tests.helpers import add_member, assert_error, register
from tests.social.helpers import (
    GRAPH,
    IG_GRAPH,
    IG_ID,
    IGSID,
    PAGE_ID,
    PSID,
    connect_instagram,
    connect_page,
    headers,
    messages,
    query_of,
    threads,
)

POST_ID = f"{PAGE_ID}_700000000000001"


def _conversation(conversation_id: str, person: str, name: str) -> dict[str, Any]:
    return {
        "id": conversation_id,
        "updated_time": "2026-11-30T09:00:00+0000",
        "participants": {
            "data": [
                {"name": name, "email": f"{person}@facebook.com", "id": person},
                {"name": "Ayşe Butik", "email": f"{PAGE_ID}@facebook.com", "id": PAGE_ID},
            ]
        },
    }


def _graph_message(
    mid: str, sender: tuple[str, str], to: tuple[str, str], text: str, at: str
) -> dict[str, Any]:
    return {
        "id": mid,
        "created_time": at,
        "from": {"name": sender[1], "email": f"{sender[0]}@facebook.com", "id": sender[0]},
        "to": {"data": [{"name": to[1], "email": f"{to[0]}@facebook.com", "id": to[0]}]},
        "message": text,
    }


def _page(rows: list[dict[str, Any]], after: str | None) -> dict[str, Any]:
    paging: dict[str, Any] = {"cursors": {"before": "QVFIUmx1", "after": after or "QVFIUmxz"}}
    if after:
        paging["next"] = f"{GRAPH}/next?after={after}"
    return {"data": rows, "paging": paging}


def route_page_backfill(
    graph: respx.MockRouter, *, first_headers: dict[str, str] | None = None
) -> dict[str, Any]:
    times: list[float] = []

    def conversations(request: httpx.Request) -> httpx.Response:
        times.append(time.monotonic())
        params = query_of(request)
        assert params["platform"] == "messenger"
        if "after" not in params:
            # Only the very first answer reports the usage: later ones (after the hold) do not.
            return httpx.Response(
                200,
                json=_page([_conversation("t_1001", PSID, "Deniz Yılmaz")], "CONV_PAGE_2"),
                headers=(first_headers or {}) if len(times) == 1 else {},
            )
        assert params["after"] == "CONV_PAGE_2"
        return httpx.Response(
            200, json=_page([_conversation("t_1002", "24100000000000002", "Ali Kaya")], None)
        )

    page = (PAGE_ID, "Ayşe Butik")
    deniz, ali = (PSID, "Deniz Yılmaz"), ("24100000000000002", "Ali Kaya")
    return {
        "times": times,
        "conversations": graph.get(f"{GRAPH}/{PAGE_ID}/conversations").mock(
            side_effect=conversations
        ),
        "t1": graph.get(f"{GRAPH}/t_1001/messages").respond(
            200,
            json=_page(
                [
                    _graph_message("m_h2", page, deniz, "Buyrun", "2026-11-30T09:00:00+0000"),
                    _graph_message("m_h1", deniz, page, "Merhaba", "2026-11-30T08:59:00+0000"),
                ],
                None,
            ),
        ),
        "t2": graph.get(f"{GRAPH}/t_1002/messages").respond(
            200,
            json=_page(
                [_graph_message("m_h3", ali, page, "Fiyat?", "2026-11-29T10:00:00+0000")], None
            ),
        ),
        "posts": graph.get(f"{GRAPH}/{PAGE_ID}/posts").respond(
            200,
            json=_page(
                [
                    {
                        "id": POST_ID,
                        "message": "Kış koleksiyonu",
                        "created_time": "2026-11-28T12:00:00+0000",
                        "permalink_url": f"https://www.facebook.com/{POST_ID}",
                        "status_type": "added_photos",
                    }
                ],
                None,
            ),
        ),
        "comments": graph.get(f"{GRAPH}/{POST_ID}/comments").respond(
            200,
            json=_page(
                [
                    {
                        "id": "700000000000001_1",
                        "message": "Çok güzel",
                        "from": {"name": "Deniz Yılmaz", "id": PSID},
                        "created_time": "2026-11-28T13:00:00+0000",
                    },
                    {
                        "id": "700000000000001_2",
                        "message": "Teşekkürler!",
                        "from": {"name": "Ayşe Butik", "id": PAGE_ID},
                        "created_time": "2026-11-28T13:05:00+0000",
                        "parent": {"id": "700000000000001_1"},
                    },
                ],
                None,
            ),
        ),
    }


async def _sync(client: httpx.AsyncClient, owner: Any, base: str) -> dict[str, Any]:
    response = await client.post(f"{base}/sync", headers=headers(owner))
    assert response.status_code == 202, response.text
    return dict(response.json()["data"]["operation"])


async def _operation(
    client: httpx.AsyncClient, owner: Any, base: str, op_id: str
) -> dict[str, Any]:
    response = await client.get(f"{base}/operations/{op_id}", headers=headers(owner))
    return dict(response.json()["data"])


async def test_a_sync_backfills_conversations_messages_posts_and_comments(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    routes = route_page_backfill(graph)
    base = f"/meta/assets/{asset['id']}"
    operation = await _sync(client, owner, base)
    assert operation["kind"] == "sync"
    again = await _sync(client, owner, base)
    assert again["id"] == operation["id"]  # one sync at a time
    await run_jobs()

    assert routes["conversations"].call_count == 2  # followed the paging cursor
    done = await _operation(client, owner, base, operation["id"])
    assert done["status"] == "succeeded", done
    assert done["result"] == {"conversations": 2, "messages": 3, "posts": 1, "comments": 2}
    assert done["progress"]["phase"] == "done"
    assert done["progress"]["graphCalls"] == 6

    listed = await threads(client, owner, asset)
    by_person = {t["participantId"]: t for t in listed}
    deniz = by_person[PSID]
    assert deniz["participantName"] == "Deniz Yılmaz"
    assert deniz["conversationId"] == "t_1001"
    assert deniz["unreadCount"] == 0  # history is not unread
    assert deniz["lastMessagePreview"] == "Buyrun"
    assert deniz["lastCustomerMessageAt"] == "2026-11-30T08:59:00.000Z"
    history = await messages(client, owner, asset, deniz["id"])
    assert [(m["mid"], m["fromMe"]) for m in history] == [("m_h2", True), ("m_h1", False)]
    posts = (await client.get(f"{base}/posts", headers=headers(owner))).json()["data"]["rows"]
    [post] = posts
    assert post["externalId"] == POST_ID
    assert post["text"] == "Kış koleksiyonu"
    comments = (
        await client.get(f"{base}/posts/{post['id']}/comments", headers=headers(owner))
    ).json()["data"]["rows"]
    assert {(c["externalId"], c["fromMe"]) for c in comments} == {
        ("700000000000001_1", False),
        ("700000000000001_2", True),
    }
    asset_now = (await client.get("/meta/assets", headers=headers(owner))).json()["data"]["rows"]
    assert asset_now[0]["lastSyncedAt"] is not None

    # A second sync adds nothing twice.
    second = await _sync(client, owner, base)
    await run_jobs()
    redo = await _operation(client, owner, base, second["id"])
    assert redo["result"] == {"conversations": 2, "messages": 0, "posts": 1, "comments": 0}


async def test_usage_near_the_limit_holds_the_next_sync_call(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    usage = {"x-app-usage": json.dumps({"call_count": 95, "total_time": 40, "total_cputime": 30})}
    routes = route_page_backfill(graph, first_headers=usage)
    base = f"/meta/assets/{asset['id']}"
    operation = await _sync(client, owner, base)
    await run_jobs()
    done = await _operation(client, owner, base, operation["id"])
    assert done["status"] == "succeeded"
    # 95% with the threshold at 80% and at most 1 s of backoff: a 0.75 s hold.
    assert done["progress"]["throttled"] >= 1
    assert done["progress"]["waitedSeconds"] >= 0.7
    first, second = routes["times"]
    assert second - first >= 0.7


async def test_a_long_hold_hands_the_sync_back_to_the_queue(
    client: httpx.AsyncClient,
    graph: respx.MockRouter,
    run_jobs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ticaret.settings import get_settings

    monkeypatch.setattr(get_settings().meta, "sync_max_inline_wait_seconds", 0.0)
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    usage = {
        "x-business-use-case-usage": json.dumps(
            {
                PAGE_ID: [
                    {
                        "type": "pages",
                        "call_count": 100,
                        "total_cputime": 10,
                        "total_time": 10,
                        "estimated_time_to_regain_access": 0,
                    }
                ]
            }
        )
    }
    routes = route_page_backfill(graph, first_headers=usage)
    base = f"/meta/assets/{asset['id']}"
    operation = await _sync(client, owner, base)
    await run_jobs()
    done = await _operation(client, owner, base, operation["id"])
    assert done["status"] == "succeeded"
    assert done["attempts"] == 1  # waiting for the rate limit is not a failed try
    assert done["progress"]["deferrals"] == 1
    assert routes["conversations"].call_count >= 2
    first, second = routes["times"][:2]
    assert second - first >= 0.9


async def test_instagram_sync_reads_conversations_and_media(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    account = await connect_instagram(client, owner, graph)
    conversations = graph.get(f"{IG_GRAPH}/{IG_ID}/conversations").respond(
        200,
        json={
            "data": [
                {
                    "id": "aWdfZAG06MTpJR01lc3NhZAG",
                    "updated_time": "2026-11-30T09:00:00+0000",
                    "participants": {
                        "data": [
                            {"username": "aysebutik", "id": IG_ID},
                            {"username": "deniz.y", "id": IGSID},
                        ]
                    },
                }
            ],
            "paging": {"cursors": {"after": "x"}},
        },
    )
    graph.get(f"{IG_GRAPH}/aWdfZAG06MTpJR01lc3NhZAG/messages").respond(
        200,
        json={
            "data": [
                {
                    "id": "aWdfZAG1faXRlbTox",
                    "created_time": "2026-11-30T08:00:00+0000",
                    "from": {"username": "deniz.y", "id": IGSID},
                    "to": {"data": [{"username": "aysebutik", "id": IG_ID}]},
                    "message": "Merhaba",
                }
            ]
        },
    )
    media = graph.get(f"{IG_GRAPH}/{IG_ID}/media").respond(
        200,
        json={
            "data": [
                {
                    "id": "17918195224117851",
                    "caption": "Yeni sezon",
                    "media_type": "IMAGE",
                    "media_product_type": "FEED",
                    "media_url": "https://scontent.cdninstagram.com/x.jpg",
                    "permalink": "https://www.instagram.com/p/Cx1AbCdEfGh/",
                    "timestamp": "2026-11-29T10:00:00+0000",
                    "comments_count": 1,
                }
            ],
            "paging": {"cursors": {"after": "y"}},
        },
    )
    graph.get(f"{IG_GRAPH}/17918195224117851/comments").respond(
        200,
        json={
            "data": [
                {
                    "id": "17870913679156914",
                    "text": "Harika",
                    "timestamp": "2026-11-29T11:00:00+0000",
                    "username": "deniz.y",
                    "from": {"id": IGSID, "username": "deniz.y"},
                }
            ]
        },
    )
    base = f"/instagram/accounts/{account['id']}"
    operation = await _sync(client, owner, base)
    await run_jobs()
    done = await _operation(client, owner, base, operation["id"])
    assert done["status"] == "succeeded", done
    assert done["result"] == {"conversations": 1, "messages": 1, "posts": 1, "comments": 1}
    assert query_of(conversations.calls.last.request)["platform"] == "instagram"
    assert "comments_count" in query_of(media.calls.last.request)["fields"]
    [thread] = await threads(client, owner, account, "instagram")
    assert thread["participantUsername"] == "deniz.y"
    [post] = (await client.get(f"{base}/media", headers=headers(owner))).json()["data"]["rows"]
    assert post["permalink"] == "https://www.instagram.com/p/Cx1AbCdEfGh/"
    assert post["commentCount"] == 1


async def test_a_sync_stops_on_a_refused_token(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    conversations = graph.get(f"{GRAPH}/{PAGE_ID}/conversations").respond(
        400,
        json={
            "error": {
                "message": "Error validating access token: Session has expired.",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 463,
                "fbtrace_id": "A1b2C3",
            }
        },
    )
    base = f"/meta/assets/{asset['id']}"
    operation = await _sync(client, owner, base)
    await run_jobs()
    assert conversations.call_count == 1
    done = await _operation(client, owner, base, operation["id"])
    assert done["status"] == "failed"
    assert "190/463" in done["lastError"]
    listed = (await client.get("/meta/assets", headers=headers(owner))).json()["data"]["rows"]
    assert listed[0]["status"] == "needs_reauth"
    assert_error(
        await client.post(f"{base}/sync", headers=headers(owner)), 409, "asset_needs_reauth"
    )


async def test_only_admins_sync(client: httpx.AsyncClient, graph: respx.MockRouter) -> None:
    owner = await register(client)
    agent = await add_member(client, owner, "agent")
    asset = await connect_page(client, owner, graph)
    response = await client.post(f"/meta/assets/{asset['id']}/sync", headers=headers(agent))
    assert_error(response, 403, "insufficient_role")
