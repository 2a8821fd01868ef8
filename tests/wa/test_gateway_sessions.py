"""Evolution and WAHA sessions wired end to end; only the gateway's HTTP is faked (respx)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.helpers import Caller, assert_error, register
from tests.wa.helpers import create_session, headers

PAYLOADS = Path(__file__).parent / "gateways" / "payloads"
EVO = "https://evo.example.com"
WAHA = "https://waha.example.com"
SECRET_HEADER = "X-Ticaret-Webhook-Secret"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


@dataclass
class FakeEvolution:
    """Evolution API v2 as respx answers it: the routes a session's life goes through."""

    create: respx.Route
    webhook: respx.Route
    connect: respx.Route
    state: respx.Route
    logout: respx.Route
    delete: respx.Route


@pytest.fixture
def evolution() -> Iterator[FakeEvolution]:
    with respx.mock(base_url=EVO, assert_all_called=False) as evo:
        yield FakeEvolution(
            create=evo.post("/instance/create").respond(
                201, json={"instance": {"instanceName": "x", "status": "close"}, "hash": "h"}
            ),
            webhook=evo.post(path__regex=r"^/webhook/set/.+$").respond(201, json={"webhook": {}}),
            connect=evo.get(path__regex=r"^/instance/connect/.+$").respond(
                200,
                json={
                    "pairingCode": None,
                    "code": "2@qr-value",
                    "base64": "data:image/png;base64,QUJD",
                    "count": 1,
                },
            ),
            state=evo.get(path__regex=r"^/instance/connectionState/.+$").respond(
                200, json={"instance": {"instanceName": "x", "state": "open"}}
            ),
            logout=evo.delete(path__regex=r"^/instance/logout/.+$").respond(
                200,
                json={
                    "status": "SUCCESS",
                    "error": False,
                    "response": {"message": "Instance logged out"},
                },
            ),
            delete=evo.delete(path__regex=r"^/instance/delete/.+$").respond(
                200, json={"status": "SUCCESS", "error": False}
            ),
        )


async def _evolution_session(client: httpx.AsyncClient, owner: Caller) -> dict[str, Any]:
    return await create_session(
        client,
        owner,
        provider="evolution",
        config={"baseUrl": EVO + "/", "apiKey": "evo-global-key-0123456789"},
    )


async def _evolution_inbound(
    client: httpx.AsyncClient, created: dict[str, Any], run_jobs: Any
) -> bytes:
    body = payload("evolution_upsert_image.json")
    good = await client.post(
        f"/wa/provider-events/{created['providerSessionId']}",
        content=body,
        headers={SECRET_HEADER: created["webhookSecret"], "content-type": "application/json"},
    )
    assert good.status_code == 200, good.text
    await run_jobs()
    return body


async def test_an_evolution_session_registers_its_webhook_and_pairs_by_qr(
    client: httpx.AsyncClient, evolution: FakeEvolution
) -> None:
    owner = await register(client)
    created = await _evolution_session(client, owner)
    psid = created["providerSessionId"]
    assert created["status"] == "stopped"
    assert created["hasApiKey"] is True
    assert created["baseUrl"] == EVO
    assert "apiKey" not in created
    assert evolution.create.called and evolution.webhook.called and evolution.connect.called
    assert evolution.create.calls[0].request.headers["apikey"] == "evo-global-key-0123456789"
    registered = json.loads(evolution.webhook.calls[0].request.content)
    assert json.dumps(registered).count(created["webhookSecret"]) == 1
    assert created["webhookUrl"] in json.dumps(registered)

    qr = await client.get(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}/qr", headers=owner.headers
    )
    assert qr.status_code == 200, qr.text
    assert qr.json()["data"]["qr"] == "2@qr-value"
    assert qr.json()["data"]["qrImage"].startswith("data:image/png;base64,")

    detail = await client.get(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}", headers=owner.headers
    )
    assert detail.status_code == 200, detail.text
    assert detail.json()["data"]["status"] == "working"
    assert evolution.state.called


