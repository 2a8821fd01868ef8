"""Sending DMs: the 24-hour window, the Send API payloads, retries, tokens Meta refuses,
idempotency, read marks and paging."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from tests.helpers import add_member, assert_error, register
from tests.social.helpers import (
    GRAPH,
    IG_GRAPH,
    IG_ID,
    IG_TOKEN,
    IGSID,
    PAGE_ID,
    PAGE_TOKEN,
    PSID,
    connect_instagram,
    connect_page,
    customer_message,
    deliver,
    echo,
    events_of,
    graph_error,
    headers,
    instagram_body,
    json_of,
    messages,
    now_ms,
    page_body,
    threads,
)

HOUR_MS = 3600 * 1000


async def _thread_with_customer(
    client: httpx.AsyncClient,
    owner: Any,
    asset: dict[str, Any],
    run_jobs: Any,
    *,
    hours_ago: float = 0,
    mid: str = "m_customer",
) -> dict[str, Any]:
    at = now_ms() - int(hours_ago * HOUR_MS)
    await deliver(client, page_body(customer_message("Merhaba", mid=mid, timestamp=at)))
    await run_jobs()
    [thread] = await threads(client, owner, asset)
    return thread


def _send_url(asset: dict[str, Any], thread: dict[str, Any], platform: str = "meta") -> str:
    base = "assets" if platform == "meta" else "accounts"
    return f"/{platform}/{base}/{asset['id']}/threads/{thread['id']}/messages"


async def test_a_reply_inside_the_window_is_stored_then_sent(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    thread = await _thread_with_customer(client, owner, asset, run_jobs, hours_ago=23)
    send = graph.post(f"{GRAPH}/{PAGE_ID}/messages").respond(
        200, json={"recipient_id": PSID, "message_id": "m_sent_by_api"}
    )
    response = await client.post(
        _send_url(asset, thread),
        json={"text": "Evet, stokta var.", "replyToMid": "m_customer"},
        headers=headers(owner),
    )
    assert response.status_code == 202, response.text
    data = response.json()["data"]
    message, operation = data["message"], data["operation"]
    assert message["status"] == "pending"
    assert message["mid"] == f"local:{message['id']}"
    assert message["fromMe"] is True
    assert message["origin"]["operationId"] == operation["id"]
    assert message["origin"]["userId"] == owner.user_id
    assert operation["kind"] == "send_message"
    assert operation["status"] == "queued"
    assert not send.called  # nothing leaves before the job runs

    await run_jobs()
    request = send.calls.last.request
    assert request.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert json_of(request) == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Evet, stokta var.", "metadata": f"ticaret:{message['id']}"},
        "reply_to": {"mid": "m_customer"},
    }
    rows = {m["id"]: m for m in await messages(client, owner, asset, thread["id"])}
    sent = rows[message["id"]]
    assert sent["mid"] == "m_sent_by_api"
    assert sent["status"] == "sent"
    operation_now = await client.get(
        f"/meta/assets/{asset['id']}/operations/{operation['id']}", headers=headers(owner)
    )
    assert operation_now.json()["data"]["status"] == "succeeded"
    assert operation_now.json()["data"]["result"]["messageId"] == "m_sent_by_api"
    [event] = await events_of("meta.message.sent")
    assert event["data"]["id"] == message["id"]
    assert event["data"]["mid"] == "m_sent_by_api"

    # Meta echoes the send; the echo is recognised, nothing is added.
    await deliver(
        client,
        page_body(
            echo("Evet, stokta var.", mid="m_sent_by_api", metadata=f"ticaret:{message['id']}")
        ),
    )
    await run_jobs()
    assert len(await messages(client, owner, asset, thread["id"])) == 2
    assert len(await events_of("meta.message.sent")) == 1


async def test_an_echo_that_overtakes_the_send_answer_is_merged(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    thread = await _thread_with_customer(client, owner, asset, run_jobs)
    graph.post(f"{GRAPH}/{PAGE_ID}/messages").respond(
        200, json={"recipient_id": PSID, "message_id": "m_fast_echo"}
    )
    response = await client.post(
        _send_url(asset, thread), json={"text": "Hemen"}, headers=headers(owner)
    )
    message = response.json()["data"]["message"]
    await deliver(
        client,
        page_body(echo("Hemen", mid="m_fast_echo", metadata=f"ticaret:{message['id']}")),
    )
    await run_jobs()
    rows = await messages(client, owner, asset, thread["id"])
    assert [m["mid"] for m in rows].count("m_fast_echo") == 1
    assert {m["id"] for m in rows if m["fromMe"]} == {message["id"]}


async def test_outside_the_window_only_a_human_agent_may_answer(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    thread = await _thread_with_customer(client, owner, asset, run_jobs, hours_ago=30)
    send = graph.post(f"{GRAPH}/{PAGE_ID}/messages").respond(
        200, json={"recipient_id": PSID, "message_id": "m_tagged"}
    )
    late = await client.post(
        _send_url(asset, thread), json={"text": "Geç cevap"}, headers=headers(owner)
    )
    error = assert_error(late, 409, "outside_messaging_window")
    assert error["details"]["tagged"] is False
    assert len(await messages(client, owner, asset, thread["id"])) == 1  # nothing stored

    tagged = await client.post(
        _send_url(asset, thread),
        json={"text": "Geç cevap, kusura bakmayın", "tag": "HUMAN_AGENT"},
        headers=headers(owner),
    )
    assert tagged.status_code == 202, tagged.text
    await run_jobs()
    body = json_of(send.calls.last.request)
    assert body["messaging_type"] == "MESSAGE_TAG"
    assert body["tag"] == "HUMAN_AGENT"


async def test_after_seven_days_even_a_human_agent_is_refused(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    thread = await _thread_with_customer(client, owner, asset, run_jobs, hours_ago=8 * 24)
    response = await client.post(
        _send_url(asset, thread),
        json={"text": "Çok geç", "tag": "HUMAN_AGENT"},
        headers=headers(owner),
    )
    assert_error(response, 409, "outside_messaging_window")


async def test_an_image_by_url_goes_as_an_attachment(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    thread = await _thread_with_customer(client, owner, asset, run_jobs)
    send = graph.post(f"{GRAPH}/{PAGE_ID}/messages").respond(
        200, json={"recipient_id": PSID, "message_id": "m_image"}
    )
    response = await client.post(
        _send_url(asset, thread),
        json={"attachment": {"type": "image", "url": "https://cdn.example.com/dress.jpg"}},
        headers=headers(owner),
    )
    assert response.status_code == 202, response.text
    assert response.json()["data"]["message"]["type"] == "image"
    await run_jobs()
    message = json_of(send.calls.last.request)["message"]
    assert message["attachment"] == {
        "type": "image",
        "payload": {"url": "https://cdn.example.com/dress.jpg", "is_reusable": True},
    }
    for bad in (
        {"text": "both", "attachment": {"type": "file", "url": "https://cdn.example.com/a.pdf"}},
        {},
        {"attachment": {"type": "image", "url": "ftp://cdn.example.com/a.jpg"}},
        {"text": "x", "replyToMid": "m_unknown"},
    ):
        refused = await client.post(_send_url(asset, thread), json=bad, headers=headers(owner))
        assert refused.status_code in (404, 422), refused.text


async def test_sends_are_retried_on_5xx_and_rate_limits_but_not_on_other_refusals(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    thread = await _thread_with_customer(client, owner, asset, run_jobs)
    answers = iter(
        [
            httpx.Response(500, json=graph_error(2, "Service temporarily unavailable")),
            httpx.Response(
                400, json=graph_error(613, "Calls to this api have exceeded the rate limit.")
            ),
            httpx.Response(200, json={"recipient_id": PSID, "message_id": "m_third_time"}),
        ]
    )
    send = graph.post(f"{GRAPH}/{PAGE_ID}/messages").mock(side_effect=lambda _: next(answers))
    response = await client.post(
        _send_url(asset, thread), json={"text": "Deneme"}, headers=headers(owner)
    )
    operation = response.json()["data"]["operation"]
    await run_jobs()
    assert send.call_count == 3
    done = await client.get(
        f"/meta/assets/{asset['id']}/operations/{operation['id']}", headers=headers(owner)
    )
    assert done.json()["data"]["status"] == "succeeded"
    assert done.json()["data"]["attempts"] == 3

    refused = send.mock(
        side_effect=None,
        return_value=httpx.Response(
            400, json=graph_error(100, "(#100) The parameter recipient is invalid")
        ),
    )
    refused.reset()
    response = await client.post(
        _send_url(asset, thread), json={"text": "Olmayacak"}, headers=headers(owner)
    )
    failed_op = response.json()["data"]["operation"]
    failed_message = response.json()["data"]["message"]
    await run_jobs()
    assert refused.call_count == 1
    done = (
        await client.get(
            f"/meta/assets/{asset['id']}/operations/{failed_op['id']}", headers=headers(owner)
        )
    ).json()["data"]
    assert done["status"] == "failed"
    assert done["attempts"] == 1
    assert "code 100" in done["lastError"]
    assert done["result"]["error"]["fbtraceId"] == "AbCdEfGhIjK"
    rows = {m["id"]: m for m in await messages(client, owner, asset, thread["id"])}
    assert rows[failed_message["id"]]["status"] == "failed"
    updated = await events_of("meta.message.updated")
    assert updated[-1]["data"]["status"] == "failed"


async def test_a_refused_token_marks_the_page_for_reauthorization(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    thread = await _thread_with_customer(client, owner, asset, run_jobs)
    send = graph.post(f"{GRAPH}/{PAGE_ID}/messages").respond(
        400,
        json=graph_error(
            190,
            "Error validating access token: The session has been invalidated because the user "
            "changed their password.",
            subcode=460,
        ),
    )
    await client.post(_send_url(asset, thread), json={"text": "x"}, headers=headers(owner))
    await run_jobs()
    assert send.call_count == 1  # never retried
    listed = await client.get("/meta/assets", headers=headers(owner))
    [after] = listed.json()["data"]["rows"]
    assert after["status"] == "needs_reauth"
    [event] = await events_of("meta.asset.needs_reauth")
    assert event["data"]["assetId"] == asset["id"]
    assert "190" in event["data"]["reason"]
    again = await client.post(_send_url(asset, thread), json={"text": "y"}, headers=headers(owner))
    assert_error(again, 409, "asset_needs_reauth")


async def test_an_idempotency_key_sends_once(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    thread = await _thread_with_customer(client, owner, asset, run_jobs)
    send = graph.post(f"{GRAPH}/{PAGE_ID}/messages").respond(
        200, json={"recipient_id": PSID, "message_id": "m_once"}
    )
    keyed = {**headers(owner), "Idempotency-Key": "order-42-confirmation"}
    first = await client.post(_send_url(asset, thread), json={"text": "Bir kez"}, headers=keyed)
    second = await client.post(_send_url(asset, thread), json={"text": "Bir kez"}, headers=keyed)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    other = await client.post(_send_url(asset, thread), json={"text": "Başka"}, headers=keyed)
    assert_error(other, 409, "idempotency_key_reused")
    await run_jobs()
    assert send.call_count == 1


async def test_marking_a_thread_read(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    thread = await _thread_with_customer(client, owner, asset, run_jobs)
    assert thread["unreadCount"] == 1
    seen = graph.post(f"{GRAPH}/{PAGE_ID}/messages").respond(200, json={"recipient_id": PSID})
    response = await client.post(
        f"/meta/assets/{asset['id']}/threads/{thread['id']}/read", headers=headers(owner)
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["thread"]["unreadCount"] == 0
    assert data["operation"]["kind"] == "mark_seen"
    await run_jobs()
    assert json_of(seen.calls.last.request) == {
        "recipient": {"id": PSID},
        "sender_action": "mark_seen",
    }
    [message] = await messages(client, owner, asset, thread["id"])
    assert message["readAt"] is not None
    again = await client.post(
        f"/meta/assets/{asset['id']}/threads/{thread['id']}/read", headers=headers(owner)
    )
    assert again.json()["data"]["operation"] is None  # nothing unread: no call to Meta


async def test_threads_and_messages_page_with_cursors(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    base = now_ms() - HOUR_MS
    await deliver(
        client,
        page_body(
            *[
                customer_message(
                    f"kişi {n}", mid=f"m_p{n}", sender=f"24200000000000{n:02d}", timestamp=base + n
                )
                for n in range(5)
            ],
            *[
                customer_message(f"mesaj {n}", mid=f"m_t{n}", timestamp=base + 100 + n)
                for n in range(5)
            ],
        ),
    )
    await run_jobs()
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (
            await client.get(
                f"/meta/assets/{asset['id']}/threads", params=params, headers=headers(owner)
            )
        ).json()["data"]
        seen.extend(t["participantId"] for t in page["rows"])
        if not page["hasMore"]:
            assert page["nextCursor"] is None
            break
        cursor = page["nextCursor"]
    assert seen[0] == PSID  # latest activity first
    assert len(seen) == len(set(seen)) == 6
    thread = (await threads(client, owner, asset))[0]
    first = (
        await client.get(_send_url(asset, thread), params={"limit": 3}, headers=headers(owner))
    ).json()["data"]
    assert [m["mid"] for m in first["rows"]] == ["m_t4", "m_t3", "m_t2"]
    rest = (
        await client.get(
            _send_url(asset, thread),
            params={"limit": 3, "cursor": first["nextCursor"]},
            headers=headers(owner),
        )
    ).json()["data"]
    assert [m["mid"] for m in rest["rows"]] == ["m_t1", "m_t0"]
    bad = await client.get(
        _send_url(asset, thread), params={"cursor": "garbage!"}, headers=headers(owner)
    )
    assert_error(bad, 400, "invalid_cursor")


async def test_instagram_dms_use_the_instagram_host(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    account = await connect_instagram(client, owner, graph)
    await deliver(
        client,
        instagram_body(
            customer_message("Selam", mid="aWdfZG1pZDpx", sender=IGSID, recipient=IG_ID)
        ),
        platform="instagram",
    )
    await run_jobs()
    [thread] = await threads(client, owner, account, "instagram")
    send = graph.post(f"{IG_GRAPH}/{IG_ID}/messages").respond(
        200, json={"recipient_id": IGSID, "message_id": "aWdfZG1pZDpy"}
    )
    response = await client.post(
        _send_url(account, thread, "instagram"), json={"text": "Merhaba!"}, headers=headers(owner)
    )
    assert response.status_code == 202, response.text
    await run_jobs()
    request = send.calls.last.request
    assert request.headers["authorization"] == f"Bearer {IG_TOKEN}"
    assert json_of(request) == {"recipient": {"id": IGSID}, "message": {"text": "Merhaba!"}}
    [event] = await events_of("instagram.message.sent")
    assert event["data"]["mid"] == "aWdfZG1pZDpy"


async def test_viewers_read_threads_but_do_not_send(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    viewer = await add_member(client, owner, "viewer")
    asset = await connect_page(client, owner, graph)
    thread = await _thread_with_customer(client, owner, asset, run_jobs)
    assert len(await threads(client, viewer, asset)) == 1
    assert len(await messages(client, viewer, asset, thread["id"])) == 1
    refused = await client.post(
        _send_url(asset, thread), json={"text": "x"}, headers=headers(viewer)
    )
    assert_error(refused, 403, "insufficient_role")
    refused = await client.post(
        f"/meta/assets/{asset['id']}/threads/{thread['id']}/read", headers=headers(viewer)
    )
    assert_error(refused, 403, "insufficient_role")
