"""A workspace message's attachments go out on the conversation's channel: WhatsApp gets the
file itself through its media send (no public URL of it needed); Messenger and Instagram, which
only fetch files by URL, refuse it clearly instead of sending the text without it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from tests.conversations.helpers import Api, assert_error, send, upload
from tests.helpers import register
from tests.social.helpers import GRAPH, PAGE_ID, connect_page, customer_message, deliver, page_body
from tests.wa.helpers import create_session, inject, messages

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 40
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
EVO = "https://evo.example.com"
EVO_CHAT = "905551234567@s.whatsapp.net"


async def _only_conversation(api: Api, type_: str) -> dict[str, Any]:
    [row] = (await api.get("/conversations", params={"type": type_}))["rows"]
    return dict(row)


async def test_a_file_alone_goes_to_whatsapp_as_one_media_send(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    api = Api(client, owner)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid, "Faturamı gönderir misiniz?")
    await run_jobs()
    chat = await _only_conversation(api, "whatsapp")

    invoice = await upload(api, PDF, "fatura-1042.pdf", "application/pdf")
    sent = await send(api, chat["id"], attachmentIds=[invoice["id"]])
    operation = sent["operation"]
    assert operation["channel"] == "whatsapp" and operation["kind"] == "send_media"
    assert sent["message"]["operationId"] == operation["id"]
    assert sent["message"]["text"] is None
    assert [a["id"] for a in sent["message"]["attachments"]] == [invoice["id"]]
    await run_jobs()  # the sandbox gateway takes it; the acks come back

    assert (await api.get(f"/wa/operations/{operation['id']}"))["status"] == "sent"
    [ours] = [m for m in (await messages(client, owner, psid))["rows"] if m["fromMe"]]
    assert ours["type"] == "document" and ours["hasMedia"] is True
    assert ours["media"]["mimetype"] == "application/pdf"
    assert ours["media"]["filename"] == "fatura-1042.pdf"
    assert sent["message"]["sourceMessageId"] == ours["id"]
    # The gateway's `wa.message.sent` is the message we stored, not a second one.
    assert (await api.get(f"/conversations/{chat['id']}"))["messageCount"] == 2


@pytest.fixture
def evolution() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=EVO, assert_all_called=False) as evo:
        evo.post("/instance/create").respond(201, json={"instance": {"status": "close"}})
        evo.post(path__regex=r"^/webhook/set/.+$").respond(201, json={})
        evo.get(path__regex=r"^/instance/connect/.+$").respond(200, json={"code": "2@x"})
        yield evo


async def test_text_and_a_photo_reach_evolution_as_the_file_bytes_with_a_caption(
    client: httpx.AsyncClient, run_jobs: Any, evolution: respx.MockRouter, dns: Any
) -> None:
    # The faked gateway's name answers a public address for the base URL check.
    dns({"evo.example.com": [["93.184.216.34"]]})
    owner = await register(client)
    api = Api(client, owner)
    created = await create_session(
        client, owner, provider="evolution", config={"baseUrl": EVO, "apiKey": "k" * 20}
    )
    psid = created["providerSessionId"]
    inbound = {
        "event": "messages.upsert",
        "instance": psid,
        "data": {
            "key": {"remoteJid": EVO_CHAT, "fromMe": False, "id": "3A00112233445566AA"},
            "pushName": "Ayşe",
            "message": {"conversation": "Kırmızısının fotoğrafı var mı?"},
            "messageType": "conversation",
            "messageTimestamp": 1747218000,
        },
    }
    stored = await client.post(
        f"/wa/provider-events/{psid}",
        json=inbound,
        headers={"X-Ticaret-Webhook-Secret": created["webhookSecret"]},
    )
    assert stored.status_code == 200, stored.text
    await run_jobs()
    chat = await _only_conversation(api, "whatsapp")

    media_api = evolution.post(path__regex=r"^/message/sendMedia/.+$").respond(
        201,
        json={
            "key": {"remoteJid": EVO_CHAT, "fromMe": True, "id": "BAE5F3C2A1D0E9F9"},
            "status": "PENDING",
            "message": {"imageMessage": {"caption": "Evet, işte kırmızısı."}},
            "messageType": "imageMessage",
            "messageTimestamp": 1747218600,
        },
    )
    photo = await upload(api, PNG, "kırmızı elbise.png", "image/png")
    sent = await send(
        api, chat["id"], content={"tr": "Evet, işte kırmızısı."}, attachmentIds=[photo["id"]]
    )
    assert sent["operation"]["kind"] == "send_media"
    await run_jobs()

    assert media_api.call_count == 1
    body = json.loads(media_api.calls.last.request.content)
    assert base64.b64decode(body["media"]) == PNG
    assert body["mimetype"] == "image/png" and body["mediatype"] == "image"
    assert body["fileName"] == "kırmızı elbise.png"
    assert body["caption"] == "Evet, işte kırmızısı."
    assert body["number"] == EVO_CHAT
    done = await api.get(f"/wa/operations/{sent['operation']['id']}")
    assert done["status"] == "sent", done


async def test_whatsapp_refuses_what_it_cannot_send_in_one_message(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    api = Api(client, owner)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid)
    await run_jobs()
    chat = await _only_conversation(api, "whatsapp")
    first = await upload(api, PNG, "a.png", "image/png")
    second = await upload(api, PDF, "b.pdf", "application/pdf")
    url = f"/conversations/{chat['id']}/messages"

    two = await api.response("POST", url, json={"attachmentIds": [first["id"], second["id"]]})
    assert_error(two, 422, "attachment_not_deliverable")
    long_caption = await api.response(
        "POST", url, json={"content": {"tr": "x" * 4097}, "attachmentIds": [first["id"]]}
    )
    assert_error(long_caption, 422, "attachment_not_deliverable")
    # Nothing was stored or sent.
    assert (await api.get(f"/conversations/{chat['id']}"))["messageCount"] == 1
    assert not [m for m in (await messages(client, owner, psid))["rows"] if m["fromMe"]]


async def test_a_messenger_conversation_refuses_attachments_rather_than_dropping_them(
    client: httpx.AsyncClient, graph: respx.MockRouter, run_jobs: Any
) -> None:
    owner = await register(client)
    api = Api(client, owner)
    await connect_page(client, owner, graph)
    response = await deliver(client, page_body(customer_message("Faturayı atar mısınız?")))
    assert response.status_code == 200, response.text
    await run_jobs()
    chat = await _only_conversation(api, "meta")
    send_api = graph.post(f"{GRAPH}/{PAGE_ID}/messages").respond(
        200, json={"recipient_id": "x", "message_id": "m_never"}
    )
    invoice = await upload(api, PDF, "fatura.pdf", "application/pdf")
    url = f"/conversations/{chat['id']}/messages"

    with_text = await api.response(
        "POST", url, json={"content": {"tr": "Ekte."}, "attachmentIds": [invoice["id"]]}
    )
    assert_error(with_text, 422, "attachment_not_deliverable")
    alone = await api.response("POST", url, json={"attachmentIds": [invoice["id"]]})
    assert_error(alone, 422, "attachment_not_deliverable")
    await run_jobs()
    assert not send_api.called
    assert (await api.get(f"/conversations/{chat['id']}"))["messageCount"] == 1
    # The text alone still goes out.
    sent = await send(api, chat["id"], content={"tr": "Faturanız e-postanızda."})
    assert sent["operation"]["channel"] == "meta"
