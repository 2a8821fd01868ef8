"""`ticaret wa-inject`: a customer's message into a sandbox session from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import anyio
import httpx

from tests.helpers import REPO, register
from tests.wa.helpers import create_session, messages


async def test_wa_inject_cli_delivers_through_the_inbox(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    command = [
        sys.executable,
        "-m",
        "ticaret.cli",
        "wa-inject",
        "--session",
        psid,
        "--from",
        "+90 555 111 22 33",
        "--text",
        "CLI'dan merhaba",
        "--name",
        "Deniz",
    ]
    result = await anyio.to_thread.run_sync(
        lambda: subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )
    )
    assert result.returncode == 0, result.stderr
    assert "injected" in result.stdout
    await run_jobs()
    [message] = (await messages(client, owner, psid))["rows"]
    assert message["text"] == "CLI'dan merhaba"
    assert message["pushName"] == "Deniz"

    missing = await anyio.to_thread.run_sync(
        lambda: subprocess.run(
            [sys.executable, "-m", "ticaret.cli", "wa-inject", "--session", psid, "--from", "905"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    )
    assert missing.returncode == 2
    assert "--text" in missing.stderr
