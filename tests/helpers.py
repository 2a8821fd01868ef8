"""Helpers every test module shares: callers, registration, error checks, the servers' URLs,
a real SMTP mailbox, a scripted name service, and the API as a real process."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Servers:
    database_url: str
    redis_url: str
    redis: Any  # EmbeddedRedis | None: tests stop/start it to simulate an outage


@dataclass
class Caller:
    """A registered user with their access token and first account."""

    email: str
    password: str
    token: str
    user_id: str
    account_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register(
    client: httpx.AsyncClient,
    *,
    email: str | None = None,
    password: str = "correct horse 1",
    name: str = "Test User",
) -> Caller:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    response = await client.post(
        "/auth/register",
        json={"email": email, "password": password, "name": name, "accountName": f"{name}'s shop"},
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return Caller(
        email=email,
        password=password,
        token=data["accessToken"],
        user_id=data["user"]["id"],
        account_id=data["accounts"][0]["accountId"],
    )


async def login(client: httpx.AsyncClient, email: str, password: str) -> str:
    response = await client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["accessToken"])


async def add_member(
    client: httpx.AsyncClient, owner: Caller, role: str, *, password: str = "member password 1"
) -> Caller:
    """A user registered on their own, then added to `owner`'s account with `role`."""
    member = await register(client, password=password, name=f"{role.title()} Member")
    response = await client.post(
        f"/accounts/{owner.account_id}/users",
        json={"email": member.email, "role": role},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return Caller(member.email, password, member.token, member.user_id, owner.account_id)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] is False
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return dict(body["error"])


class Mailbox:
    """What a real SMTP server on 127.0.0.1 received; `delay_s` makes it slow to accept."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.delay_s = 0.0
        self.receiving = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.receiving.set()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        body = parsed.get_body(("plain",))
        assert body is not None
        self.messages.append(
            {"to": envelope.rcpt_tos, "subject": parsed["subject"], "body": body.get_content()}
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["to"] == [address]]


def token_from(body: str) -> str:
    match = re.search(r"token=([A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


class ScriptedDns:
    """The event loop's name service, scripted for some names (rebinding, public answers).

    Each scripted name has a list of answers, one per lookup; the last one repeats.
    """

    def __init__(self, real: Any, script: dict[str, list[list[str]]]) -> None:
        self._real = real
        self._script = script
        self.lookups: list[str] = []

    async def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self._script:
            return list(await self._real(host, port, *args, **kwargs))
        self.lookups.append(name)
        answers = self._script[name]
        ips = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0))
            if ":" in ip
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in ips
        ]


async def worker_process(
    servers: Servers, *, output: bool = False, **env: str
) -> asyncio.subprocess.Process:
    """`ticaret worker` as a real process on the test's database and Redis (metrics port off);
    `output` keeps its stdout and stderr readable (else they are dropped)."""
    stream = asyncio.subprocess.PIPE if output else asyncio.subprocess.DEVNULL
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ticaret.cli",
        "worker",
        env={
            **os.environ,
            "TICARET_DATABASE_URL": servers.database_url,
            "TICARET_REDIS_URL": servers.redis_url,
            "TICARET_WORKER_METRICS_PORT": "0",
            **env,
        },
        stdout=stream,
        stderr=stream,
    )


@asynccontextmanager
async def api_process(servers: Servers, **env: str) -> AsyncIterator[str]:
    """`ticaret serve` as a real process on a free port (uvicorn options as in production)."""
    from ticaret.core.embedded import free_port

    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ticaret.cli",
            "serve",
            "--port",
            str(port),
            env={
                **os.environ,
                "TICARET_DATABASE_URL": servers.database_url,
                "TICARET_REDIS_URL": servers.redis_url,
                **env,
            },
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=10) as probe:
                for _ in range(600):
                    assert process.returncode is None, "the API process exited"
                    try:
                        if (await probe.get("/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                else:
                    raise AssertionError("the API process did not start")
            yield base
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()


async def live_channel(*account_ids: str | uuid.UUID) -> Any:
    """A Redis subscription to the accounts' live event channels, its confirmations read."""
    from ticaret.core.events import account_channel
    from ticaret.core.queue import get_redis

    pubsub = get_redis().pubsub()
    await pubsub.subscribe(*(account_channel(account_id) for account_id in account_ids))
    for _ in account_ids:
        await pubsub.get_message(timeout=1)  # the subscription's own confirmation
    return pubsub


async def unrelayed_events(account_id: str | uuid.UUID | None = None) -> set[str]:
    """The ids of the events still waiting in the outbox (of one account, or all)."""
    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Event, OutboxPending

    query = select(OutboxPending.event_id)
    if account_id is not None:
        query = query.join(Event, Event.id == OutboxPending.event_id).where(
            Event.account_id == uuid.UUID(str(account_id))
        )
    async with get_sessionmaker()() as session:
        return set(await session.scalars(query))


async def live_events(pubsub: Any, timeout: float = 1.0) -> list[dict[str, Any]]:
    """The events the relay woke `pubsub`'s channels for until `timeout` passes quietly, in
    the order named, each as the console streams it (read from the outbox, as it does)."""
    import json

    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.core.events import event_payload
    from ticaret.models import Event

    named: list[str] = []
    while (
        message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
    ) is not None:
        wake_up = json.loads(message["data"])
        named.extend(event["id"] for event in wake_up["events"])
    async with get_sessionmaker()() as session:
        found = {e.id: e for e in await session.scalars(select(Event).where(Event.id.in_(named)))}
    return [event_payload(found[event_id]) for event_id in named]
