from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from typing import Any

import httpx
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.helpers import REPO, Servers, login, register
from ticaret.core.observability import JsonFormatter, request_id_var


def test_migrations_have_a_single_head() -> None:
    script = ScriptDirectory.from_config(Config(str(REPO / "alembic.ini")))
    assert len(script.get_heads()) == 1


async def test_create_user_command_makes_a_user_who_can_log_in(
    client: httpx.AsyncClient, servers: Servers
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ticaret.cli",
            "create-user",
            "--email",
            "cli@example.com",
            "--password",
            "cli password 1",
            "--name",
            "Cli",
            "--account",
            "Cli Shop",
        ],
        env={
            **os.environ,
            "TICARET_DATABASE_URL": servers.database_url,
            "TICARET_REDIS_URL": servers.redis_url,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "cli@example.com" in result.stdout and "Cli Shop" in result.stdout
    token = await login(client, "cli@example.com", "cli password 1")
    accounts = (await client.get("/accounts", headers={"Authorization": f"Bearer {token}"})).json()[
        "data"
    ]["rows"]
    assert [(a["name"], a["role"]) for a in accounts] == [("Cli Shop", "owner")]


async def test_job_metrics_count_outcomes(client: httpx.AsyncClient, run_jobs: Any) -> None:
    caller = await register(client)
    await client.post("/auth/forgot-password", json={"email": caller.email})
    await run_jobs()
    metrics = (await client.get("/metrics")).text
    line = next(
        ln
        for ln in metrics.splitlines()
        if ln.startswith('ticaret_jobs_total{job="send_email",outcome="success"}')
    )
    assert float(line.split()[-1]) >= 1


def test_json_logs_carry_the_request_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    from ticaret.core.observability import _RequestIdFilter

    handler.addFilter(_RequestIdFilter())
    logger = logging.getLogger("ticaret.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    token = request_id_var.set("req-42")
    try:
        logger.info("hello %s", "world")
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["msg"] == "hello world"
    assert entry["request_id"] == "req-42"
    assert entry["level"] == "info"