async def test_evolution_webhooks_are_checked_deduplicated_and_stored_without_the_api_key(
    client: httpx.AsyncClient, run_jobs: Any, evolution: FakeEvolution
) -> None:
    owner = await register(client)
    created = await _evolution_session(client, owner)
    psid = created["providerSessionId"]
    # The gateway calls us with the secret header it was configured with.
    body = payload("evolution_upsert_image.json")
    wrong = await client.post(
        f"/wa/provider-events/{psid}", content=body, headers={SECRET_HEADER: "nope"}
    )
    assert_error(wrong, 401, "invalid_signature")
    good = await client.post(
        f"/wa/provider-events/{psid}",
        content=body,
        headers={SECRET_HEADER: created["webhookSecret"], "content-type": "application/json"},
    )
    assert good.status_code == 200, good.text
    assert good.json()["data"]["duplicate"] is False
    again = await client.post(
        f"/wa/provider-events/{psid}",
        content=body,
        headers={SECRET_HEADER: created["webhookSecret"]},
    )
    assert again.json()["data"]["duplicate"] is True
    await run_jobs()

    page = await client.get(
        "/wa/chats/905551234567@s.whatsapp.net/messages",
        params={"providerSessionId": psid},
        headers=headers(owner),
    )
    assert page.status_code == 200, page.text
    [message] = page.json()["data"]["rows"]
    assert message["messageId"] == "3A7F0C1D2E3B4A5C6D7E"
    assert message["type"] == "image"
    assert message["hasMedia"] is True
    assert message["mimeType"] == "image/jpeg"
    assert message["text"] == "Bu modelden 2 tane"
    assert message["pushName"] == "Mehmet"

    # Stored events never keep Evolution's echoed API key.
    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import InboxItem

    async with get_sessionmaker()() as session:
        rows = (await session.scalars(select(InboxItem))).all()
    assert [r.status for r in rows] == ["processed"]
    assert "apikey" not in json.dumps(rows[0].payload)
    assert created["webhookSecret"] not in json.dumps(rows[0].headers)


async def test_evolution_cannot_forward_so_a_forward_is_refused_up_front(
    client: httpx.AsyncClient, run_jobs: Any, evolution: FakeEvolution
) -> None:
    owner = await register(client)
    created = await _evolution_session(client, owner)
    await _evolution_inbound(client, created, run_jobs)
    # Evolution v2 has no forward endpoint: refused up front, nothing queued.
    forward = await client.post(
        "/wa/chats/905551234567@s.whatsapp.net/messages",
        json={
            "action": "forward",
            "messageId": "3A7F0C1D2E3B4A5C6D7E",
            "toRemoteJid": "905559998877",
            "providerSessionId": created["providerSessionId"],
        },
        headers=headers(owner),
    )
    assert_error(forward, 400, "unsupported_by_provider")


async def test_an_evolution_session_logged_out_then_removed_takes_no_more_webhooks(
    client: httpx.AsyncClient, run_jobs: Any, evolution: FakeEvolution
) -> None:
    owner = await register(client)
    created = await _evolution_session(client, owner)
    psid = created["providerSessionId"]
    body = await _evolution_inbound(client, created, run_jobs)
    out = await client.post(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}/logout", headers=owner.headers
    )
    assert out.status_code == 200, out.text
    assert out.json()["data"]["status"] == "stopped"
    assert evolution.logout.called

    removed = await client.delete(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}", headers=owner.headers
    )
    assert removed.json()["data"] == {"removed": True, "scope": "session"}
    assert evolution.delete.called
    gone = await client.get(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}", headers=owner.headers
    )
    assert_error(gone, 404)
    late = await client.post(
        f"/wa/provider-events/{psid}",
        content=body,
        headers={SECRET_HEADER: created["webhookSecret"]},
    )
    # A deleted session answers like a wrong secret: nobody learns which sessions exist.
    assert_error(late, 401, "invalid_signature")


