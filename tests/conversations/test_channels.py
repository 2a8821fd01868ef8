"""WhatsApp chats and Messenger / Instagram threads are conversations from their first
message on: their messages are mirrored once each, and a workspace send goes out through the
channel's own send path (its operation, the gateway, the acks)."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from tests.conversations.helpers import Api, assert_error, message_events, send
from tests.helpers import register
from tests.social.helpers import (
    GRAPH,
    IG_GRAPH,
    IG_ID,
    IGSID,
    PAGE_ID,
    PSID,
    connect_instagram,
    connect_page,
    customer_message,
    deliver,
    instagram_body,
    page_body,
)
from tests.wa.helpers import CUSTOMER_JID, create_session, inject, messages, share_and_accept


async def _only_conversation(api: Api, **params: Any) -> dict[str, Any]:
    [row] = (await api.get("/conversations", params=params))["rows"]
    return dict(row)


async def test_a_whatsapp_chat_becomes_a_conversation_and_a_reply_goes_through_the_gateway(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    api = Api(client, owner)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid, "Merhaba, bu elbisenin fiyatı nedir?")
    await inject(client, owner, psid, "Kırmızısı var mı?")
    await run_jobs()

    chat = await _only_conversation(api, type="whatsapp")
    assert chat["channel"]["providerSessionId"] == psid
    assert chat["channel"]["remoteJid"] == CUSTOMER_JID
    assert chat["messageCount"] == 2
    history = (await api.get(f"/conversations/{chat['id']}/history"))["history"]
    assert [(h["role"], h["content"]) for h in history] == [
        ("user", "Merhaba, bu elbisenin fiyatı nedir?"),
        ("user", "Kırmızısı var mı?"),
    ]
    page = await api.get(f"/conversations/{chat['id']}/messages")
    assert all(m["source"] == "wa" and m["sender"]["type"] == "customer" for m in page["rows"])

    sent = await send(
        api, chat["id"], content={"tr": "Evet, kırmızısı var.", "en": "Yes, we have red."}
    )
    operation = sent["operation"]
    assert operation["channel"] == "whatsapp"
    assert operation["kind"] == "send_text"
    assert operation["status"] == "queued"
    assert sent["message"]["operationId"] == operation["id"]
    assert sent["message"]["text"] == "Evet, kırmızısı var."  # the first language written
    await run_jobs()  # the sandbox gateway takes it; the acks come back

    done = await api.get(f"/wa/operations/{operation['id']}")
    assert done["status"] == "sent", done
    wa_messages = (await messages(client, owner, psid))["rows"]
    ours = [m for m in wa_messages if m["fromMe"]]
    assert [m["text"] for m in ours] == ["Evet, kırmızısı var."]
    assert sent["message"]["sourceMessageId"] == ours[0]["id"]
    # The gateway's `wa.message.sent` is the message we stored: still three, not four.
    detail = await api.get(f"/conversations/{chat['id']}")
    assert detail["messageCount"] == 3
    texts = [m["text"] for m in (await api.get(f"/conversations/{chat['id']}/messages"))["rows"]]
    assert texts == ["Merhaba, bu elbisenin fiyatı nedir?", "Kırmızısı var mı?", ours[0]["text"]]

    # A closed conversation sends nothing through its channel.
    await api.patch(f"/conversations/{chat['id']}", json={"status": "closed"})
    closed = await api.response(
        "POST", f"/conversations/{chat['id']}/messages", json={"content": {"tr": "x"}}
    )
    assert_error(closed, 409, "conversation_closed")


async def test_redelivered_events_store_each_message_once(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from sqlalchemy import select

    from ticaret.conversations.tasks import mirror_wa_message
    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Event

    owner = await register(client)
    api = Api(client, owner)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid, "Bir")
    await run_jobs()
    async with get_sessionmaker()() as session:
        event_id = await session.scalar(select(Event.id).where(Event.type == "wa.message.received"))
    assert event_id is not None
    # The outbox may deliver an event again (a retried job, a sweep): nothing changes.
    for _ in range(2):
        await mirror_wa_message.enqueue(event_id)
        await run_jobs()
    chat = await _only_conversation(api)
    assert chat["messageCount"] == 1
    assert len((await api.get(f"/conversations/{chat['id']}/messages"))["rows"]) == 1
    assert len(await message_events(owner.account_id)) == 1


async def test_a_shared_sessions_chat_is_a_conversation_of_each_account(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    partner = await register(client, name="Partner")
    psid = (await create_session(client, owner))["providerSessionId"]
    await share_and_accept(client, owner, partner, psid)
    await inject(client, owner, psid, "Merhaba")
    await run_jobs()
    mine = await _only_conversation(Api(client, owner))
    theirs = await _only_conversation(Api(client, partner))
    assert mine["id"] != theirs["id"]
    assert mine["messageCount"] == theirs["messageCount"] == 1
    # The partner answers through the shared session: its own conversation counts it, and
    # the owner's conversation gets the message as the gateway reports it.
    sent = await send(Api(client, partner), theirs["id"], content={"tr": "Buyrun"})
    assert sent["operation"]["channel"] == "whatsapp"
    await run_jobs()
    assert (await Api(client, partner).get(f"/conversations/{theirs['id']}"))["messageCount"] == 2
    owner_view = await Api(client, owner).get(f"/conversations/{mine['id']}/history")
    assert [(h["role"], h["content"]) for h in owner_view["history"]] == [
        ("user", "Merhaba"),
        ("operator", "Buyrun"),
    ]


async def test_a_page_thread_becomes_a_conversation_and_a_reply_goes_through_messenger(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    api = Api(client, owner)
    asset = await connect_page(client, owner, graph)
    response = await deliver(client, page_body(customer_message("Bu elbise stokta var mı?")))
    assert response.status_code == 200, response.text
    await run_jobs()
    chat = await _only_conversation(api, type="meta")
    assert chat["channel"]["assetId"] == asset["id"]
    assert chat["messageCount"] == 1

    send_api = graph.post(f"{GRAPH}/{PAGE_ID}/messages").respond(
        200, json={"recipient_id": PSID, "message_id": "m_reply_1"}
    )
    sent = await send(api, chat["id"], content={"tr": "Evet, var."}, channelId=asset["id"])
    assert sent["operation"]["channel"] == "meta"
    assert sent["operation"]["kind"] == "send_message"
    await run_jobs()
    assert send_api.called
    payload = send_api.calls.last.request.content.decode()
    assert "Evet, var." in payload and PSID in payload
    detail = await api.get(f"/conversations/{chat['id']}")
    assert detail["messageCount"] == 2  # the echo of our send is the message we stored
    history = (await api.get(f"/conversations/{chat['id']}/history"))["history"]
    assert [(h["role"], h["content"]) for h in history] == [
        ("user", "Bu elbise stokta var mı?"),
        ("operator", "Evet, var."),
    ]


async def test_an_instagram_thread_becomes_an_instagram_conversation(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    api = Api(client, owner)
    await connect_instagram(client, owner, graph)
    message = customer_message("Bedeni var mı?", sender=IGSID, recipient=IG_ID)
    response = await deliver(client, instagram_body(message), platform="instagram")
    assert response.status_code == 200, response.text
    await run_jobs()
    chat = await _only_conversation(api, type="instagram")
    assert chat["messageCount"] == 1
    send_api = graph.post(url__regex=rf"^{IG_GRAPH}/\d+/messages$").respond(
        200, json={"recipient_id": IGSID, "message_id": "m_ig_1"}
    )
    sent = await send(api, chat["id"], content={"en": "Yes: S, M and L."})
    assert sent["operation"]["channel"] == "instagram"
    await run_jobs()
    assert send_api.called
    assert (await api.get(f"/conversations/{chat['id']}"))["messageCount"] == 2


async def test_a_chats_conversation_belongs_to_the_customer_with_its_phone(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    api = Api(client, owner)
    known = await api.post("/crm/customers", json={"title": "Ayşe", "phones": ["+905551112233"]})
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid, "Merhaba")
    await run_jobs()
    chat = await _only_conversation(api)
    assert chat["customerId"] == known["id"]
    assert chat["customer"] == {"id": known["id"], "title": "Ayşe"}
    filtered = await api.get("/conversations", params={"customerId": known["id"]})
    assert [row["id"] for row in filtered["rows"]] == [chat["id"]]


async def test_a_customer_made_after_the_first_message_gets_the_conversation_on_the_next(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    api = Api(client, owner)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid, "Merhaba")
    await run_jobs()
    assert (await _only_conversation(api))["customerId"] is None
    later = await api.post("/crm/customers", json={"title": "Ayşe", "phones": ["05551112233"]})
    await run_jobs()  # the CRM links the chat to the new customer
    await inject(client, owner, psid, "Siparişim nerede?")
    await run_jobs()
    chat = await _only_conversation(api)
    assert chat["customerId"] == later["id"] and chat["messageCount"] == 2
    page = await api.get(f"/conversations/{chat['id']}/messages")
    assert [m["sender"]["customerId"] for m in page["rows"]] == [None, later["id"]]
