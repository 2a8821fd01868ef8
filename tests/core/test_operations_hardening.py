"""Operations: who may read /metrics, ambiguous credentials, and production's JWT secret."""

from __future__ import annotations

import asyncio
import os
import sys

import httpx
import pytest

from tests.helpers import Servers, api_process, assert_error, register
from ticaret.core.embedded import free_port
from ticaret.settings import get_settings


async def test_metrics_need_the_metrics_token_once_one_is_set(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import SecretStr

    monkeypatch.setattr(get_settings(), "metrics_token", SecretStr("scrape-" + "m" * 30))
    caller = await register(client)
    assert_error(await client.get("/metrics"), 401, "invalid_metrics_token")
    # A user's access token is no metrics token.
    assert_error(await client.get("/metrics", headers=caller.headers), 401, "invalid_metrics_token")
    assert_error(
        await client.get("/metrics", headers={"Authorization": "Bearer scrape-wrong"}),
        401,
        "invalid_metrics_token",
    )
    scraped = await client.get("/metrics", headers={"Authorization": "Bearer scrape-" + "m" * 30})
    assert scraped.status_code == 200
    assert "ticaret_http_requests_total" in scraped.text


async def test_metrics_are_off_in_production_unless_configured(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "environment", "production")
    assert_error(await client.get("/metrics"), 404)
    monkeypatch.setattr(settings, "metrics_enabled", True)
    assert (await client.get("/metrics")).status_code == 200


async def test_a_bearer_token_and_an_api_key_together_are_refused_as_ambiguous(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    created = await client.post(
        f"/accounts/{owner.account_id}/api-accounts",
        json={"name": "erp", "role": "viewer"},
        headers=owner.headers,
    )
    key = created.json()["data"]
    api_headers = {"x-api-key": key["key"], "x-api-secret": key["secret"]}
    assert (await client.get("/auth/me", headers=api_headers)).status_code == 200
    assert (await client.get("/auth/me", headers=owner.headers)).status_code == 200
    both = await client.get("/auth/me", headers={**owner.headers, **api_headers})
    assert_error(both, 400, "ambiguous_credentials")
    # Half an API key next to a token is just as ambiguous.
    assert_error(
        await client.get("/auth/me", headers={**owner.headers, "x-api-key": key["key"]}),
        400,
        "ambiguous_credentials",
    )


async def test_production_refuses_to_start_with_a_short_jwt_secret(servers: Servers) -> None:
    env = {
        **os.environ,
        "TICARET_ENVIRONMENT": "production",
        "TICARET_AUTH__JWT_SECRET": "only-24-bytes-of-secret!",
        "TICARET_DATABASE_URL": servers.database_url,
        "TICARET_REDIS_URL": servers.redis_url,
    }
    for command in (["serve", "--port", str(free_port())], ["worker"]):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ticaret.cli",
            *command,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode != 0, command
        assert "TICARET_AUTH__JWT_SECRET must be at least 32 bytes" in stderr.decode(), command


async def test_production_starts_with_a_long_enough_jwt_secret(servers: Servers) -> None:
    async with (
        api_process(
            servers,
            TICARET_ENVIRONMENT="production",
            TICARET_AUTH__JWT_SECRET="a" * 32,
        ) as base,
        httpx.AsyncClient(base_url=base) as api,
    ):
        assert (await api.get("/health")).status_code == 200
        # ... and /metrics is off there by default.
        assert_error(await api.get("/metrics"), 404)
