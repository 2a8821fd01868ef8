"""Webhooks in: verification, signatures, every kind of item, batches, redeliveries."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import respx

from tests.helpers import assert_error, register
from tests.social.helpers import (
    IG_ID,
    IG_SECRET,
    IGSID,
    META_SECRET,
    PAGE_ID,
    PSID,
    connect_instagram,
    connect_page,
    customer_message,
    deliver,
    echo,
    events_of,
    feed_comment,
    headers,
    instagram_body,
    instagram_comment,
    messages,
    now_ms,
    page_body,
    signature,
    sql,
    threads,
)


async def test_the_verification_challenge_is_echoed_for_our_token(
    client: httpx.AsyncClient,
) -> None:
    for platform in ("meta", "instagram"):
        response = await client.get(
            f"/{platform}/webhook",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": "meta-verify-token",
                "hub.challenge": "1158201444",
            },
        )
        assert response.status_code == 200, response.text
        assert response.text == "1158201444"
        assert response.headers["content-type"].startswith("text/plain")
        for params in (
            {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
            {
                "hub.mode": "unsubscribe",
                "hub.verify_token": "meta-verify-token",
                "hub.challenge": "1",
            },
            {"hub.mode": "subscribe", "hub.challenge": "1"},
        ):
            refused = await client.get(f"/{platform}/webhook", params=params)
            assert_error(refused, 403, "verification_refused")


async def test_only_a_correct_signature_gets_a_body_stored(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    await connect_page(client, owner, graph)
    body = json.dumps(page_body(customer_message("ilk mesaj", mid="m_signed"))).encode()
    good = signature(body, META_SECRET)

    wrong_secret = await client.post(
        "/meta/webhook",
        content=body,
        headers={"x-hub-signature-256": signature(body, "someone-elses-secret")},
    )
    assert_error(wrong_secret, 403, "invalid_signature")
    changed = body.replace(b"ilk mesaj", b"ilk mesaJ")
    assert len(changed) == len(body)
    one_byte = await client.post(
        "/meta/webhook", content=changed, headers={"x-hub-signature-256": good}
    )
    assert_error(one_byte, 403, "invalid_signature")
    missing = await client.post("/meta/webhook", content=body)
    assert_error(missing, 401, "missing_signature")
    instagram_secret = await client.post(
        "/meta/webhook", content=body, headers={"x-hub-signature-256": signature(body, IG_SECRET)}
    )
    assert_error(instagram_secret, 403, "invalid_signature")
    assert await sql("SELECT id FROM inbox_items") == []

    accepted = await client.post(
        "/meta/webhook", content=body, headers={"x-hub-signature-256": good}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["data"] == {"items": 1, "stored": 1, "duplicates": 0}
    [(source, external_id, status)] = await sql(
        "SELECT source, external_id, status FROM inbox_items"
    )
    assert (source, external_id, status) == ("meta", f"{PAGE_ID}:message:m_signed", "received")
    await run_jobs()
    assert (await sql("SELECT status FROM inbox_items"))[0][0] == "processed"


async def test_a_customer_message_becomes_a_thread_message_and_an_event_once(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    image = {"type": "image", "payload": {"url": "https://scontent.example/photo.jpg"}}
    at = now_ms()
    body = page_body(
        customer_message("Merhaba, bu elbise stokta var mı?", mid="m_first", timestamp=at),
        customer_message(
            None, mid="m_photo", attachments=[image], reply_to="m_first", timestamp=at + 1000
        ),
    )
    first = await deliver(client, body)
    assert first.json()["data"] == {"items": 2, "stored": 2, "duplicates": 0}
    await run_jobs()
    again = await deliver(client, body)
    assert again.json()["data"] == {"items": 2, "stored": 0, "duplicates": 2}
    await run_jobs()

    [thread] = await threads(client, owner, asset)
    assert thread["participantId"] == PSID
    assert thread["unreadCount"] == 2
    assert thread["lastMessagePreview"] == "[image]"
    assert thread["lastMessageFromMe"] is False
    assert thread["messagingWindowEndsAt"] is not None
    photo, text = await messages(client, owner, asset, thread["id"])
    assert text["mid"] == "m_first"
    assert text["text"] == "Merhaba, bu elbise stokta var mı?"
    assert text["fromMe"] is False
    assert text["type"] == "text"
    assert text["status"] == "received"
    assert photo["type"] == "image"
    assert photo["attachments"] == [
        {"type": "image", "url": "https://scontent.example/photo.jpg", "extra": None}
    ]
    assert photo["replyToMid"] == "m_first"
    received = await events_of("meta.message.received")
    assert sorted(e["data"]["mid"] for e in received) == ["m_first", "m_photo"]
    assert received[0]["accountId"] == owner.account_id
    assert received[0]["data"]["threadId"] == thread["id"]


async def test_an_echo_from_the_page_inbox_is_our_message(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    await deliver(
        client, page_body(customer_message("Kargo ne zaman?", mid="m_q", timestamp=now_ms() - 5000))
    )
    await deliver(client, page_body(echo("Yarın kargoda!", mid="m_answer")))
    await run_jobs()
    [thread] = await threads(client, owner, asset)
    answer, question = await messages(client, owner, asset, thread["id"])
    assert question["mid"] == "m_q"
    assert answer["fromMe"] is True
    assert answer["status"] == "sent"
    assert answer["senderId"] == PAGE_ID
    assert answer["origin"] == {"source": "meta_inbox"}
    assert thread["lastMessageFromMe"] is True
    [sent] = await events_of("meta.message.sent")
    assert sent["data"]["mid"] == "m_answer"


async def test_reads_reactions_and_postbacks(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    sent_at = now_ms()
    await deliver(client, page_body(customer_message("Selam", mid="m_hi", timestamp=sent_at)))
    await deliver(client, page_body(echo("Hoş geldiniz", mid="m_welcome")))
    await run_jobs()
    read = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms() + 5000,
        "read": {"watermark": now_ms() + 5000},
    }
    reaction = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms(),
        "reaction": {
            "reaction": "love",
            "emoji": "\u2764\ufe0f",
            "action": "react",
            "mid": "m_welcome",
        },
    }
    postback = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms() + 6000,
        "postback": {"title": "Siparişim nerede?", "payload": "ORDER_STATUS", "mid": "m_pb"},
    }
    body = page_body(read, reaction, postback)
    await deliver(client, body)
    await run_jobs()
    await deliver(client, body)  # redelivered: nothing changes
    await run_jobs()

    [thread] = await threads(client, owner, asset)
    rows = {m["mid"]: m for m in await messages(client, owner, asset, thread["id"])}
    assert rows["m_welcome"]["status"] == "read"
    assert rows["m_welcome"]["readAt"] is not None
    assert rows["m_welcome"]["reactions"] == {PSID: "\u2764\ufe0f"}
    assert rows["m_pb"]["type"] == "postback"
    assert rows["m_pb"]["text"] == "Siparişim nerede?"
    assert rows["m_pb"]["postback"] == {"title": "Siparişim nerede?", "payload": "ORDER_STATUS"}
    updated = await events_of("meta.message.updated")
    assert [e["data"]["mid"] for e in updated] == ["m_welcome", "m_welcome"]
    assert [e["data"]["mid"] for e in await events_of("meta.message.received")] == [
        "m_hi",
        "m_pb",
    ]

    unreact = dict(reaction, reaction={"action": "unreact", "mid": "m_welcome"})
    await deliver(client, page_body(unreact))
    await run_jobs()
    rows = {m["mid"]: m for m in await messages(client, owner, asset, thread["id"])}
    assert rows["m_welcome"]["reactions"] == {}


async def test_page_comments_become_comments_on_their_post(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    post_id = f"{PAGE_ID}_900000000000001"
    await deliver(client, feed_comment(comment_id="900000000000001_111", post_id=post_id))
    await deliver(
        client,
        feed_comment(
            comment_id="900000000000001_222",
            post_id=post_id,
            message="Ben de merak ediyorum",
            parent_id="900000000000001_111",
        ),
    )
    await run_jobs()
    await deliver(client, feed_comment(comment_id="900000000000001_111", post_id=post_id))
    await run_jobs()
    posts = await client.get(f"/meta/assets/{asset['id']}/posts", headers=headers(owner))
    [post] = posts.json()["data"]["rows"]
    assert post["externalId"] == post_id
    listed = await client.get(
        f"/meta/assets/{asset['id']}/posts/{post['id']}/comments", headers=headers(owner)
    )
    by_id = {c["externalId"]: c for c in listed.json()["data"]["rows"]}
    top, reply = by_id["900000000000001_111"], by_id["900000000000001_222"]
    assert top["parentExternalId"] is None
    assert top["fromName"] == "Deniz Yılmaz"
    assert top["text"] == "Fiyatı nedir?"
    assert reply["parentExternalId"] == "900000000000001_111"
    received = await events_of("meta.comment.received")
    assert sorted(e["data"]["externalId"] for e in received) == [
        "900000000000001_111",
        "900000000000001_222",
    ]
    await deliver(
        client,
        feed_comment(comment_id="900000000000001_222", post_id=post_id, verb="remove"),
    )
    await run_jobs()
    listed = await client.get(
        f"/meta/assets/{asset['id']}/posts/{post['id']}/comments", headers=headers(owner)
    )
    statuses = {c["externalId"]: c["status"] for c in listed.json()["data"]["rows"]}
    assert statuses == {"900000000000001_111": "received", "900000000000001_222": "deleted"}


async def test_instagram_messages_comments_mentions_reads_and_reactions(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    account = await connect_instagram(client, owner, graph)
    dm = customer_message(
        "Bu ürün hâlâ satışta mı?",
        mid="aWdfZG1pZDox",
        sender=IGSID,
        recipient=IG_ID,
        timestamp=now_ms() - 2000,
    )
    ours = echo("Evet!", mid="aWdfZG1pZDoy", page=IG_ID, person=IGSID)
    await deliver(client, instagram_body(dm, ours), platform="instagram")
    # Instagram signs with its own app's secret: the Meta one is refused here.
    refused = await deliver(client, instagram_body(dm), platform="instagram", secret=META_SECRET)
    assert_error(refused, 403, "invalid_signature")
    await run_jobs()
    seen = {
        "sender": {"id": IGSID},
        "recipient": {"id": IG_ID},
        "timestamp": now_ms(),
        "read": {"mid": "aWdfZG1pZDoy"},
    }
    reaction = {
        "sender": {"id": IGSID},
        "recipient": {"id": IG_ID},
        "timestamp": now_ms(),
        "reaction": {"mid": "aWdfZG1pZDoy", "action": "react", "reaction": "love", "emoji": "❤️"},
    }
    mention = {
        "object": "instagram",
        "entry": [
            {
                "id": IG_ID,
                "time": now_ms() // 1000,
                "changes": [
                    {
                        "field": "mentions",
                        "value": {
                            "media_id": "17918195224117851",
                            "comment_id": "17894227972186120",
                        },
                    }
                ],
            }
        ],
    }
    await deliver(client, instagram_body(seen, reaction), platform="instagram")
    await deliver(client, instagram_comment(comment_id="17870913679156914"), platform="instagram")
    await deliver(client, mention, platform="instagram")
    await run_jobs()

    [thread] = await threads(client, owner, account, "instagram")
    assert thread["platform"] == "instagram"
    answer, question = await messages(client, owner, account, thread["id"], "instagram")
    assert question["text"] == "Bu ürün hâlâ satışta mı?"
    assert answer["fromMe"] is True
    assert answer["status"] == "read"
    assert answer["reactions"] == {IGSID: "❤️"}
    assert [e["data"]["mid"] for e in await events_of("instagram.message.received")] == [
        "aWdfZG1pZDox"
    ]
    assert len(await events_of("instagram.message.updated")) == 2
    media = await client.get(f"/instagram/accounts/{account['id']}/media", headers=headers(owner))
    [post] = media.json()["data"]["rows"]
    assert post["externalId"] == "17900000000000001"
    assert post["productType"] == "FEED"
    comments = await client.get(
        f"/instagram/accounts/{account['id']}/media/{post['id']}/comments", headers=headers(owner)
    )
    [comment] = comments.json()["data"]["rows"]
    assert comment["fromUsername"] == "deniz.y"
    assert comment["text"] == "Bedeni var mı?"
    received = await events_of("instagram.comment.received")
    kinds = {e["data"]["kind"]: e["data"] for e in received}
    assert set(kinds) == {"comment", "mention"}
    assert kinds["mention"]["postExternalId"] == "17918195224117851"
    assert kinds["mention"]["postId"] is None


async def test_a_batch_of_a_thousand_entries_with_a_malformed_one(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    padding = "x" * 1200  # the batch passes the ordinary 1 MB body limit
    entries: list[Any] = [
        {
            "id": PAGE_ID,
            "time": now_ms(),
            "messaging": [
                customer_message(
                    f"mesaj {n} {padding}", mid=f"m_batch_{n}", sender=f"2410000000{n:06d}"
                )
            ],
        }
        for n in range(998)
    ]
    entries.append({"time": now_ms(), "messaging": [customer_message("no entry id")]})
    entries.append(
        {"id": PAGE_ID, "time": now_ms(), "messaging": [{"sender": {"id": PSID}, "message": {}}]}
    )
    body = json.dumps({"object": "page", "entry": entries}).encode()
    assert len(body) > 1024 * 1024
    response = await deliver(client, body)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"items": 1000, "stored": 1000, "duplicates": 0}
    await run_jobs()
    statuses = dict(await sql("SELECT status, count(*) FROM inbox_items GROUP BY status"))
    assert statuses == {"processed": 998, "failed": 2}
    failed = await sql("SELECT error, payload FROM inbox_items WHERE status = 'failed'")
    reasons = sorted(row[0] for row in failed)
    assert "entry is not an object with an id" in reasons[1] or "id" in reasons[0]
    assert all(row[1] is not None for row in failed)  # the payload is kept as it came
    listed = await client.get(
        f"/meta/assets/{asset['id']}/threads", params={"limit": 200}, headers=headers(owner)
    )
    assert len(listed.json()["data"]["rows"]) == 200
    assert listed.json()["data"]["hasMore"] is True


async def test_a_page_connected_by_two_accounts_reaches_both(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    first = await register(client)
    second = await register(client)
    first_asset = await connect_page(client, first, graph)
    second_asset = await connect_page(client, second, graph)
    await deliver(client, page_body(customer_message("İkinize de merhaba", mid="m_both")))
    await run_jobs()
    for caller, asset in ((first, first_asset), (second, second_asset)):
        [thread] = await threads(client, caller, asset)
        [message] = await messages(client, caller, asset, thread["id"])
        assert message["mid"] == "m_both"
    received = await events_of("meta.message.received")
    assert sorted(e["accountId"] for e in received) == sorted([first.account_id, second.account_id])


async def test_items_nobody_uses_are_kept_and_ignored(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    asset = await connect_page(client, owner, graph)
    await client.patch(
        f"/meta/assets/{asset['id']}",
        json={"enabledFeatures": ["comments"]},
        headers=headers(owner),
    )
    await deliver(client, page_body(customer_message("messaging is off", mid="m_off")))
    await deliver(
        client, page_body(customer_message("unknown page", mid="m_other"), page_id="999999")
    )
    like = feed_comment(comment_id="c_like")
    like["entry"][0]["changes"][0]["value"]["item"] = "reaction"
    await deliver(client, like)
    await run_jobs()
    rows = await sql("SELECT external_id, status, error FROM inbox_items ORDER BY external_id")
    assert {r[1] for r in rows} == {"ignored"}
    assert await threads(client, owner, asset) == []


async def test_a_body_that_is_not_json_is_kept_as_failed(client: httpx.AsyncClient) -> None:
    raw = b'{"object": "page", "entry": [ not json'
    response = await deliver(client, raw)
    assert response.status_code == 200
    [(status, error, kept)] = await sql("SELECT status, error, raw_body FROM inbox_items")
    assert status == "failed"
    assert "not valid JSON" in error
    assert kept == raw.decode()


async def test_wrong_object_for_the_endpoint_is_stored_failed(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    body = instagram_body(customer_message("hi", mid=f"m_{uuid.uuid4().hex}"))
    await deliver(client, body)  # an Instagram body sent to the Page endpoint
    await run_jobs()
    [(status, error)] = await sql("SELECT status, error FROM inbox_items")
    assert status == "failed"
    assert "object" in error
