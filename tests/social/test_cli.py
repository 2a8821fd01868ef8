"""`ticaret meta-inject`: a signed Messenger / Instagram webhook posted to the running API."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import anyio
import httpx

from tests.helpers import REPO, Servers, api_process, register
from tests.social.helpers import headers, sql


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-m", "ticaret.cli", "meta-inject", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_meta_inject_delivers_a_dm_and_a_comment_through_the_api(
    client: httpx.AsyncClient, servers: Servers, run_jobs: Any
) -> None:
    owner = await register(client)
    async with api_process(servers) as base:
        dm = await anyio.to_thread.run_sync(
            lambda: _run(
                "--account", owner.account_id, "--text", "Dev ortamından merhaba", "--api-url", base
            )
        )
        assert dm.returncode == 0, dm.stderr
        assert "delivered a signed facebook webhook" in dm.stdout
        comment = await anyio.to_thread.run_sync(
            lambda: _run(
                "--platform",
                "instagram",
                "--account",
                owner.account_id,
                "--comment",
                "--text",
                "Bu ne kadar?",
                "--api-url",
                base,
            )
        )
        assert comment.returncode == 0, comment.stderr
    await run_jobs()

    [page] = (await client.get("/meta/assets", headers=headers(owner))).json()["data"]["rows"]
    assert page["name"] == "Dev Page"
    [thread] = (
        await client.get(f"/meta/assets/{page['id']}/threads", headers=headers(owner))
    ).json()["data"]["rows"]
    assert thread["lastMessagePreview"] == "Dev ortamından merhaba"
    types = {row[0] for row in await sql("SELECT type FROM events")}
    assert {"meta.message.received", "instagram.comment.received"} <= types


async def test_meta_inject_reports_an_api_that_refuses(servers: Servers) -> None:
    bad_secret = {**os.environ, "TICARET_META__APP_SECRET": "not-the-api-secret"}
    async with api_process(servers) as base:
        result = await anyio.to_thread.run_sync(
            lambda: subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ticaret.cli",
                    "meta-inject",
                    "--text",
                    "x",
                    "--api-url",
                    base,
                ],
                env={**bad_secret, "PYTHONPATH": str(REPO / "src")},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        )
    assert result.returncode == 1
    assert "invalid_signature" in result.stderr
