"""Request bodies are bounded before anything parses them; file routes declare larger bounds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.helpers import assert_error, register
from tests.wa.helpers import CUSTOMER_JID, create_session, headers
from ticaret.settings import get_settings

MB = 1024 * 1024


async def test_a_40_mb_login_body_is_refused_with_413_before_it_is_parsed(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"email": "a@example.com", "password": "' + b"x" * (40 * MB) + b'"}'
    response = await client.post(
        "/auth/login", content=body, headers={"content-type": "application/json"}
    )
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"limit": MB}


async def test_a_body_without_content_length_is_cut_off_once_it_passes_the_limit(
    client: httpx.AsyncClient,
) -> None:
    chunk = b"x" * (64 * 1024)
    produced = 0

    async def chunked() -> AsyncIterator[bytes]:
        nonlocal produced
        yield b'{"email": "a@example.com", "password": "'
        for _ in range(80):  # 5 MB in all, sent with Transfer-Encoding: chunked
            produced += 1
            yield chunk
        yield b'"}'

    response = await client.post(
        "/auth/register", content=chunked(), headers={"content-type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")
    # Reading stopped just past 1 MB: the rest was never pulled from the client.
    assert produced <= 17


async def test_the_limit_is_a_setting(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_request_body_bytes", 2048)
    owner = await register(client)
    too_long = await client.post("/accounts", json={"name": "n" * 3000}, headers=owner.headers)
    assert_error(too_long, 413, "payload_too_large")
    fits = await client.post("/accounts", json={"name": "Second shop"}, headers=owner.headers)
    assert fits.status_code == 201


async def test_file_and_gateway_routes_keep_their_own_larger_limits(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    session = await create_session(client, owner)
    psid = session["providerSessionId"]
    document = b"%PDF-1.4 " + b"k" * (3 * MB)
    uploaded = await client.post(
        f"/wa/chats/{CUSTOMER_JID}/messages/upload",
        data={"providerSessionId": psid},
        files={"file": ("catalogue.pdf", document, "application/pdf")},
        headers=headers(owner),
    )
    assert uploaded.status_code == 202, uploaded.text

    event = await client.post(
        f"/wa/provider-events/{psid}",
        json={"event": "presence.update", "payload": {"pad": "p" * (2 * MB)}},
        headers={"X-Ticaret-Webhook-Secret": session["webhookSecret"]},
    )
    assert event.status_code == 200, event.text
    await run_jobs()
