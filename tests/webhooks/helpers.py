"""Helpers for the webhook tests: a receiver that checks signatures with `standardwebhooks`,
and the calls that create webhooks and events."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.helpers import Caller
from ticaret.core.db import unit_of_work
from ticaret.core.events import Actor, EventPayload, emit, event_type


class Shipped(EventPayload):
    n: int


SHIPPED = event_type("testing.parcel.shipped", "Emitted by the webhook batch tests.", Shipped)


async def emit_shipped(account_id: str, count: int) -> list[str]:
    """`count` events in one transaction (as a worker's batch emits them); their ids in order."""
    async with unit_of_work() as session:
        events = [
            emit(
                session,
                SHIPPED,
                Shipped(n=n),
                account_id=uuid.UUID(account_id),
                actor=Actor.system(),
            )
            for n in range(count)
        ]
    return [event.id for event in events]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """Answers `fail_first` requests with 500, then `status`; verifies every signature."""

    url: str = ""
    secrets: list[str] = field(default_factory=list)
    fail_first: int = 0
    status: int = 200
    delay_s: float = 0.0
    requests: list[Received] = field(default_factory=list)

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        for secret in self.secrets:
            try:
                StandardWebhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        verified = self.verify(body, headers)
        status = 500 if len(self.requests) < self.fail_first else self.status
        if not verified:
            status = 401
        self.requests.append(Received(headers, body, verified, status))
        reply = json.dumps({"ok": status < 300, "n": len(self.requests)}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": reply})


async def create_webhook(
    client: httpx.AsyncClient,
    owner: Caller,
    receiver: Receiver,
    events: list[str] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        f"/accounts/{owner.account_id}/webhooks",
        json={"url": receiver.url, "events": events or ["api_account.*"], "description": "shop"},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    data = dict(response.json()["data"])
    receiver.secrets.append(data["secret"])
    return data


async def make_event(client: httpx.AsyncClient, owner: Caller, name: str = "bot") -> None:
    """Emit `api_account.created` in the owner's account."""
    response = await client.post(
        f"/accounts/{owner.account_id}/api-accounts",
        json={"name": name, "role": "viewer"},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text


async def deliveries(
    client: httpx.AsyncClient, owner: Caller, hook_id: str, query: str = ""
) -> list[dict[str, Any]]:
    """A webhook's deliveries with their attempts, as the API lists them (newest first)."""
    response = await client.get(
        f"/accounts/{owner.account_id}/webhooks/{hook_id}/deliveries{query}",
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["data"]["rows"])
