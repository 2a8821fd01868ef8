"""Stopping a real `ticaret worker` process while it runs a job."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest
from sqlalchemy import select

from tests.helpers import Mailbox, Servers, register, worker_process
from ticaret.core.db import get_sessionmaker
from ticaret.models import OutgoingEmail
from ticaret.settings import get_settings


async def _wait_until(condition: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_a_stopped_worker_finishes_its_running_job_and_exits_without_a_traceback(
    client: httpx.AsyncClient, servers: Servers, smtp_server: Mailbox, stop_signal: signal.Signals
) -> None:
    # The mail server takes two seconds to accept: the send is in flight when the signal comes.
    smtp_server.delay_s = 2.0
    caller = await register(client)
    assert (
        await client.post("/auth/forgot-password", json={"email": caller.email})
    ).status_code == 200
    smtp = get_settings().smtp
    worker = await worker_process(
        servers,
        output=True,
        TICARET_SMTP__HOST=str(smtp.host),
        TICARET_SMTP__PORT=str(smtp.port),
        TICARET_SMTP__STARTTLS="false",
        TICARET_WORKER_SHUTDOWN_GRACE_SECONDS="30",
        TICARET_LOG_LEVEL="INFO",
    )
    try:
        await _wait_until(smtp_server.receiving.is_set, 60)
        worker.send_signal(stop_signal)
        _, stderr = await asyncio.wait_for(worker.communicate(), 60)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    log = stderr.decode()
    assert worker.returncode == 0, log
    assert "Traceback" not in log and "CancelledError" not in log, log
    # The job in flight was allowed to finish: the mail went out once and is recorded as sent.
    assert len(smtp_server.to(caller.email)) == 1
    async with get_sessionmaker()() as session:
        email = (await session.scalars(select(OutgoingEmail))).one()
    assert email.status == "sent" and email.attempt_count == 1
