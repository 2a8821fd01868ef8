"""Events that used to be missing (issue 8, item 16): our own sends move the chat, Evolution
confirms edits made through its API, and WAHA is only asked for events its release knows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import select

from tests.helpers import register
from tests.wa.helpers import CUSTOMER_JID, create_session, customer_wrote, headers

EVO = "https://evo.example.com"
WAHA = "https://waha.example.com"


async def _events(account_id: str, type_: str) -> list[dict[str, Any]]:
    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Event

    async with get_sessionmaker()() as session:
        rows = await session.scalars(
            select(Event.data)
            .where(Event.account_id == uuid.UUID(account_id), Event.type == type_)
            .order_by(Event.seq)
        )
        return list(rows.all())


async def test_our_own_reply_moves_the_chat_and_emits_chat_updated(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner, psid, _ = await customer_wrote(client, run_jobs)
    before = await _events(owner.account_id, "wa.chat.updated")
    assert before[-1]["unreadCount"] == 1
    sent = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages",
        json={"action": "send_text", "text": "Evet, stokta var", "providerSessionId": psid},
        headers=headers(owner),
    )
    assert sent.status_code == 202, sent.text
    after = await _events(owner.account_id, "wa.chat.updated")
    assert len(after) == len(before) + 1
    assert after[-1]["lastMessagePreview"] == "Evet, stokta var"
    assert after[-1]["lastMessageFromMe"] is True and after[-1]["unreadCount"] == 0


@pytest.fixture
def evolution() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=EVO, assert_all_called=False) as evo:
        evo.post("/instance/create").respond(201, json={"instance": {"status": "close"}})
        evo.post(path__regex=r"^/webhook/set/.+$", name="webhook").respond(201, json={})
        evo.get(path__regex=r"^/instance/connect/.+$").respond(200, json={"code": "2@x"})
        yield evo


async def test_evolution_confirms_an_edit_made_through_its_api(
    client: httpx.AsyncClient, run_jobs: Any, evolution: respx.MockRouter
) -> None:
    owner = await register(client)
    created = await create_session(
        client, owner, provider="evolution", config={"baseUrl": EVO, "apiKey": "k" * 20}
    )
    registered = json.loads(evolution.routes["webhook"].calls[0].request.content)
    assert "SEND_MESSAGE_UPDATE" in registered["webhook"]["events"]
    psid, auth = (
        created["providerSessionId"],
        {"X-Ticaret-Webhook-Secret": created["webhookSecret"]},
    )
    chat = "905551234567@s.whatsapp.net"
    ours = {
        "event": "send.message",
        "instance": psid,
        "data": {
            "key": {"remoteJid": chat, "fromMe": True, "id": "3EB0AA00BB11CC22DD33"},
            "message": {"conversation": "Fiyat 450 TL"},
            "messageType": "conversation",
            "messageTimestamp": 1747218000,
            "status": "SERVER_ACK",
        },
    }
    # What `updateMessage` posts after an edit through the API: the sent protocolMessage.
    edit = {
        "event": "send.message.update",
        "instance": psid,
        "data": {
            "key": {"remoteJid": chat, "fromMe": True, "id": "3EB0AA00BB11CC22DD33"},
            "type": 14,
            "editedMessage": {"conversation": "Fiyat 425 TL"},
            "timestampMs": "1747218100000",
        },
    }
    for body in (ours, edit):
        stored = await client.post(f"/wa/provider-events/{psid}", json=body, headers=auth)
        assert stored.status_code == 200, stored.text
        await run_jobs()
    page = await client.get(
        f"/wa/chats/{chat}/messages", params={"providerSessionId": psid}, headers=headers(owner)
    )
    [message] = page.json()["data"]["rows"]
    assert message["text"] == "Fiyat 425 TL" and message["edited"] is True
    updated = await _events(owner.account_id, "wa.message.updated")
    assert updated[-1]["text"] == "Fiyat 425 TL"


@pytest.mark.parametrize(
    ("version", "edited", "labels"),
    [("2024.5.2", False, False), ("2024.10.8", False, True), ("2025.6.3", True, True)],
)
async def test_waha_is_only_asked_for_events_its_release_accepts(
    client: httpx.AsyncClient, version: str, edited: bool, labels: bool
) -> None:
    owner = await register(client)
    with respx.mock(base_url=WAHA, assert_all_called=False) as waha:
        create = waha.post("/api/sessions").respond(201, json={"name": "x", "status": "STOPPED"})
        waha.post(path__regex=r"^/api/sessions/.+/start$").respond(201, json={})
        waha.get("/api/server/version").respond(
            200, json={"version": version, "engine": "NOWEB", "tier": "CORE"}
        )
        await create_session(client, owner, provider="waha", config={"baseUrl": WAHA})
    [webhook] = json.loads(create.calls[0].request.content)["config"]["webhooks"]
    events = webhook["events"]
    assert {"session.status", "message.any", "message.ack", "message.revoked"} <= set(events)
    assert ("message.edited" in events) is edited
    assert ("label.chat.added" in events) is labels
