"""Login guessing limits: per email with a growing delay, never keyed on a spoofable address."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.helpers import Mailbox, Servers, api_process, assert_error, register, token_from
from ticaret.settings import get_settings


async def test_rotating_x_forwarded_for_does_not_reset_the_login_limit(
    client: httpx.AsyncClient, servers: Servers
) -> None:
    caller = await register(client)
    # `ticaret serve` as deployed, with its defaults: no proxy is trusted.
    async with (
        api_process(servers, TICARET_AUTH__LOGIN_DELAY_BASE_SECONDS="60") as base,
        httpx.AsyncClient(base_url=base) as api,
    ):
        statuses = []
        for n in range(6):
            response = await api.post(
                "/auth/login",
                json={"email": caller.email, "password": "a wrong guess"},
                headers={"x-forwarded-for": f"203.0.113.{n}"},
            )
            statuses.append(response.status_code)
        assert statuses == [401] * 6
        # A new made-up address does not buy another guess, even the right one.
        locked = await api.post(
            "/auth/login",
            json={"email": caller.email, "password": caller.password},
            headers={"x-forwarded-for": "198.51.100.77"},
        )
        assert_error(locked, 429, "rate_limited")
        assert 0 < int(locked.headers["retry-after"]) <= 60

        # Per-address limits (here: 20 reset requests an hour) see the real peer, too.
        for n in range(20):
            forgot = await api.post(
                "/auth/forgot-password",
                json={"email": "someone@example.com"},
                headers={"x-forwarded-for": f"192.0.2.{n}"},
            )
            assert forgot.status_code == 200
        assert_error(
            await api.post(
                "/auth/forgot-password",
                json={"email": "someone@example.com"},
                headers={"x-forwarded-for": "192.0.2.200"},
            ),
            429,
        )


async def test_a_trusted_proxy_setting_makes_forwarded_addresses_count(
    client: httpx.AsyncClient, servers: Servers
) -> None:
    async with (
        api_process(servers, TICARET_TRUSTED_PROXIES='["127.0.0.1"]') as base,
        httpx.AsyncClient(base_url=base) as api,
    ):
        for _ in range(20):
            response = await api.post(
                "/auth/forgot-password",
                json={"email": "someone@example.com"},
                headers={"x-forwarded-for": "192.0.2.10"},
            )
            assert response.status_code == 200
        assert_error(
            await api.post(
                "/auth/forgot-password",
                json={"email": "someone@example.com"},
                headers={"x-forwarded-for": "192.0.2.10"},
            ),
            429,
        )
        # Another client behind the same proxy is not held back by the first one.
        other = await api.post(
            "/auth/forgot-password",
            json={"email": "someone@example.com"},
            headers={"x-forwarded-for": "192.0.2.11"},
        )
        assert other.status_code == 200


async def _guess(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/auth/login", json={"email": email, "password": "a wrong guess"})


async def test_each_guess_past_the_free_ones_waits_twice_as_long(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings().auth, "login_delay_base_seconds", 3.0)
    caller = await register(client)
    assert [(await _guess(client, caller.email)).status_code for _ in range(6)] == [401] * 6
    first = await _guess(client, caller.email)
    assert_error(first, 429, "rate_limited")
    assert 0 < int(first.headers["retry-after"]) <= 3

    await asyncio.sleep(int(first.headers["retry-after"]) + 0.2)
    assert (await _guess(client, caller.email)).status_code == 401
    second = await _guess(client, caller.email)
    assert_error(second, 429, "rate_limited")
    assert 3 < int(second.headers["retry-after"]) <= 6


async def test_the_limit_answers_the_same_for_known_and_unknown_emails(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings().auth, "login_delay_base_seconds", 60.0)
    caller = await register(client)
    answers: dict[str, Any] = {}
    for email in (caller.email, "nobody-here@example.com"):
        guesses = [(await _guess(client, email)).status_code for _ in range(6)]
        limited = await _guess(client, email)
        answers[email] = (
            guesses,
            limited.status_code,
            limited.json(),
            limited.headers["retry-after"],
        )
    known, unknown = answers.values()
    assert known == unknown
    assert known[1] == 429


async def test_a_password_reset_lifts_the_login_delay(
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: Mailbox,
    run_jobs: Any,
) -> None:
    monkeypatch.setattr(get_settings().auth, "login_delay_base_seconds", 60.0)
    caller = await register(client)
    for _ in range(6):
        await _guess(client, caller.email)
    assert_error(await _guess(client, caller.email), 429)
    await client.post("/auth/forgot-password", json={"email": caller.email})
    await run_jobs()
    token = token_from(smtp_server.to(caller.email)[0]["body"])
    reset = await client.post(
        "/auth/reset-password", json={"token": token, "password": "a fresh password"}
    )
    assert reset.status_code == 200
    login = await client.post(
        "/auth/login", json={"email": caller.email, "password": "a fresh password"}
    )
    assert login.status_code == 200, login.text