async def test_evolution_gateway_down_at_creation_is_502_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    with respx.mock(base_url=EVO) as evo:
        evo.post("/instance/create").mock(side_effect=httpx.ConnectError("refused"))
        response = await client.post(
            f"/accounts/{owner.account_id}/wa-sessions",
            json={"name": "Shop", "provider": "evolution", "config": {"baseUrl": EVO}},
            headers=owner.headers,
        )
    assert_error(response, 502, "gateway_unavailable")
    listed = await client.get(f"/accounts/{owner.account_id}/wa-sessions", headers=owner.headers)
    assert listed.json()["data"]["rows"] == []
    missing_url = await client.post(
        f"/accounts/{owner.account_id}/wa-sessions",
        json={"name": "Shop", "provider": "waha"},
        headers=owner.headers,
    )
    assert_error(missing_url, 400, "base_url_required")
    bad_url = await client.post(
        f"/accounts/{owner.account_id}/wa-sessions",
        json={"name": "Shop", "provider": "waha", "config": {"baseUrl": "ftp://x"}},
        headers=owner.headers,
    )
    assert_error(bad_url, 422)
    bad_provider = await client.post(
        f"/accounts/{owner.account_id}/wa-sessions",
        json={"name": "Shop", "provider": "telegram"},
        headers=owner.headers,
    )
    assert_error(bad_provider, 422)


CHAT = "905551234567@c.us"


@pytest.fixture
def waha() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=WAHA, assert_all_called=False) as router:
        router.post("/api/sessions").respond(201, json={"name": "x", "status": "STOPPED"})
        router.get("/api/server/version").respond(
            200, json={"version": "2025.6.3", "engine": "WEBJS", "tier": "PLUS"}
        )
        router.post(path__regex=r"^/api/sessions/.+/start$", name="start").respond(
            201, json={"name": "x", "status": "STARTING"}
        )
        yield router


def _signed(secret: str, body: bytes) -> dict[str, str]:
    # WAHA signs the raw body: HMAC-SHA512 with the session's secret.
    signature = hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()
    return {"X-Webhook-Hmac": signature, "X-Webhook-Hmac-Algorithm": "sha512"}


async def _waha_session_with_media_message(
    client: httpx.AsyncClient, owner: Caller, run_jobs: Any
) -> tuple[str, dict[str, Any]]:
    created = await create_session(
        client, owner, provider="waha", config={"baseUrl": WAHA, "apiKey": "waha-key"}
    )
    psid = created["providerSessionId"]
    media_body = payload("waha_message_media.json")
    stored = await client.post(
        f"/wa/provider-events/{psid}",
        content=media_body,
        headers={"X-Webhook-Hmac": _signed(created["webhookSecret"], media_body)["X-Webhook-Hmac"]},
    )
    assert stored.status_code == 200, stored.text
    await run_jobs()
    page = await client.get(
        f"/wa/chats/{CHAT}/messages", params={"providerSessionId": psid}, headers=headers(owner)
    )
    [message] = page.json()["data"]["rows"]
    assert message["messageId"] == "3A7F0C1D2E3B4A5C6D7E"
    assert message["hasMedia"] is True
    return psid, message


async def _operations() -> dict[str, Any]:
    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import WaMessageOperation

    async with get_sessionmaker()() as session:
        return {op.action: op for op in (await session.scalars(select(WaMessageOperation))).all()}


async def test_waha_webhooks_are_verified_by_hmac_and_move_the_session_status(
    client: httpx.AsyncClient, run_jobs: Any, waha: respx.MockRouter
) -> None:
    owner = await register(client)
    created = await create_session(
        client, owner, provider="waha", config={"baseUrl": WAHA, "apiKey": "waha-key"}
    )
    psid = created["providerSessionId"]
    assert waha.routes["start"].called
    status_body = json.dumps(
        {
            "id": "evt_status_1",
            "timestamp": 1747218067512,
            "event": "session.status",
            "session": psid,
            "me": {"id": "905321112233@c.us", "pushName": "Ticaret Butik"},
            "payload": {"status": "WORKING"},
        }
    ).encode()
    bad = await client.post(
        f"/wa/provider-events/{psid}",
        content=status_body,
        headers={"X-Webhook-Hmac": "0" * 128, "X-Webhook-Hmac-Algorithm": "sha512"},
    )
    assert_error(bad, 401)
    ok = await client.post(
        f"/wa/provider-events/{psid}",
        content=status_body,
        headers=_signed(created["webhookSecret"], status_body),
    )
    assert ok.status_code == 200, ok.text
    await run_jobs()

    waha.get(path__regex=r"^/api/sessions/[^/]+$").respond(
        200,
        json={
            "name": psid,
            "status": "WORKING",
            "me": {"id": "905321112233@c.us", "pushName": "Ticaret Butik"},
        },
    )
    detail = await client.get(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}", headers=owner.headers
    )
    assert detail.json()["data"]["status"] == "working"
    assert detail.json()["data"]["mePhone"] == "905321112233"


