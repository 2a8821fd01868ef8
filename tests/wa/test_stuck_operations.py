"""An operation whose worker died during the gateway call is never re-sent blind (issue 8,
item 13): it is reconciled from the gateway's echo or its message list, else it waits as
`unknown` for the operator's retry. The WAHA gateway is faked with respx."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import select, update

from tests.helpers import Caller, assert_error, register
from tests.wa.helpers import CUSTOMER_JID, create_session, customer_wrote, headers, messages

WAHA = "https://waha.example.com"
CHAT = "905551234567@c.us"
TEXT = "Siparişiniz yola çıktı"


@pytest.fixture
def waha() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=WAHA, assert_all_called=False) as router:
        router.post("/api/sessions").respond(201, json={"name": "x", "status": "STOPPED"})
        router.post(path__regex=r"^/api/sessions/.+/start$").respond(201, json={})
        router.get("/api/server/version").respond(200, json={"version": "2025.6.3"})
        yield router


async def _stuck_send(
    client: httpx.AsyncClient, caller: Caller, psid: str, chat: str = CHAT
) -> dict[str, Any]:
    """A send whose worker died mid-call: its job is gone, the row says `sending` for long."""
    from ticaret.core.db import get_sessionmaker
    from ticaret.core.queue import get_redis
    from ticaret.models import WaMessageOperation

    action = await client.post(
        f"/wa/chats/{chat}/messages",
        json={"action": "send_text", "text": TEXT, "providerSessionId": psid},
        headers=headers(caller),
    )
    assert action.status_code == 202, action.text
    await get_redis().flushdb()
    async with get_sessionmaker()() as session:
        await session.execute(
            update(WaMessageOperation).values(
                status="sending",
                attempts=1,
                updated_at=datetime.now(UTC) - timedelta(minutes=10),
            )
        )
        await session.commit()
    return dict(action.json()["data"])


async def _operation(client: httpx.AsyncClient, caller: Caller, psid: str, op_id: str) -> Any:
    response = await client.get(
        f"/wa/operations/{op_id}", params={"providerSessionId": psid}, headers=headers(caller)
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_a_stuck_send_the_gateway_cannot_account_for_waits_as_unknown_until_retried(
    client: httpx.AsyncClient, run_jobs: Any, waha: respx.MockRouter
) -> None:
    from ticaret.wa.tasks import sweep_wa_operations

    owner = await register(client)
    psid = (await create_session(client, owner, provider="waha", config={"baseUrl": WAHA}))[
        "providerSessionId"
    ]
    send = waha.post("/api/sendText").respond(
        201, json={"id": f"true_{CHAT}_3EB0RETRIED000000001", "timestamp": int(time.time())}
    )
    listing = waha.get(path__regex=r"^/api/[^/]+/chats/[^/]+/messages$").respond(200, json=[])
    action = await _stuck_send(client, owner, psid)
    op_id = action["operation"]["id"]

    assert await sweep_wa_operations({}) == 1
    await run_jobs()
    assert listing.called and send.call_count == 0  # asked, and never re-sent blind
    operation = await _operation(client, owner, psid, op_id)
    assert operation["status"] == "unknown"
    assert "retry" in operation["lastError"]
    unknown = await client.get(
        "/wa/operations",
        params={"providerSessionId": psid, "status": "unknown"},
        headers=headers(owner),
    )
    assert [o["id"] for o in unknown.json()["data"]["rows"]] == [op_id]
    assert await sweep_wa_operations({}) == 0

    # The operator looked at the chat: the message is not there. Retry sends it, once.
    retried = await client.post(
        f"/wa/operations/{op_id}/retry", json={"providerSessionId": psid}, headers=headers(owner)
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["data"]["status"] == "queued"
    await run_jobs()
    assert send.call_count == 1
    assert (await _operation(client, owner, psid, op_id))["status"] == "sent"
    again = await client.post(
        f"/wa/operations/{op_id}/retry", json={"providerSessionId": psid}, headers=headers(owner)
    )
    assert_error(again, 409, "operation_not_retryable")


async def test_a_stuck_send_the_gateway_lists_is_settled_without_sending_again(
    client: httpx.AsyncClient, run_jobs: Any, waha: respx.MockRouter
) -> None:
    from ticaret.wa.tasks import sweep_wa_operations

    owner = await register(client)
    psid = (await create_session(client, owner, provider="waha", config={"baseUrl": WAHA}))[
        "providerSessionId"
    ]
    send = waha.post("/api/sendText").respond(201, json={"id": "true_x_y"})
    waha.get(path__regex=r"^/api/[^/]+/chats/[^/]+/messages$").respond(
        200,
        json=[
            {
                "id": f"true_{CHAT}_3EB0WENTOUT000000001",
                "timestamp": int(time.time()),
                "fromMe": True,
                "body": TEXT,
                "hasMedia": False,
            }
        ],
    )
    action = await _stuck_send(client, owner, psid)
    assert await sweep_wa_operations({}) == 1
    await run_jobs()
    assert send.call_count == 0
    operation = await _operation(client, owner, psid, action["operation"]["id"])
    assert operation["status"] == "sent"
    page = await client.get(
        f"/wa/chats/{CHAT}/messages", params={"providerSessionId": psid}, headers=headers(owner)
    )
    assert [m["messageId"] for m in page.json()["data"]["rows"]] == ["3EB0WENTOUT000000001"]


async def test_a_stuck_send_whose_echo_is_in_the_inbox_is_settled_from_it(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from ticaret.core.db import get_sessionmaker
    from ticaret.models import WaSession
    from ticaret.wa.tasks import sweep_wa_operations

    owner, psid, _ = await customer_wrote(client, run_jobs)
    action = await _stuck_send(client, owner, psid, CUSTOMER_JID)
    async with get_sessionmaker()() as session:
        wa = await session.scalar(select(WaSession).where(WaSession.provider_session_id == psid))
        assert wa is not None
    from ticaret.core.security import secret_box
    from ticaret.settings import get_settings

    secret = secret_box(get_settings()).decrypt(wa.webhook_secret_encrypted)
    # The gateway had sent it and posted its echo before the worker died.
    echo = {
        "id": "evt_echo_1",
        "event": "message.any",
        "session": psid,
        "me": {"id": "900000000000@s.whatsapp.net"},
        "payload": {
            "id": f"true_{CUSTOMER_JID}_3EB0ECHOED0000000001",
            "timestamp": int(time.time()),
            "from": "900000000000@s.whatsapp.net",
            "to": CUSTOMER_JID,
            "fromMe": True,
            "source": "api",
            "body": TEXT,
            "hasMedia": False,
            "ack": 1,
        },
    }
    stored = await client.post(
        f"/wa/provider-events/{psid}", json=echo, headers={"X-Ticaret-Webhook-Secret": secret}
    )
    assert stored.status_code == 200
    await run_jobs()
    assert await sweep_wa_operations({}) == 1
    await run_jobs()
    operation = await _operation(client, owner, psid, action["operation"]["id"])
    assert operation["status"] == "sent"
    ours = [m for m in (await messages(client, owner, psid))["rows"] if m["fromMe"]]
    # One message: our row took the echo's id, the echo's own row is gone.
    assert [m["messageId"] for m in ours] == ["3EB0ECHOED0000000001"]
    assert ours[0]["origin"]["operationId"] == action["operation"]["id"]
