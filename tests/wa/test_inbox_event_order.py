"""Events of one drained batch keep the order they were emitted in, whichever way they were
written: the set-based runs insert theirs at once (`emit_many`), a call applied on its own
adds its events to the session (`emit`, written at the next flush). An event `emit` added
before a run's events is written first, so `seq` (the delivery order) and the live console
both follow the order of the calls, for every account that sees the session."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from tests.helpers import live_channel, live_events, register
from tests.wa.helpers import create_session, provider_calls
from ticaret.core.db import get_sessionmaker
from ticaret.models import Event, InboxItem
from ticaret.wa.gateways.sandbox import SANDBOX_ME_JID, inbound_message_payload

T0 = 1747218000
ALI = "905551110001@s.whatsapp.net"


async def test_a_batch_of_runs_and_single_calls_emits_in_call_order_to_every_account(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    partner = await register(client)
    created = await create_session(client, owner)
    psid = created["providerSessionId"]
    offered = await client.post(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}/shares",
        json={"accountId": partner.account_id},
        headers=owner.headers,
    )
    assert offered.status_code == 201, offered.text
    accepted = await client.post(
        f"/accounts/{partner.account_id}/wa-session-shares/{offered.json()['data']['id']}/accept",
        headers=partner.headers,
    )
    assert accepted.status_code == 200, accepted.text

    pubsub = await live_channel(owner.account_id, partner.account_id)

    reply = {
        "id": "evt_R1",
        "event": "message.any",
        "session": psid,
        "me": {"id": SANDBOX_ME_JID},
        "payload": {
            "id": f"true_{ALI}_R1",
            "timestamp": T0,
            "from": SANDBOX_ME_JID,
            "to": ALI,
            "fromMe": True,
            "source": "app",
            "body": "Merhaba",
            "hasMedia": False,
            "ack": 1,
        },
    }
    read = {
        "id": "evt_ack_R1",
        "event": "message.ack",
        "session": psid,
        "payload": {
            "id": f"true_{ALI}_R1",
            "from": SANDBOX_ME_JID,
            "to": ALI,
            "fromMe": True,
            "ack": 3,
        },
    }
    answer = inbound_message_payload(
        psid, from_phone_or_jid=ALI, text="Teşekkürler", push_name="Ali", message_id="A1"
    )
    answer["payload"]["timestamp"] = T0 + 1
    # A run (the reply), a call applied on its own (the ack), a run (the answer): one batch.
    await provider_calls(client, created, [reply, read, answer])
    await run_jobs()

    expected = [
        ("wa.message.sent", "R1"),
        ("wa.chat.updated", ALI),
        ("wa.message.updated", "R1"),
        ("wa.message.received", "A1"),
        ("wa.chat.updated", ALI),
    ]

    def named(event_type: str, data: dict[str, Any]) -> tuple[str, str]:
        return event_type, data.get("messageId") or data["remoteJid"]

    async with get_sessionmaker()() as session:
        items = list(
            await session.scalars(
                select(InboxItem.status).where(InboxItem.payload["session"].astext == psid)
            )
        )
        assert items == ["processed"] * 3
        for account in (owner.account_id, partner.account_id):
            stored = await session.execute(
                select(Event.type, Event.data)
                .where(Event.account_id == account, Event.provider_session_id == psid)
                .where(Event.type.like("wa.message.%") | Event.type.like("wa.chat.%"))
                .order_by(Event.seq)
            )
            assert [named(t, d) for t, d in stored.tuples()] == expected

    published: dict[str, list[tuple[str, str]]] = {owner.account_id: [], partner.account_id: []}
    for event in await live_events(pubsub):
        if event["type"].startswith(("wa.message.", "wa.chat.")):
            published[event["accountId"]].append(named(event["type"], event["data"]))
    await pubsub.aclose()
    assert published == {owner.account_id: expected, partner.account_id: expected}