async def test_waha_media_is_streamed_from_the_gateway_with_range(
    client: httpx.AsyncClient, run_jobs: Any, waha: respx.MockRouter
) -> None:
    owner = await register(client)
    psid, message = await _waha_session_with_media_message(client, owner, run_jobs)
    # WAHA's file URL names localhost; we fetch it from the gateway, with Range.
    image = bytes(range(256)) * 4
    files = waha.get(path__regex=r"^/api/files/.+\.jpeg$").mock(
        side_effect=lambda request: (
            httpx.Response(
                206,
                headers={
                    "content-type": "image/jpeg",
                    "content-range": "bytes 0-99/1024",
                    "accept-ranges": "bytes",
                },
                content=image[:100],
            )
            if request.headers.get("range") == "bytes=0-99"
            else httpx.Response(200, headers={"content-type": "image/jpeg"}, content=image)
        )
    )
    media_url = f"/wa/chats/{CHAT}/messages/{message['messageId']}/media"
    full = await client.get(media_url, params={"providerSessionId": psid}, headers=headers(owner))
    assert full.status_code == 200, full.text
    assert full.content == image
    assert full.headers["content-type"] == "image/jpeg"
    part = await client.get(
        media_url,
        params={"providerSessionId": psid},
        headers={**headers(owner), "Range": "bytes=0-99"},
    )
    assert part.status_code == 206
    assert part.headers["content-range"] == "bytes 0-99/1024"
    assert part.content == image[:100]
    assert files.calls[0].request.headers["x-api-key"] == "waha-key"


async def test_a_send_that_meets_a_gateway_outage_is_retried(
    client: httpx.AsyncClient, run_jobs: Any, waha: respx.MockRouter
) -> None:
    owner = await register(client)
    psid, _ = await _waha_session_with_media_message(client, owner, run_jobs)
    # The first attempt meets a 503, the retry goes through.
    send = waha.post("/api/sendText").mock(
        side_effect=[
            httpx.Response(503, json={"statusCode": 503, "message": "engine restarting"}),
            httpx.Response(
                201, json={"id": f"true_{CHAT}_BAE5F3C2A1D0E9F8", "timestamp": 1747218600}
            ),
        ]
    )
    action = await client.post(
        f"/wa/chats/{CHAT}/messages",
        json={"action": "send_text", "text": "Stokta var", "providerSessionId": psid},
        headers=headers(owner),
    )
    assert action.status_code == 202, action.text
    await run_jobs()
    assert send.call_count == 2
    sent_body = json.loads(send.calls[1].request.content)
    assert sent_body["chatId"] == CHAT and sent_body["session"] == psid
    operations = await _operations()
    assert operations["send_text"].status == "sent"
    assert operations["send_text"].attempts == 2
    page = await client.get(
        f"/wa/chats/{CHAT}/messages", params={"providerSessionId": psid}, headers=headers(owner)
    )
    ours = page.json()["data"]["rows"][0]
    assert ours["messageId"] == "BAE5F3C2A1D0E9F8"
    assert ours["fromMe"] is True


async def test_a_gateway_refusal_fails_the_operation_without_retrying(
    client: httpx.AsyncClient, run_jobs: Any, waha: respx.MockRouter
) -> None:
    owner = await register(client)
    psid, _ = await _waha_session_with_media_message(client, owner, run_jobs)
    rejected = waha.post("/api/sendSeen").respond(
        400, json={"statusCode": 400, "message": "bad chat"}
    )
    read = await client.post(
        f"/wa/chats/{CHAT}/read", json={"providerSessionId": psid}, headers=headers(owner)
    )
    assert read.status_code == 200, read.text
    await run_jobs()
    assert rejected.call_count == 1  # a refusal is not retried
    operations = await _operations()
    assert operations["read"].status == "failed"
    # The gateway's own words stay in the logs; the row says which call and what status.
    assert operations["read"].last_error == "waha POST /api/sendSeen -> HTTP 400"
