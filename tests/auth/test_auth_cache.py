"""Who is calling is kept in memory for `auth.cache_ttl_seconds`; a change is seen at once here
and, through Redis pub/sub, in every other process; a lost message is bounded by the TTL.

"Another process" is played by writing the change straight to the database (no flush of this
process's session sees it) and, where it says so, publishing what that process would publish.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.helpers import Caller, add_member, assert_error, register
from ticaret.core.cache import CHANNEL
from ticaret.core.db import get_engine
from ticaret.core.queue import get_redis
from ticaret.settings import get_settings


async def api_key_of(client: httpx.AsyncClient, owner: Caller) -> dict[str, str]:
    response = await client.post(
        f"/accounts/{owner.account_id}/api-accounts",
        json={"name": "erp", "role": "admin"},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return {"id": data["id"], "x-api-key": data["key"], "x-api-secret": data["secret"]}


def credentials(key: dict[str, str]) -> dict[str, str]:
    return {"x-api-key": key["x-api-key"], "x-api-secret": key["x-api-secret"]}


async def revoke_elsewhere(api_account_id: str) -> None:
    """The revocation as another process commits it: this process's session never sees it."""
    async with get_engine().begin() as conn:
        await conn.execute(
            text("UPDATE api_accounts SET revoked_at = now() WHERE id = :id"),
            {"id": api_account_id},
        )


async def until_refused(client: httpx.AsyncClient, headers: dict[str, str], within: float) -> int:
    deadline = time.monotonic() + within
    while True:
        status = (await client.get("/accounts", headers=headers)).status_code
        if status != 200 or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.02)


async def test_a_key_revoked_over_the_api_is_refused_on_the_next_call(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    key = await api_key_of(client, owner)
    assert (await client.get("/accounts", headers=credentials(key))).status_code == 200
    revoked = await client.post(
        f"/accounts/{owner.account_id}/api-accounts/{key['id']}/revoke", headers=owner.headers
    )
    assert revoked.status_code == 200
    assert_error(
        await client.get("/accounts", headers=credentials(key)), 401, "invalid_api_credentials"
    )


async def test_a_rotated_secret_stops_working_on_the_next_call(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    key = await api_key_of(client, owner)
    assert (await client.get("/accounts", headers=credentials(key))).status_code == 200
    rotated = await client.post(
        f"/accounts/{owner.account_id}/api-accounts/{key['id']}/rotate-secret",
        headers=owner.headers,
    )
    assert rotated.status_code == 200
    assert_error(await client.get("/accounts", headers=credentials(key)), 401)
    fresh = {**credentials(key), "x-api-secret": rotated.json()["data"]["secret"]}
    assert (await client.get("/accounts", headers=fresh)).status_code == 200


async def test_a_key_revoked_by_a_process_whose_message_was_lost_is_refused_after_the_ttl(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ttl = 0.5
    monkeypatch.setattr(get_settings().auth, "cache_ttl_seconds", ttl)
    owner = await register(client)
    key = await api_key_of(client, owner)
    assert (await client.get("/accounts", headers=credentials(key))).status_code == 200

    await revoke_elsewhere(key["id"])  # and no invalidation message ever arrives
    await asyncio.sleep(ttl + 0.1)
    assert_error(
        await client.get("/accounts", headers=credentials(key)), 401, "invalid_api_credentials"
    )


async def test_a_key_revoked_by_another_process_is_refused_once_its_message_arrives(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A TTL far longer than the test: only the message can end the cached answer.
    monkeypatch.setattr(get_settings().auth, "cache_ttl_seconds", 60.0)
    owner = await register(client)
    key = await api_key_of(client, owner)
    assert (await client.get("/accounts", headers=credentials(key))).status_code == 200

    await revoke_elsewhere(key["id"])
    message: dict[str, Any] = {"cache": "auth_api_keys", "tags": [f"api_account:{key['id']}"]}
    await get_redis().publish(CHANNEL, json.dumps(message))
    assert await until_refused(client, credentials(key), within=5.0) == 401


async def test_a_demoted_admin_loses_admin_routes_on_the_next_call(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    admin = await add_member(client, owner, "admin")
    webhooks = f"/accounts/{owner.account_id}/webhooks"
    assert (await client.get(webhooks, headers=admin.headers)).status_code == 200
    demoted = await client.patch(
        f"/accounts/{owner.account_id}/users/{admin.user_id}",
        json={"role": "viewer"},
        headers=owner.headers,
    )
    assert demoted.status_code == 200, demoted.text
    assert_error(await client.get(webhooks, headers=admin.headers), 403, "insufficient_role")


async def test_a_removed_member_loses_the_account_on_the_next_call(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    agent = await add_member(client, owner, "agent")
    headers = {**agent.headers, "x-account-id": owner.account_id}
    assert (await client.get("/wa/labels", headers=headers)).status_code == 200
    removed = await client.delete(
        f"/accounts/{owner.account_id}/users/{agent.user_id}", headers=owner.headers
    )
    assert removed.status_code == 200
    assert_error(await client.get("/wa/labels", headers=headers), 403, "not_a_member")


async def test_a_logged_out_token_is_refused_on_the_next_call(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    assert (await client.get("/accounts", headers=owner.headers)).status_code == 200
    assert (await client.post("/auth/logout", headers=owner.headers)).status_code == 200
    assert_error(await client.get("/accounts", headers=owner.headers), 401, "invalid_token")
