"""One person is one chat (issue 8, item 14): `@c.us` and `@s.whatsapp.net` are one JID on
every path in and out, and a `@lid` chat joins the phone's chat once the gateway names it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import register
from tests.wa.helpers import create_session, headers, inject

SECRET_HEADER = "X-Ticaret-Webhook-Secret"
PHONE = "905551112233"
LID = "123456789012345@lid"


async def _chats(client: httpx.AsyncClient, caller: Any, psid: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/wa/chats", params={"providerSessionId": psid}, headers=headers(caller)
    )
    assert response.status_code == 200, response.text
    return list(response.json()["data"]["rows"])


async def _timeline(client: httpx.AsyncClient, caller: Any, psid: str, jid: str) -> list[str]:
    response = await client.get(
        f"/wa/chats/{jid}/messages", params={"providerSessionId": psid}, headers=headers(caller)
    )
    assert response.status_code == 200, response.text
    return [m["text"] for m in response.json()["data"]["rows"]]


async def test_c_us_and_s_whatsapp_net_are_one_chat_on_every_path(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    await inject(client, owner, psid, text="WhatsApp Web yazımı", **{"from": f"{PHONE}@c.us"})
    await inject(
        client, owner, psid, text="Telefon yazımı", **{"from": f"{PHONE}:7@s.whatsapp.net"}
    )
    await run_jobs()
    [chat] = await _chats(client, owner, psid)
    assert chat["remoteJid"] == f"{PHONE}@s.whatsapp.net"
    assert chat["unreadCount"] == 2
    # Either spelling names the chat on the way in...
    for spelling in (f"{PHONE}@c.us", f"{PHONE}@s.whatsapp.net"):
        assert len(await _timeline(client, owner, psid, spelling)) == 2
    # ...and a reply sent to either lands in it.
    reply = await client.post(
        f"/wa/chats/{PHONE}@c.us/messages",
        json={"action": "send_text", "text": "Merhaba", "providerSessionId": psid},
        headers=headers(owner),
    )
    assert reply.status_code == 202, reply.text
    assert reply.json()["data"]["message"]["remoteJid"] == f"{PHONE}@s.whatsapp.net"
    await run_jobs()
    [chat] = await _chats(client, owner, psid)
    assert chat["lastMessagePreview"] == "Merhaba"
    contacts = await client.get(
        "/wa/contacts", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert [c["jid"] for c in contacts.json()["data"]["rows"]] == [f"{PHONE}@s.whatsapp.net"]


def _waha_message(psid: str, message_id: str, chat: str, text: str, alt: str | None) -> Any:
    key: dict[str, Any] = {"remoteJid": chat, "fromMe": False, "id": message_id}
    if alt:
        key["remoteJidAlt"] = alt
    return {
        "id": f"evt_{message_id}",
        "event": "message",
        "session": psid,
        "me": {"id": "900000000000@c.us"},
        "engine": "NOWEB",
        "payload": {
            "id": f"false_{chat}_{message_id}",
            "timestamp": 1747218000 + len(message_id),
            "from": chat,
            "fromMe": False,
            "source": "app",
            "body": text,
            "hasMedia": False,
            "ack": 2,
            "_data": {"key": key, "pushName": "Ayşe"},
        },
    }


async def test_a_lid_chat_joins_the_phone_chat_once_the_gateway_names_the_phone(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    created = await create_session(client, owner)
    psid, auth = created["providerSessionId"], {SECRET_HEADER: created["webhookSecret"]}
    bodies = [
        # WhatsApp hides the number: a chat under the LID.
        _waha_message(psid, "3EB0L1D0000000000001", LID, "LID ile ilk mesaj", None),
        # The same person writes from a linked device that shows the number.
        _waha_message(psid, "3EB0P40NE00000000002", f"{PHONE}@c.us", "Numara ile", None),
        # Then the gateway names both: the two chats are one.
        _waha_message(psid, "3EB0B0TH000000000003", LID, "İkisi birden", f"{PHONE}@s.whatsapp.net"),
    ]
    for body in bodies:
        stored = await client.post(f"/wa/provider-events/{psid}", json=body, headers=auth)
        assert stored.status_code == 200, stored.text
        await run_jobs()
    [chat] = await _chats(client, owner, psid)
    assert chat["remoteJid"] == f"{PHONE}@s.whatsapp.net" and chat["altJid"] == LID
    assert chat["unreadCount"] == 3
    assert sorted(await _timeline(client, owner, psid, LID)) == sorted(
        ["LID ile ilk mesaj", "Numara ile", "İkisi birden"]
    )
    contacts = await client.get(
        "/wa/contacts", params={"providerSessionId": psid}, headers=headers(owner)
    )
    [contact] = contacts.json()["data"]["rows"]
    assert contact["jid"] == f"{PHONE}@s.whatsapp.net" and contact["lid"] == LID
