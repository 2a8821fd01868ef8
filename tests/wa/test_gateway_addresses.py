"""Where a session's gateway calls may go (issue 8, item 1): a tenant's base URL and the media
URLs a gateway names go through the SSRF guard, with a local fake gateway and a loopback
service standing for what a tenant must never reach."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.helpers import Caller, assert_error, register
from tests.wa.fake_gateway import (
    FILE_BYTES,
    FakeHttp,
    evolution_image_upsert,
    fake_evolution,
    running,
)
from tests.wa.helpers import headers

SECRET_HEADER = "X-Ticaret-Webhook-Secret"
CHAT = "905551234567@s.whatsapp.net"


@pytest.fixture
def private_gateways(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The operator's allow-list of private gateway hosts (empty unless a test sets it)."""
    from ticaret.settings import get_settings

    wa = get_settings().wa
    monkeypatch.setattr(wa, "private_gateway_hosts", [])

    def allow(*entries: str) -> None:
        monkeypatch.setattr(wa, "private_gateway_hosts", list(entries))

    return allow


@pytest.fixture
async def internal() -> AsyncIterator[tuple[FakeHttp, str]]:
    """A service on loopback (a metadata endpoint, an admin port): never to be reached."""
    target = FakeHttp("internal")
    target.answer("GET", "/", 200, b"internal secret: do not leak", **{"content-type": "image/png"})
    async with running(target) as server:
        yield target, server.url


async def _create(client: httpx.AsyncClient, owner: Caller, base_url: str) -> httpx.Response:
    return await client.post(
        f"/accounts/{owner.account_id}/wa-sessions",
        json={
            "name": "Shop",
            "provider": "evolution",
            "config": {"baseUrl": base_url, "apiKey": "evo-key-0123456789"},
        },
        headers=owner.headers,
    )


async def test_a_gateway_on_loopback_is_refused_until_the_operator_lists_its_host(
    client: httpx.AsyncClient, private_gateways: Any
) -> None:
    owner = await register(client)
    evolution = fake_evolution()
    async with running(evolution) as gateway:
        refused = await _create(client, owner, gateway.url)
        error = assert_error(refused, 422, "gateway_url_not_allowed")
        assert "loopback" in error["message"]
        assert evolution.requests == []
        listed = await client.get(
            f"/accounts/{owner.account_id}/wa-sessions", headers=owner.headers
        )
        assert listed.json()["data"]["rows"] == []

        # TICARET_WA__PRIVATE_GATEWAY_HOSTS=127.0.0.1: the operator runs the gateway beside us.
        private_gateways("127.0.0.1")
        created = await _create(client, owner, gateway.url)
        assert created.status_code == 201, created.text
        assert "POST /instance/create" in evolution.paths()


async def test_a_withdrawn_allowance_stops_calls_to_a_stored_private_gateway(
    client: httpx.AsyncClient, private_gateways: Any
) -> None:
    owner = await register(client)
    evolution = fake_evolution()
    async with running(evolution) as gateway:
        private_gateways("127.0.0.0/8")
        created = await _create(client, owner, gateway.url)
        assert created.status_code == 201, created.text
        psid = created.json()["data"]["providerSessionId"]
        calls_before = len(evolution.requests)

        # The check is made on every connection, not once when the URL was saved.
        private_gateways()
        qr = await client.get(
            f"/accounts/{owner.account_id}/wa-sessions/{psid}/qr", headers=owner.headers
        )
        error = assert_error(qr, 502, "gateway_rejected")
        assert "refused target" in error["message"] and "loopback" in error["message"]
        assert len(evolution.requests) == calls_before


@pytest.mark.parametrize(
    ("suffix", "reason"),
    [
        ("/admin#", "fragment"),
        ("/admin?next=", "query"),
        ("/api/../admin", "plain segments"),
        ("/api/%2e%2e/admin", "plain segments"),
    ],
)
async def test_a_base_url_that_could_pick_another_path_is_refused(
    client: httpx.AsyncClient, private_gateways: Any, suffix: str, reason: str
) -> None:
    owner = await register(client)
    evolution = fake_evolution()
    async with running(evolution) as gateway:
        private_gateways("127.0.0.1")
        response = await _create(client, owner, gateway.url + suffix)
        error = assert_error(response, 422)
        assert reason in str(error["details"]) or reason in error["message"]
        with_credentials = await _create(
            client, owner, gateway.url.replace("http://", "http://admin:pw@")
        )
        assert_error(with_credentials, 422)
        assert evolution.requests == []


