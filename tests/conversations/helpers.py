"""Helpers of the conversation tests: an account's API, conversations and sends as an
integration makes them, and the events the account got."""

from __future__ import annotations

from typing import Any

import httpx

from tests.crm.helpers import Api, events
from tests.helpers import Caller, assert_error, register

__all__ = [
    "Api",
    "Caller",
    "agent",
    "assert_error",
    "conversation",
    "events",
    "message_events",
    "new_api",
    "send",
    "upload",
]


async def new_api(client: httpx.AsyncClient, name: str = "Shop") -> Api:
    return Api(client, await register(client, name=name))


async def agent(api: Api, name: str = "Support Assistant", **fields: Any) -> str:
    """An AI agent of the account (answering nowhere on its own unless `channels` say so)."""
    return str((await api.post("/ai/agents", json={"name": name, **fields}))["id"])


async def conversation(api: Api, **body: Any) -> dict[str, Any]:
    return dict(await api.post("/conversations", json={"type": "api", **body}))


async def send(api: Api, conversation_id: str, **body: Any) -> dict[str, Any]:
    return dict(await api.post(f"/conversations/{conversation_id}/messages", json=body))


async def upload(
    api: Api, content: bytes, filename: str = "a.txt", content_type: str = "text/plain"
) -> dict[str, Any]:
    return dict(await api.post("/attachments", files={"file": (filename, content, content_type)}))


async def message_events(account_id: str) -> list[dict[str, Any]]:
    return [
        e["data"]
        for e in await events(account_id, "conversation.message.")
        if e["type"] == "conversation.message.created"
    ]
