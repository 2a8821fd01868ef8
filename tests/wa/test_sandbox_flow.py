"""The sandbox end to end: pair, receive, read, reply, acks, labels, filters, events."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from tests.helpers import Caller, add_member, assert_error, register
from tests.wa.helpers import (
    CUSTOMER_JID,
    create_session,
    customer_wrote,
    headers,
    inject,
    messages,
)


async def _event_types(account_id: str) -> list[str]:
    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Event

    async with get_sessionmaker()() as session:
        rows = await session.scalars(
            select(Event.type).where(Event.account_id == account_id).order_by(Event.seq)
        )
        return list(rows.all())


async def test_a_sandbox_session_pairs_at_once(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    created = await create_session(client, owner)
    psid = created["providerSessionId"]
    assert created["status"] == "working"
    assert created["provider"] == "sandbox"
    assert created["access"] == "owner"
    assert created["webhookSecret"]
    assert created["webhookUrl"].endswith(f"/wa/provider-events/{psid}")


async def test_a_customer_message_becomes_a_chat_a_message_and_a_contact(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    # A customer writes; the receiver stores the event, the job turns it into chat + message.
    injected = await inject(client, owner, psid)
    assert injected["remoteJid"] == CUSTOMER_JID
    await run_jobs()

    chats = await client.get(
        "/wa/chats", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert chats.status_code == 200, chats.text
    [chat] = chats.json()["data"]["rows"]
    assert chat["remoteJid"] == CUSTOMER_JID
    assert chat["unreadCount"] == 1
    assert chat["lastMessagePreview"] == "Merhaba, bu elbisenin fiyatı nedir?"
    assert chat["name"] == "Ayşe"
    assert chat["type"] == "individual"

    page = await messages(client, owner, psid)
    [inbound] = page["rows"]
    assert inbound["messageId"] == injected["messageId"]
    assert inbound["fromMe"] is False
    assert inbound["pushName"] == "Ayşe"
    assert inbound["senderPhone"] == "905551112233"
    assert inbound["chatType"] == "individual"
    assert inbound["type"] == "text"
    assert inbound["labels"] == []
    assert inbound["assignment"] is None
    assert inbound["providerSessionId"] == psid
    assert inbound["sourceTimestamp"].endswith("Z")

    contact = await client.get(
        f"/wa/contacts/{CUSTOMER_JID}", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert contact.status_code == 200, contact.text
    assert contact.json()["data"]["phone"] == "905551112233"


async def _reply(
    client: httpx.AsyncClient, owner: Caller, psid: str, inbound: dict[str, Any]
) -> dict[str, Any]:
    reply = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages",
        json={
            "action": "reply",
            "providerSessionId": psid,
            "quotedMessageId": inbound["messageId"],
            "text": "Merhaba Ayşe, 450 TL.",
        },
        headers={**headers(owner), "user-agent": "pytest-agent"},
    )
    assert reply.status_code == 202, reply.text
    return dict(reply.json()["data"])


async def test_a_reply_is_stored_pending_then_sent_and_acked(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, psid, inbound = await customer_wrote(client, run_jobs)
    # Stored at once as pending with its origin, sent by the job, acked by the sandbox.
    sent = await _reply(client, owner, psid, inbound)
    assert sent["operation"]["status"] == "queued"
    assert sent["message"]["status"] == 0
    assert sent["message"]["messageId"].startswith("local:")
    assert sent["message"]["quotedMessage"]["messageId"] == inbound["messageId"]
    origin = sent["message"]["origin"]
    assert origin["source"] == "user"
    assert origin["actorType"] == "user"
    assert origin["userId"] == owner.user_id
    assert origin["operationId"] == sent["operation"]["id"]
    assert origin["userAgent"] == "pytest-agent"

    await run_jobs()

    page = await messages(client, owner, psid)
    assert [m["fromMe"] for m in page["rows"]] == [True, False]
    ours = page["rows"][0]
    assert not ours["messageId"].startswith("local:")
    assert ours["status"] == 3  # server -> device -> read, through the inbox
    assert {"serverAt", "deliveredAt", "readAt"} <= set(ours["receipt"])
    assert ours["origin"]["operationId"] == sent["operation"]["id"]

    chat_after = await client.get(
        f"/wa/chats/{CUSTOMER_JID}", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert chat_after.json()["data"]["unreadCount"] == 0
    assert chat_after.json()["data"]["lastMessageFromMe"] is True


async def _labelled_conversation(
    client: httpx.AsyncClient, run_jobs: Any
) -> tuple[Caller, str, str, str, str, str]:
    """A customer message and our reply; "Sıcak" on the chat and both labels on the customer's
    message, "Fiyat sordu" on ours. (owner, psid, hot, price, inbound id, our id)"""
    owner, psid, inbound = await customer_wrote(client, run_jobs)
    await _reply(client, owner, psid, inbound)
    await run_jobs()
    ours = (await messages(client, owner, psid))["rows"][0]
    hot = await client.post(
        "/wa/labels", json={"name": "Sıcak", "color": "#FF0000"}, headers=headers(owner)
    )
    assert hot.status_code == 201, hot.text
    price = await client.post(
        "/wa/labels",
        json={"name": "Fiyat sordu", "color": "#00aa00", "description": "asked for a price"},
        headers=headers(owner),
    )
    hot_id, price_id = hot.json()["data"]["id"], price.json()["data"]["id"]
    assert hot.json()["data"]["color"] == "#ff0000"
    assert hot.json()["data"]["status"] == "active"
    assert hot.json()["data"]["entityVersion"]

    added = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/labels",
        json={"labelId": hot_id, "providerSessionId": psid},
        headers=headers(owner),
    )
    assert added.status_code == 200, added.text
    assert [x["id"] for x in added.json()["data"]] == [hot_id]
    set_labels = await client.put(
        f"/wa/chats/{CUSTOMER_JID}/messages/{inbound['messageId']}/labels",
        json={"labelIds": [hot_id, price_id], "providerSessionId": psid},
        headers=headers(owner),
    )
    assert set_labels.status_code == 200, set_labels.text
    assert {x["id"] for x in set_labels.json()["data"]} == {hot_id, price_id}
    only_price = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages/{ours['messageId']}/labels",
        json={"labelId": price_id},
        params={"providerSessionId": psid},
        headers=headers(owner),
    )
    assert only_price.status_code == 200, only_price.text
    return owner, psid, hot_id, price_id, inbound["messageId"], ours["messageId"]


async def test_labels_and_search_filter_the_message_and_chat_lists(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, psid, hot_id, price_id, inbound_id, ours_id = await _labelled_conversation(
        client, run_jobs
    )
    by_label = await messages(client, owner, psid, labelId=price_id)
    assert {m["messageId"] for m in by_label["rows"]} == {inbound_id, ours_id}
    both = await messages(client, owner, psid, labelIds=f"{hot_id},{price_id}", labelMode="all")
    assert [m["messageId"] for m in both["rows"]] == [inbound_id]
    assert {x["name"] for x in both["rows"][0]["labels"]} == {"Sıcak", "Fiyat sordu"}
    either = await messages(client, owner, psid, labelIds=[hot_id, price_id], labelMode="any")
    assert len(either["rows"]) == 2
    text_search = await messages(client, owner, psid, q="fiyatı")
    assert [m["messageId"] for m in text_search["rows"]] == [inbound_id]
    assert (await messages(client, owner, psid, q="yok-boyle-bir-kelime"))["rows"] == []
    assert len((await messages(client, owner, psid, type="text"))["rows"]) == 2
    assert (await messages(client, owner, psid, type="image"))["rows"] == []

    labelled_chats = await client.get(
        "/wa/chats", params={"providerSessionId": psid, "labelId": hot_id}, headers=headers(owner)
    )
    assert len(labelled_chats.json()["data"]["rows"]) == 1
    assert labelled_chats.json()["data"]["rows"][0]["labels"][0]["id"] == hot_id
    unread_only = await client.get(
        "/wa/chats", params={"providerSessionId": psid, "unread": "true"}, headers=headers(owner)
    )
    assert unread_only.json()["data"]["rows"] == []


async def test_label_changes_are_in_the_history_and_deleting_a_label_unlinks_it(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, psid, hot_id, price_id, _, _ = await _labelled_conversation(client, run_jobs)
    removed = await client.delete(
        f"/wa/chats/{CUSTOMER_JID}/labels/{hot_id}",
        params={"providerSessionId": psid},
        headers=headers(owner),
    )
    assert removed.status_code == 200 and removed.json()["data"] == []
    history = await client.get("/wa/labels/history", headers=headers(owner))
    actions = [(h["action"], h["targetType"]) for h in history.json()["data"]["rows"]]
    assert ("removed", "chat") in actions
    assert ("added", "message") in actions
    assert ("created", "label") in actions
    assert history.json()["data"]["rows"][0]["actorId"] == owner.user_id

    # Deleting a label removes its links.
    deleted = await client.delete(f"/wa/labels/{price_id}", headers=headers(owner))
    assert deleted.status_code == 200, deleted.text
    assert (await messages(client, owner, psid, labelId=price_id))["rows"] == []


async def test_a_conversation_emits_its_events(client: httpx.AsyncClient, run_jobs: Any) -> None:
    owner, _, _, _, _, _ = await _labelled_conversation(client, run_jobs)
    types = await _event_types(owner.account_id)
    for expected in (
        "wa.session.status_changed",
        "wa.message.received",
        "wa.chat.updated",
        "wa.message.sent",
        "wa.message.updated",
        "wa.label.changed",
    ):
        assert expected in types, (expected, types)


async def _operation_statuses() -> dict[str, int]:
    from ticaret.core.db import get_sessionmaker
    from ticaret.models import WaMessageOperation

    async with get_sessionmaker()() as session:
        statuses = (
            await session.execute(
                select(WaMessageOperation.status, func.count()).group_by(WaMessageOperation.status)
            )
        ).all()
    return {status: count for status, count in statuses}


async def _act(
    client: httpx.AsyncClient, owner: Caller, psid: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages",
        json=body,
        params={"providerSessionId": psid},
        headers=headers(owner),
    )


async def _sent_text(
    client: httpx.AsyncClient, owner: Caller, psid: str, run_jobs: Any
) -> dict[str, Any]:
    send = await _act(client, owner, psid, {"action": "send_text", "text": "İlk hali"})
    assert send.status_code == 202, send.text
    await run_jobs()
    page = await messages(client, owner, psid)
    return next(m for m in page["rows"] if m["fromMe"] and m["type"] == "text")


async def test_a_reaction_is_a_timeline_row_and_shows_on_its_target(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, psid, inbound = await customer_wrote(client, run_jobs)
    react = await _act(
        client, owner, psid, {"action": "react", "messageId": inbound["messageId"], "emoji": "👍"}
    )
    assert react.status_code == 202, react.text
    assert react.json()["data"]["message"]["type"] == "reaction"
    assert react.json()["data"]["message"]["reactionTarget"] == inbound["messageId"]
    await run_jobs()
    page = await messages(client, owner, psid)
    target = next(m for m in page["rows"] if m["messageId"] == inbound["messageId"])
    assert target["reactions"] == {"me": "👍"}
    assert await _operation_statuses() == {"sent": 1}


async def test_our_message_can_be_edited_then_deleted_for_everyone(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, psid, inbound = await customer_wrote(client, run_jobs)
    ours = await _sent_text(client, owner, psid, run_jobs)
    edit = await _act(
        client,
        owner,
        psid,
        {"action": "edit", "messageId": ours["messageId"], "text": "Düzeltilmiş hali"},
    )
    assert edit.status_code == 202, edit.text
    not_ours = await _act(
        client, owner, psid, {"action": "edit", "messageId": inbound["messageId"], "text": "x"}
    )
    assert_error(not_ours, 400, "not_own_message")
    await run_jobs()
    delete = await _act(
        client,
        owner,
        psid,
        {"action": "delete", "messageId": ours["messageId"], "providerSessionId": psid},
    )
    assert delete.status_code == 202, delete.text
    await run_jobs()
    page = await messages(client, owner, psid)
    edited = next(m for m in page["rows"] if m["messageId"] == ours["messageId"])
    assert edited["edited"] is True
    assert edited["deletedForEveryone"] is True
    assert edited["text"] is None  # deleted for everyone hides the text
    assert await _operation_statuses() == {"sent": 3}


async def test_a_forward_lands_in_the_other_chat_marked_forwarded(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, psid, inbound = await customer_wrote(client, run_jobs)
    forward = await _act(
        client,
        owner,
        psid,
        {
            "action": "forward",
            "messageId": inbound["messageId"],
            "toRemoteJid": "905559998877",
            "providerSessionId": psid,
        },
    )
    assert forward.status_code == 202, forward.text
    assert forward.json()["data"]["message"]["remoteJid"] == "905559998877@s.whatsapp.net"
    await run_jobs()
    forwarded = await client.get(
        "/wa/chats/905559998877@s.whatsapp.net/messages",
        params={"providerSessionId": psid},
        headers=headers(owner),
    )
    assert forwarded.json()["data"]["rows"][0]["isForwarded"] is True
    assert await _operation_statuses() == {"sent": 1}


async def test_media_sent_as_base64_is_an_image_message(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, psid, _ = await customer_wrote(client, run_jobs)
    media = await _act(
        client,
        owner,
        psid,
        {
            "action": "send_media",
            "providerSessionId": psid,
            "media": {"data": "iVBORw0KGgo=", "mimetype": "image/png", "filename": "a.png"},
            "caption": "Katalog",
        },
    )
    assert media.status_code == 202, media.text
    assert media.json()["data"]["message"]["type"] == "image"
    assert media.json()["data"]["message"]["hasMedia"] is True
    await run_jobs()
    assert await _operation_statuses() == {"sent": 1}


async def test_marking_a_chat_read_tells_the_gateway(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, psid, _ = await customer_wrote(client, run_jobs)
    await inject(client, owner, psid, text="Bir şey daha")
    await run_jobs()
    read = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/read", json={"providerSessionId": psid}, headers=headers(owner)
    )
    assert read.status_code == 200, read.text
    assert read.json()["data"]["chat"]["unreadCount"] == 0
    assert read.json()["data"]["operation"]["action"] == "read"
    await run_jobs()
    assert await _operation_statuses() == {"sent": 1}


async def test_idempotency_key_sends_once(client: httpx.AsyncClient, run_jobs: Any) -> None:
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid)
    await run_jobs()
    body = {"action": "send_text", "text": "Tek sefer", "providerSessionId": psid}
    h = {**headers(owner), "Idempotency-Key": "order-42-confirmation"}
    first = await client.post(f"/wa/chats/{CUSTOMER_JID}/messages", json=body, headers=h)
    second = await client.post(f"/wa/chats/{CUSTOMER_JID}/messages", json=body, headers=h)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    other = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages", json={**body, "text": "Başka"}, headers=h
    )
    assert_error(other, 409, "idempotency_key_reused")
    await run_jobs()
    texts = [m["text"] for m in (await messages(client, owner, psid))["rows"] if m["fromMe"]]
    assert texts == ["Tek sefer"]


async def test_viewer_reads_but_cannot_send_or_label(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    viewer = await add_member(client, owner, "viewer")
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid)
    await run_jobs()
    assert len((await messages(client, viewer, psid))["rows"]) == 1
    send = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages",
        json={"action": "send_text", "text": "hi", "providerSessionId": psid},
        headers=headers(viewer),
    )
    assert_error(send, 403, "insufficient_role")
    label = await client.post(
        "/wa/labels", json={"name": "x", "color": "#000000"}, headers=headers(viewer)
    )
    assert_error(label, 403)
    read = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/read", json={"providerSessionId": psid}, headers=headers(viewer)
    )
    assert_error(read, 403)
    create = await client.post(
        f"/accounts/{owner.account_id}/wa-sessions",
        json={"name": "x", "provider": "sandbox"},
        headers=viewer.headers,
    )
    assert_error(create, 403)


async def test_invalid_action_bodies(client: httpx.AsyncClient, run_jobs: Any) -> None:
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    url = f"/wa/chats/{CUSTOMER_JID}/messages"
    h = headers(owner)
    unknown_action = await client.post(
        url, json={"action": "explode", "providerSessionId": psid}, headers=h
    )
    assert_error(unknown_action, 422, "validation_error")
    empty = await client.post(
        url, json={"action": "send_text", "text": "", "providerSessionId": psid}, headers=h
    )
    assert_error(empty, 422)
    bad_jid = await client.post(
        "/wa/chats/not-a-jid@example.com/messages",
        json={"action": "send_text", "text": "x", "providerSessionId": psid},
        headers=h,
    )
    assert_error(bad_jid, 400, "invalid_jid")
    both_media = await client.post(
        url,
        json={
            "action": "send_media",
            "providerSessionId": psid,
            "media": {
                "url": "https://cdn.example.com/a.png",
                "data": "AA==",
                "mimetype": "image/png",
            },
        },
        headers=h,
    )
    assert_error(both_media, 400, "invalid_media")
    bad_b64 = await client.post(
        url,
        json={
            "action": "send_media",
            "providerSessionId": psid,
            "media": {"data": "%%%not base64", "mimetype": "image/png"},
        },
        headers=h,
    )
    assert_error(bad_b64, 400, "invalid_media_data")
    missing_target = await client.post(
        url,
        json={"action": "react", "messageId": "NOPE", "emoji": "x", "providerSessionId": psid},
        headers=h,
    )
    assert_error(missing_target, 404, "message_not_found")
    not_json = await client.post(
        url, content=b"{", headers={**h, "content-type": "application/json"}
    )
    assert_error(not_json, 400, "invalid_json")
    bad_cursor = await client.get(
        url, params={"providerSessionId": psid, "cursor": "garbage"}, headers=h
    )
    assert_error(bad_cursor, 404)  # the chat does not exist yet
    await inject(client, owner, psid)
    await run_jobs()
    bad_cursor = await client.get(
        url, params={"providerSessionId": psid, "cursor": "garbage"}, headers=h
    )
    assert_error(bad_cursor, 400, "invalid_cursor")
    bad_label_ids = await client.get(
        url, params={"providerSessionId": psid, "labelIds": "nope"}, headers=h
    )
    assert_error(bad_label_ids, 400, "invalid_label_ids")


async def test_message_pagination_is_stable(client: httpx.AsyncClient, run_jobs: Any) -> None:
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    for n in range(7):
        await inject(client, owner, psid, text=f"mesaj {n}")
    await run_jobs()
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = await messages(client, owner, psid, **params)
        seen.extend(m["messageId"] for m in page["rows"])
        if not page["hasMore"]:
            assert page["nextCursor"] is None
            break
        cursor = page["nextCursor"]
    assert len(seen) == len(set(seen)) == 7
    chat = await client.get(
        f"/wa/chats/{CUSTOMER_JID}", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert chat.json()["data"]["unreadCount"] == 7


async def test_multipart_upload_and_operation_status(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from ticaret.settings import get_settings

    owner = await register(client)
    viewer = await add_member(client, owner, "viewer")
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid)
    await run_jobs()
    pdf = b"%PDF-1.4 katalog " * 100
    upload = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages/upload",
        data={"caption": "Katalog", "providerSessionId": psid},
        files={"file": ("katalog.pdf", pdf, "application/pdf")},
        headers=headers(owner),
    )
    assert upload.status_code == 202, upload.text
    result = upload.json()["data"]
    assert result["message"]["type"] == "document"
    assert result["message"]["media"]["filename"] == "katalog.pdf"
    assert result["message"]["text"] == "Katalog"
    operation_id = result["operation"]["id"]

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import WaMessageOperation

    async with get_sessionmaker()() as session:
        stored = await session.get(WaMessageOperation, operation_id)
        assert stored is not None and stored.upload == pdf
        assert "data" not in stored.request["media"]

    await run_jobs()
    status = await client.get(
        f"/wa/operations/{operation_id}",
        params={"providerSessionId": psid},
        headers=headers(viewer),
    )
    assert status.status_code == 200, status.text
    assert status.json()["data"]["status"] == "sent"
    assert status.json()["data"]["result"]["messageId"]
    async with get_sessionmaker()() as session:
        stored = await session.get(WaMessageOperation, operation_id)
        assert stored is not None and stored.upload is None  # not kept once sent

    other = await register(client)
    assert_error(
        await client.get(
            f"/wa/operations/{operation_id}",
            params={"providerSessionId": psid},
            headers=headers(other),
        ),
        404,
    )
    await create_session(client, other)  # its only session: the default, not ours
    assert_error(
        await client.get(f"/wa/operations/{operation_id}", headers=headers(other)),
        404,
        "operation_not_found",
    )
    assert_error(
        await client.post(
            f"/wa/chats/{CUSTOMER_JID}/messages/upload",
            data={"providerSessionId": psid},
            files={"file": ("a.pdf", pdf, "application/pdf")},
            headers=headers(viewer),
        ),
        403,
    )
    assert_error(
        await client.post(
            f"/wa/chats/{CUSTOMER_JID}/messages/upload",
            data={"providerSessionId": psid},
            headers=headers(owner),
        ),
        422,
    )
    settings = get_settings()
    settings.wa.max_upload_bytes = 100
    try:
        too_big = await client.post(
            f"/wa/chats/{CUSTOMER_JID}/messages/upload",
            data={"providerSessionId": psid},
            files={"file": ("a.pdf", pdf, "application/pdf")},
            headers=headers(owner),
        )
        assert_error(too_big, 413, "file_too_large")
    finally:
        settings.wa.max_upload_bytes = 16 * 1024 * 1024


async def test_api_account_sends_with_api_origin(client: httpx.AsyncClient, run_jobs: Any) -> None:
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid)
    await run_jobs()
    created = await client.post(
        f"/accounts/{owner.account_id}/api-accounts",
        json={"name": "shop backend", "role": "agent"},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    key, secret = created.json()["data"]["key"], created.json()["data"]["secret"]
    api = {"x-api-key": key, "x-api-secret": secret}
    sent = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages",
        json={"action": "send_text", "text": "Siparişiniz kargoda"},
        headers=api,  # the API account's account, and its only session: nothing to name
    )
    assert sent.status_code == 202, sent.text
    origin = sent.json()["data"]["message"]["origin"]
    assert origin["source"] == "api"
    assert origin["actorType"] == "api_account"
    assert origin["apiAccountId"] == created.json()["data"]["id"]
    assert origin["userId"] is None
    viewer_key = await client.post(
        f"/accounts/{owner.account_id}/api-accounts",
        json={"name": "reporting", "role": "viewer"},
        headers=owner.headers,
    )
    read_only = {
        "x-api-key": viewer_key.json()["data"]["key"],
        "x-api-secret": viewer_key.json()["data"]["secret"],
    }
    assert (await client.get("/wa/chats", headers=read_only)).status_code == 200
    assert_error(
        await client.post(
            f"/wa/chats/{CUSTOMER_JID}/messages",
            json={"action": "send_text", "text": "x"},
            headers=read_only,
        ),
        403,
    )
