"""An ack that comes before its message is kept and applied when the message lands (issue 8,
item 12). Bodies are WAHA-shaped, as the sandbox gateway's webhooks are."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import register
from tests.wa.helpers import CUSTOMER_JID, create_session, headers, messages

SECRET_HEADER = "X-Ticaret-Webhook-Secret"
ME = "900000000000@s.whatsapp.net"


def _ack(psid: str, message_id: str, ack: int, event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "event": "message.ack",
        "session": psid,
        "payload": {
            "id": f"true_{CUSTOMER_JID}_{message_id}",
            "from": ME,
            "to": CUSTOMER_JID,
            "fromMe": True,
            "ack": ack,
        },
    }


def _sent_from_phone(psid: str, message_id: str) -> dict[str, Any]:
    return {
        "id": f"evt_msg_{message_id}",
        "event": "message.any",
        "session": psid,
        "me": {"id": ME},
        "payload": {
            "id": f"true_{CUSTOMER_JID}_{message_id}",
            "timestamp": 1747218000,
            "from": ME,
            "to": CUSTOMER_JID,
            "fromMe": True,
            "source": "app",
            "body": "Kargoya verildi",
            "hasMedia": False,
            "ack": 1,
        },
    }


async def test_an_ack_that_arrives_before_its_message_is_applied_when_the_message_lands(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    created = await create_session(client, owner)
    psid, auth = created["providerSessionId"], {SECRET_HEADER: created["webhookSecret"]}
    message_id = "3EB0EA12345678901234"
    # Delivered, then read: both before the gateway's webhook about the message itself.
    for ack, event_id in ((2, "evt_ack_2"), (3, "evt_ack_3")):
        stored = await client.post(
            f"/wa/provider-events/{psid}", json=_ack(psid, message_id, ack, event_id), headers=auth
        )
        assert stored.status_code == 200, stored.text
    await run_jobs()
    message = await client.post(
        f"/wa/provider-events/{psid}", json=_sent_from_phone(psid, message_id), headers=auth
    )
    assert message.status_code == 200
    await run_jobs()

    [row] = (await messages(client, owner, psid))["rows"]
    assert row["messageId"] == message_id
    assert row["status"] == 3
    assert {"deliveredAt", "readAt"} <= set(row["receipt"])
    chats = await client.get(
        "/wa/chats", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert len(chats.json()["data"]["rows"]) == 1


async def test_an_ack_kept_while_its_message_landed_unseen_is_applied_by_the_sweeper(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import WaEarlyAck, WaSession
    from ticaret.wa.tasks import sweep_wa_early_acks

    owner = await register(client)
    created = await create_session(client, owner)
    psid, auth = created["providerSessionId"], {SECRET_HEADER: created["webhookSecret"]}
    message_id = "3EB0EA99999999999999"
    await client.post(
        f"/wa/provider-events/{psid}", json=_sent_from_phone(psid, message_id), headers=auth
    )
    await run_jobs()
    # The ack's transaction could not see the message yet: it was kept as early.
    async with get_sessionmaker()() as session:
        wa = await session.scalar(select(WaSession).where(WaSession.provider_session_id == psid))
        assert wa is not None
        session.add(WaEarlyAck(session_id=wa.id, message_id=message_id, ack=3))
        await session.commit()
    assert await sweep_wa_early_acks({}) == 1
    [row] = (await messages(client, owner, psid))["rows"]
    assert row["status"] == 3
    assert await sweep_wa_early_acks({}) == 0
