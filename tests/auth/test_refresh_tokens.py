"""Login sessions: rotating single-use refresh tokens, reuse detection, logout, resets."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from tests.helpers import Mailbox, assert_error, register, token_from
from ticaret.core.db import get_sessionmaker


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    response = await client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refreshToken": refresh_token})


async def test_a_refresh_token_is_exchanged_once_for_a_new_pair(client: httpx.AsyncClient) -> None:
    registered = await client.post(
        "/auth/register",
        json={"email": "rota@example.com", "password": "rotating pass", "name": "Rota"},
    )
    first = registered.json()["data"]
    assert first["refreshToken"] and first["refreshExpiresIn"] == 30 * 86_400

    renewed = await _refresh(client, first["refreshToken"])
    assert renewed.status_code == 200, renewed.text
    pair = renewed.json()["data"]
    assert set(pair) == {
        "accessToken",
        "tokenType",
        "expiresIn",
        "refreshToken",
        "refreshExpiresIn",
    }
    assert pair["expiresIn"] == 900 and pair["refreshToken"] != first["refreshToken"]
    me = await client.get("/auth/me", headers=_bearer(pair["accessToken"]))
    assert me.json()["data"]["user"]["email"] == "rota@example.com"
    # The new refresh token goes on working, one exchange at a time.
    again = await _refresh(client, pair["refreshToken"])
    assert again.status_code == 200
    # Tokens are stored hashed, never in clear.
    async with get_sessionmaker()() as session:
        stored = (await session.execute(text("SELECT token_hash FROM refresh_tokens"))).scalars()
        assert not {first["refreshToken"], pair["refreshToken"]} & set(stored)
    assert_error(await _refresh(client, "not-a-refresh-token"), 401, "invalid_refresh_token")


async def test_reusing_a_spent_refresh_token_ends_the_whole_session(
    client: httpx.AsyncClient,
) -> None:
    caller = await register(client)
    stolen = await _login(client, caller.email, caller.password)
    other_device = await _login(client, caller.email, caller.password)
    # The thief refreshes first; the owner's client then presents the same (now spent) token.
    thief = (await _refresh(client, stolen["refreshToken"])).json()["data"]
    reused = await _refresh(client, stolen["refreshToken"])
    assert_error(reused, 401, "refresh_token_reused")
    # Every token of that session is dead, the thief's newest ones included...
    assert_error(await _refresh(client, thief["refreshToken"]), 401, "invalid_refresh_token")
    assert_error(await client.get("/auth/me", headers=_bearer(thief["accessToken"])), 401)
    assert_error(await client.get("/auth/me", headers=_bearer(stolen["accessToken"])), 401)
    # ... while the user's other logins go on.
    assert (
        await client.get("/auth/me", headers=_bearer(other_device["accessToken"]))
    ).status_code == 200
    assert (await _refresh(client, other_device["refreshToken"])).status_code == 200


async def test_logout_ends_this_session_and_the_one_of_the_refresh_token_given(
    client: httpx.AsyncClient,
) -> None:
    caller = await register(client)
    laptop = await _login(client, caller.email, caller.password)
    phone = await _login(client, caller.email, caller.password)
    tablet = await _login(client, caller.email, caller.password)

    out = await client.post("/auth/logout", headers=_bearer(laptop["accessToken"]))
    assert out.status_code == 200
    assert_error(await client.get("/auth/me", headers=_bearer(laptop["accessToken"])), 401)
    assert_error(await _refresh(client, laptop["refreshToken"]), 401, "invalid_refresh_token")

    out = await client.post(
        "/auth/logout",
        json={"refreshToken": phone["refreshToken"]},
        headers=_bearer(tablet["accessToken"]),
    )
    assert out.status_code == 200
    for ended in (phone, tablet):
        assert_error(await _refresh(client, ended["refreshToken"]), 401)
    # Someone else's refresh token is not ended by my logout.
    other = await register(client)
    theirs = await _login(client, other.email, other.password)
    mine = await _login(client, caller.email, caller.password)
    await client.post(
        "/auth/logout",
        json={"refreshToken": theirs["refreshToken"]},
        headers=_bearer(mine["accessToken"]),
    )
    assert (await _refresh(client, theirs["refreshToken"])).status_code == 200
    assert_error(await client.post("/auth/logout"), 401, "unauthorized")


async def test_a_password_reset_ends_every_refresh_token_of_the_user(
    client: httpx.AsyncClient, smtp_server: Mailbox, run_jobs: Any
) -> None:
    caller = await register(client)
    sessions = [await _login(client, caller.email, caller.password) for _ in range(2)]
    await client.post("/auth/forgot-password", json={"email": caller.email})
    await run_jobs()
    token = token_from(smtp_server.to(caller.email)[0]["body"])
    reset = await client.post(
        "/auth/reset-password", json={"token": token, "password": "after the reset"}
    )
    assert reset.status_code == 200
    for ended in sessions:
        assert_error(await _refresh(client, ended["refreshToken"]), 401, "invalid_refresh_token")
    fresh = await _login(client, caller.email, "after the reset")
    assert (await _refresh(client, fresh["refreshToken"])).status_code == 200


async def test_an_expired_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    caller = await register(client)
    session_tokens = await _login(client, caller.email, caller.password)
    async with get_sessionmaker()() as session:
        await session.execute(
            text("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
        )
        await session.commit()
    assert_error(
        await _refresh(client, session_tokens["refreshToken"]), 401, "invalid_refresh_token"
    )