async def _evolution_session_with_image(
    client: httpx.AsyncClient, owner: Caller, gateway_url: str, media_url: str, run_jobs: Any
) -> str:
    created = await _create(client, owner, gateway_url)
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    psid = data["providerSessionId"]
    stored = await client.post(
        f"/wa/provider-events/{psid}",
        json=evolution_image_upsert(psid, "3A00000000000000AA01", media_url),
        headers={SECRET_HEADER: data["webhookSecret"]},
    )
    assert stored.status_code == 200, stored.text
    await run_jobs()
    return str(psid)


async def test_media_on_a_host_the_gateway_does_not_own_is_fetched_from_the_gateway_instead(
    client: httpx.AsyncClient,
    run_jobs: Any,
    private_gateways: Any,
    internal: tuple[FakeHttp, str],
) -> None:
    target, internal_url = internal
    owner = await register(client)
    evolution = fake_evolution()
    async with running(evolution) as gateway:
        private_gateways("127.0.0.1")
        # The webhook names an internal address as the file's S3 URL.
        psid = await _evolution_session_with_image(
            client, owner, gateway.url, f"{internal_url}/latest/meta-data/", run_jobs
        )
        media = await client.get(
            f"/wa/chats/{CHAT}/messages/3A00000000000000AA01/media",
            params={"providerSessionId": psid},
            headers=headers(owner),
        )
        assert media.status_code == 200, media.text
        assert media.content == FILE_BYTES
        assert b"internal secret" not in media.content
        assert target.requests == []
        assert any("/chat/getBase64FromMediaMessage/" in p for p in evolution.paths())


async def test_media_on_a_host_the_operator_lists_is_fetched_without_the_api_key(
    client: httpx.AsyncClient,
    run_jobs: Any,
    private_gateways: Any,
    dns: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ticaret.settings import get_settings

    storage = FakeHttp("storage")
    storage.answer("GET", "/bucket/", 200, b"stored-bytes", **{"content-type": "image/png"})
    owner = await register(client)
    evolution = fake_evolution()
    async with running(evolution) as gateway, running(storage) as storage_server:
        # TICARET_WA__MEDIA_HOSTS=files.internal.test: the MinIO the gateway uploads media to.
        dns({"files.internal.test": [["127.0.0.1"]]})
        monkeypatch.setattr(get_settings().wa, "media_hosts", ["files.internal.test"])
        private_gateways("127.0.0.1")
        media_url = f"http://files.internal.test:{storage_server.port}/bucket/a.png"
        psid = await _evolution_session_with_image(client, owner, gateway.url, media_url, run_jobs)
        media = await client.get(
            f"/wa/chats/{CHAT}/messages/3A00000000000000AA01/media",
            params={"providerSessionId": psid},
            headers=headers(owner),
        )
    assert media.status_code == 200, media.text
    assert media.content == b"stored-bytes"
    [fetched] = storage.requests
    assert "apikey" not in fetched.headers


async def test_gateway_errors_do_not_echo_what_the_gateway_answered(
    client: httpx.AsyncClient, run_jobs: Any, private_gateways: Any
) -> None:
    owner = await register(client)
    leak = "INTERNAL-ONLY admin token 7f3a"
    evolution = fake_evolution()
    async with running(evolution) as gateway:
        private_gateways("127.0.0.1")
        psid = await _evolution_session_with_image(
            client, owner, gateway.url, "https://s3.example.com/x.png", run_jobs
        )
        evolution.answer("GET", "/instance/connect/", 400, {"message": leak})
        evolution.answer("POST", "/chat/getBase64FromMediaMessage/", 500, {"message": leak})
        evolution.answer("POST", "/instance/create", 401, {"response": {"message": [leak]}})
        evolution.answer("GET", "/instance/connectionState/", 403, {"error": leak})

        qr = await client.get(
            f"/accounts/{owner.account_id}/wa-sessions/{psid}/qr", headers=owner.headers
        )
        media = await client.get(
            f"/wa/chats/{CHAT}/messages/3A00000000000000AA01/media",
            params={"providerSessionId": psid},
            headers=headers(owner),
        )
        detail = await client.get(
            f"/accounts/{owner.account_id}/wa-sessions/{psid}", headers=owner.headers
        )
        create = await _create(client, owner, gateway.url)
    for response, status in ((qr, 502), (media, 502), (create, 502), (detail, 200)):
        assert response.status_code == status, response.text
        assert leak not in response.text
    assert "HTTP 400" in qr.json()["error"]["message"]
    assert "HTTP 403" in detail.json()["data"]["statusError"]
