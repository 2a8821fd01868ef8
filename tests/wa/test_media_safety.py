"""Media is served so a browser never runs it from the API's origin, and with the bytes the
headers describe (issue 8, item 2). The WAHA gateway is faked with respx."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.helpers import Caller, register
from tests.wa.helpers import create_session, headers

WAHA = "https://waha.example.com"
CHAT = "905551234567@c.us"
PAYLOAD = Path(__file__).parent / "gateways" / "payloads" / "waha_message_media.json"


@pytest.fixture
def waha() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=WAHA, assert_all_called=False) as router:
        router.post("/api/sessions").respond(201, json={"name": "x", "status": "STOPPED"})
        router.post(path__regex=r"^/api/sessions/.+/start$").respond(201, json={})
        router.get(path__regex=r"^/api/(server/)?version$").respond(
            200, json={"version": "2025.6.3", "engine": "NOWEB", "tier": "CORE"}
        )
        yield router


async def _media_message(
    client: httpx.AsyncClient, owner: Caller, run_jobs: Any, mimetype: str, ext: str
) -> tuple[str, str]:
    created = await create_session(
        client, owner, provider="waha", config={"baseUrl": WAHA, "apiKey": "waha-key"}
    )
    psid = created["providerSessionId"]
    body = json.loads(PAYLOAD.read_text())
    body["payload"]["media"]["mimetype"] = mimetype
    body["payload"]["media"]["filename"] = f"teklif.{ext}"
    body["payload"]["media"]["url"] = f"http://localhost:3000/api/files/{psid}/file.{ext}"
    stored = await client.post(
        f"/wa/provider-events/{psid}",
        json=body,
        headers={"X-Ticaret-Webhook-Secret": created["webhookSecret"]},
    )
    assert stored.status_code == 200, stored.text
    await run_jobs()
    return psid, f"/wa/chats/{CHAT}/messages/3A7F0C1D2E3B4A5C6D7E/media"


async def test_a_customers_html_document_is_a_sandboxed_download_never_a_page(
    client: httpx.AsyncClient, run_jobs: Any, waha: respx.MockRouter
) -> None:
    owner = await register(client)
    psid, url = await _media_message(client, owner, run_jobs, "text/html", "html")
    waha.get(path__regex=r"^/api/files/.+\.html$").respond(
        200, headers={"content-type": "text/html"}, content=b"<script>steal()</script>"
    )
    response = await client.get(url, params={"providerSessionId": psid}, headers=headers(owner))
    assert response.status_code == 200, response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment")
    assert 'filename="teklif.html"' in response.headers["content-disposition"]
    assert response.headers["content-security-policy"] == "sandbox"


async def test_an_svg_image_is_a_download_but_a_photo_shows_inline(
    client: httpx.AsyncClient, run_jobs: Any, waha: respx.MockRouter
) -> None:
    owner = await register(client)
    psid, url = await _media_message(client, owner, run_jobs, "image/svg+xml", "svg")
    files = waha.get(path__regex=r"^/api/files/.+$")
    files.respond(200, headers={"content-type": "image/svg+xml"}, content=b"<svg onload=x()/>")
    svg = await client.get(url, params={"providerSessionId": psid}, headers=headers(owner))
    assert svg.headers["content-disposition"].startswith("attachment")
    assert svg.headers["content-security-policy"] == "sandbox"

    files.respond(200, headers={"content-type": "image/jpeg"}, content=b"\xff\xd8\xff\xe0jpeg")
    photo = await client.get(url, params={"providerSessionId": psid}, headers=headers(owner))
    assert photo.headers["content-disposition"].startswith("inline")
    assert photo.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in photo.headers


async def test_gzipped_media_arrives_whole_with_a_length_that_matches_its_bytes(
    client: httpx.AsyncClient, run_jobs: Any, waha: respx.MockRouter
) -> None:
    owner = await register(client)
    psid, url = await _media_message(client, owner, run_jobs, "image/jpeg", "jpeg")
    original = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 64
    compressed = gzip.compress(original)
    # A gateway behind a proxy that compresses whatever the client says it accepts.
    files = waha.get(path__regex=r"^/api/files/.+$").mock(
        side_effect=lambda request: httpx.Response(
            200,
            headers={
                "content-type": "image/jpeg",
                "content-encoding": "gzip",
                "content-length": str(len(compressed)),
            },
            content=compressed,
        )
    )
    async with client.stream(
        "GET", url, params={"providerSessionId": psid}, headers=headers(owner)
    ) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        assert response.status_code == 200
        # What the headers announce is what travels: the encoded bytes, with their encoding.
        assert int(response.headers["content-length"]) == len(raw)
        assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == original
    decoded = await client.get(url, params={"providerSessionId": psid}, headers=headers(owner))
    assert decoded.content == original
    assert files.calls[0].request.headers["accept-encoding"] == "identity"
