"""Evolution webhook bodies through the inbox into chats and messages; label CRUD; lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import respx

from tests.helpers import add_member, assert_error, register
from tests.wa.helpers import create_session, headers, inject

PAYLOADS = Path(__file__).parent / "gateways" / "payloads"
EVO = "https://evo.example.com"
DIRECT = "905551234567@s.whatsapp.net"
GROUP = "120363041234567890@g.us"


async def _post(client: httpx.AsyncClient, psid: str, secret: str, *names: str) -> None:
    for name in names:
        response = await client.post(
            f"/wa/provider-events/{psid}",
            content=(PAYLOADS / name).read_bytes(),
            headers={"X-Ticaret-Webhook-Secret": secret},
        )
        assert response.status_code == 200, (name, response.text)


async def _rows(client: httpx.AsyncClient, caller: Any, psid: str, chat: str) -> dict[str, Any]:
    response = await client.get(
        f"/wa/chats/{chat}/messages", params={"providerSessionId": psid}, headers=headers(caller)
    )
    assert response.status_code == 200, response.text
    return {m["messageId"]: m for m in response.json()["data"]["rows"]}


async def test_evolution_events_update_messages_chats_contacts(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    with respx.mock(base_url=EVO, assert_all_called=False) as evo:
        evo.post("/instance/create").respond(201, json={"instance": {"status": "close"}})
        evo.post(path__regex=r"^/webhook/set/.+$").respond(201, json={})
        evo.get(path__regex=r"^/instance/connect/.+$").respond(200, json={"count": 0})
        created = await create_session(client, owner, provider="evolution", config={"baseUrl": EVO})
    psid, secret = created["providerSessionId"], created["webhookSecret"]

    # Messages first (jobs may run in any order), then what refers to them.
    await _post(
        client,
        psid,
        secret,
        "evolution_send_message.json",
        "evolution_upsert_image.json",
        "evolution_upsert_location.json",
        "evolution_upsert_group_lid_reply.json",
        "evolution_upsert_direct_lid.json",
        "evolution_contacts_upsert.json",
        "evolution_chats_upsert.json",
        "evolution_connection_update.json",
    )
    await run_jobs()
    await _post(
        client,
        psid,
        secret,
        "evolution_messages_update_delivered.json",
        "evolution_messages_update_read.json",
        "evolution_messages_edited.json",
        "evolution_messages_edited_revoke.json",
        "evolution_messages_delete.json",
        "evolution_upsert_reaction.json",
        "evolution_qrcode_updated.json",
        "evolution_labels_association.json",
    )
    await run_jobs()

    direct = await _rows(client, owner, psid, DIRECT)
    ours = direct["BAE5F3C2A1D0E9F8"]
    assert ours["fromMe"] is True and ours["status"] == 3
    assert ours["reactions"] == {"905551234567@s.whatsapp.net": "👍"}
    image = direct["3A7F0C1D2E3B4A5C6D7E"]
    assert image["edited"] is True and image["text"] != "Bu modelden 2 tane"
    location = direct["3A11223344556677AB"]
    assert location["type"] == "location" and location["location"]["latitude"]
    assert location["deletedForEveryone"] is True
    reaction = direct["3A0102030405060708EF"]
    assert reaction["type"] == "reaction" and reaction["emoji"] == "👍"
    assert reaction["reactionTarget"] == "BAE5F3C2A1D0E9F8"

    group = await _rows(client, owner, psid, GROUP)
    reply = group["3EB0A1B2C3D4E5F60718"]
    assert reply["chatType"] == "group"
    assert reply["participant"] == "214365870912345@lid"
    assert reply["senderJidResolved"] == "905559998877@s.whatsapp.net"
    assert reply["senderPhone"] == "905559998877"
    assert reply["quotedMessage"]["messageId"] == "3EB0FFEE00112233AA"
    assert "905321112233@s.whatsapp.net" in reply["mentions"]
    assert reply["deletedForEveryone"] is True

    chats = await client.get(
        "/wa/chats", params={"providerSessionId": psid, "type": "group"}, headers=headers(owner)
    )
    [group_chat] = chats.json()["data"]["rows"]
    assert group_chat["name"] == "Toptan Alıcılar"
    lid_chat = await client.get(
        "/wa/chats/98765432101234@lid", params={"providerSessionId": psid}, headers=headers(owner)
    )
    # The LID's chat and the phone's are one chat: filed under the phone, the LID beside it.
    assert lid_chat.json()["data"]["remoteJid"] == DIRECT
    assert lid_chat.json()["data"]["altJid"] == "98765432101234@lid"

    contacts = await client.get(
        "/wa/contacts", params={"providerSessionId": psid}, headers=headers(owner)
    )
    jids = {c["jid"] for c in contacts.json()["data"]["rows"]}
    # A group member known by LID and phone is one contact, under the phone.
    assert {DIRECT, GROUP, "905559998877@s.whatsapp.net"} <= jids
    groups = await client.get(
        "/wa/contacts",
        params={"providerSessionId": psid, "isGroup": "true"},
        headers=headers(owner),
    )
    assert [c["jid"] for c in groups.json()["data"]["rows"]] == [GROUP]
    by_lid = await client.get(
        "/wa/contacts/214365870912345@lid",
        params={"providerSessionId": psid},
        headers=headers(owner),
    )
    assert by_lid.status_code == 200
    searched = await client.get(
        "/wa/contacts", params={"providerSessionId": psid, "q": "Mehmet"}, headers=headers(owner)
    )
    assert DIRECT in {c["jid"] for c in searched.json()["data"]["rows"]}

    detail = await client.get(f"/accounts/{owner.account_id}/wa-sessions", headers=owner.headers)
    assert detail.json()["data"]["rows"][0]["status"] == "working"
    assert detail.json()["data"]["rows"][0]["meJid"] == "905321112233@s.whatsapp.net"

    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import InboxItem

    async with get_sessionmaker()() as session:
        statuses = {
            r.event_type: r.status for r in (await session.scalars(select(InboxItem))).all()
        }
    assert statuses["labels.association"] == "ignored"
    assert statuses["messages.upsert"] == "processed"
    assert "failed" not in statuses.values()


async def test_label_crud_rules(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    created = await client.post(
        "/wa/labels",
        json={"name": "VIP", "color": "#AABBCC", "description": "big spenders"},
        headers=headers(agent),
    )
    assert created.status_code == 201, created.text
    label = created.json()["data"]
    assert label["accountId"] == owner.account_id
    duplicate = await client.post(
        "/wa/labels", json={"name": "vip", "color": "#000000"}, headers=headers(agent)
    )
    assert_error(duplicate, 409, "label_name_taken")
    assert_error(
        await client.post("/wa/labels", json={"name": "x", "color": "red"}, headers=headers(agent)),
        422,
    )
    assert_error(
        await client.post("/wa/labels", json={"color": "#000000"}, headers=headers(agent)), 422
    )

    renamed = await client.patch(
        f"/wa/labels/{label['id']}",
        json={"name": "VIP+", "status": "archived", "entityVersion": label["entityVersion"]},
        headers=headers(agent),
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["data"]["name"] == "VIP+"
    assert renamed.json()["data"]["entityVersion"] != label["entityVersion"]
    stale = await client.patch(
        f"/wa/labels/{label['id']}",
        json={"color": "#000000"},
        headers={**headers(agent), "If-Match": label["entityVersion"]},
    )
    conflict = assert_error(stale, 409, "version_conflict")
    # Every conflict names the version to reload, under the same key.
    assert conflict["details"] == {"currentEntityVersion": renamed.json()["data"]["entityVersion"]}
    assert_error(
        await client.patch(
            f"/wa/labels/{label['id']}", json={"name": "x"}, headers=headers(viewer)
        ),
        403,
    )
    active = await client.get("/wa/labels", params={"status": "active"}, headers=headers(viewer))
    assert active.json()["data"]["rows"] == []
    archived = await client.get(
        "/wa/labels", params={"status": "archived"}, headers=headers(viewer)
    )
    assert [x["name"] for x in archived.json()["data"]["rows"]] == ["VIP+"]
    assert_error(
        await client.delete(
            "/wa/labels/00000000-0000-0000-0000-000000000000", headers=headers(agent)
        ),
        404,
    )
    deleted = await client.delete(f"/wa/labels/{label['id']}", headers=headers(agent))
    assert deleted.status_code == 200
    history = await client.get(
        "/wa/labels/history", params={"labelId": label["id"]}, headers=headers(viewer)
    )
    assert [h["action"] for h in history.json()["data"]["rows"]] == [
        "deleted",
        "updated",
        "created",
    ]
    assert history.json()["data"]["rows"][0]["labelName"] == "VIP+"


async def test_chat_list_filters_and_cursor(client: httpx.AsyncClient, run_jobs: Any) -> None:
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    for n in range(5):
        response = await client.post(
            f"/wa/sandbox/{psid}/inbound",
            json={"from": f"90555000000{n}", "text": f"Sipariş {n}", "pushName": f"Kişi {n}"},
            headers=headers(owner),
        )
        assert response.status_code == 200
    await inject(client, owner, psid)
    await run_jobs()
    first = await client.get(
        "/wa/chats", params={"providerSessionId": psid, "limit": 4}, headers=headers(owner)
    )
    body = first.json()["data"]
    assert len(body["rows"]) == 4 and body["hasMore"] is True
    second = await client.get(
        "/wa/chats",
        params={"providerSessionId": psid, "limit": 4, "cursor": body["nextCursor"]},
        headers=headers(owner),
    )
    ids = [c["id"] for c in body["rows"]] + [c["id"] for c in second.json()["data"]["rows"]]
    assert len(set(ids)) == 6
    named = await client.get(
        "/wa/chats", params={"providerSessionId": psid, "q": "Kişi 3"}, headers=headers(owner)
    )
    assert [c["name"] for c in named.json()["data"]["rows"]] == ["Kişi 3"]
    assert_error(
        await client.get(
            "/wa/chats", params={"providerSessionId": psid, "type": "bogus"}, headers=headers(owner)
        ),
        422,
    )
    assert_error(
        await client.get(
            "/wa/chats/905000000000@s.whatsapp.net",
            params={"providerSessionId": psid},
            headers=headers(owner),
        ),
        404,
        "chat_not_found",
    )


async def test_chat_and_message_label_links(client: httpx.AsyncClient, run_jobs: Any) -> None:
    owner = await register(client)
    viewer = await add_member(client, owner, "viewer")
    psid = (await create_session(client, owner))["providerSessionId"]
    injected = await inject(client, owner, psid)
    await run_jobs()
    jid = "905551112233@s.whatsapp.net"
    q = {"providerSessionId": psid}
    ids = []
    for name in ("Acil", "Bekliyor", "Kargo"):
        created = await client.post(
            "/wa/labels", json={"name": name, "color": "#101010"}, headers=headers(owner)
        )
        ids.append(created.json()["data"]["id"])
    chat_url = f"/wa/chats/{jid}/labels"
    put = await client.put(chat_url, json={"labelIds": ids[:2]}, params=q, headers=headers(owner))
    assert put.status_code == 200, put.text
    assert [x["name"] for x in put.json()["data"]] == ["Acil", "Bekliyor"]
    swapped = await client.put(
        chat_url, json={"labelIds": [ids[1], ids[2]]}, params=q, headers=headers(owner)
    )
    assert [x["name"] for x in swapped.json()["data"]] == ["Bekliyor", "Kargo"]
    listed = await client.get(chat_url, params=q, headers=headers(viewer))
    assert [x["id"] for x in listed.json()["data"]] == [ids[1], ids[2]]
    assert_error(
        await client.put(chat_url, json={"labelIds": ["nope"]}, params=q, headers=headers(owner)),
        422,
    )
    assert_error(
        await client.post(chat_url, json={"labelId": ids[0]}, params=q, headers=headers(viewer)),
        403,
    )
    assert_error(
        await client.delete(f"{chat_url}/{ids[0]}", params=q, headers=headers(owner)),
        404,
        "label_not_linked",
    )
    cleared = await client.put(chat_url, json={"labelIds": []}, params=q, headers=headers(owner))
    assert cleared.json()["data"] == []

    message_url = f"/wa/chats/{jid}/messages/{injected['messageId']}/labels"
    added = await client.post(
        message_url, json={"labelId": ids[0]}, params=q, headers=headers(owner)
    )
    assert [x["id"] for x in added.json()["data"]] == [ids[0]]
    twice = await client.post(
        message_url, json={"labelId": ids[0]}, params=q, headers=headers(owner)
    )
    assert [x["id"] for x in twice.json()["data"]] == [ids[0]]
    assert [
        x["id"]
        for x in (await client.get(message_url, params=q, headers=headers(viewer))).json()["data"]
    ] == [ids[0]]
    removed = await client.delete(f"{message_url}/{ids[0]}", params=q, headers=headers(owner))
    assert removed.status_code == 200 and removed.json()["data"] == []
    assert_error(
        await client.get(f"/wa/chats/{jid}/messages/NOPE/labels", params=q, headers=headers(owner)),
        404,
        "message_not_found",
    )
    history = await client.get("/wa/labels/history", params=q, headers=headers(owner))
    link_actions = [
        (h["action"], h["targetType"])
        for h in history.json()["data"]["rows"]
        if h["targetType"] != "label"
    ]
    # Adding the same label twice is recorded once.
    assert link_actions.count(("added", "message")) == 1
    assert link_actions.count(("removed", "chat")) == 3
