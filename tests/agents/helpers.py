"""Helpers of the agent tests: a shop with the fixture catalog, a CRM customer and OpenAI
settings; agents made through the API; and the OpenAI Chat Completions API faked with respx
in the shapes its reference documents, tool calls included (each fake is validated by the
SDK's own `ChatCompletion` model, so a drifted fake fails)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx
from openai.types.chat import ChatCompletion

from tests.ai.helpers import OPENAI, catalog_rows, import_catalog
from tests.helpers import Caller, register

API_KEY = "sk-proj-agents1234567890abcdWXYZ"


@dataclass
class Shop:
    client: httpx.AsyncClient
    owner: Caller
    customer_id: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {**self.owner.headers, "x-account-id": self.owner.account_id}

    async def call(self, method: str, url: str, *, expect: int = 200, **kwargs: Any) -> Any:
        response = await self.client.request(method, url, headers=self.headers, **kwargs)
        assert response.status_code == expect, (method, url, response.text)
        return response.json()["data"]

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, url, headers=self.headers, **kwargs)


async def open_shop(client: httpx.AsyncClient, *, catalog: bool = True) -> Shop:
    """An owner whose account has the fixture catalog, OpenAI settings and a CRM customer."""
    owner = await register(client)
    shop = Shop(client, owner)
    if catalog:
        await import_catalog(client, shop, catalog_rows())  # type: ignore[arg-type]
    await shop.call(
        "PUT",
        "/ai/settings",
        json={"provider": "openai", "apiKey": API_KEY, "model": "gpt-4o-mini", "language": "tr"},
    )
    customer = await shop.call(
        "POST",
        "/crm/customers",
        json={"title": "Ayşe Yılmaz", "phones": ["+905551112233"]},
        expect=201,
    )
    shop.customer_id = str(customer["id"])
    return shop


async def create_agent(shop: Shop, **fields: Any) -> dict[str, Any]:
    body = {"name": "Satış asistanı", "instructions": "Kibar ol.", **fields}
    return dict(await shop.call("POST", "/ai/agents", json=body, expect=201))


async def chat_with(shop: Shop, agent_id: str, content: str, **fields: Any) -> dict[str, Any]:
    """`POST /ai/agents/{id}/test` as the shop's customer: 202 with the pending run."""
    body = {"content": content, "customerId": shop.customer_id, **fields}
    return dict(await shop.call("POST", f"/ai/agents/{agent_id}/test", json=body, expect=202))


async def run_of(shop: Shop, run_id: str) -> dict[str, Any]:
    return dict(await shop.call("GET", f"/ai/runs/{run_id}"))


# The OpenAI API, as its reference documents it ----------------------------------------------


@dataclass
class Call:
    name: str
    arguments: dict[str, Any] | str
    id: str = field(default="")


_counter = {"n": 0}


def completion(
    content: str | None = None,
    *,
    calls: list[Call] | None = None,
    prompt_tokens: int = 300,
    completion_tokens: int = 40,
    model: str = "gpt-4o-mini-2024-07-18",
) -> dict[str, Any]:
    """A chat completion (`POST /v1/chat/completions`, non-streaming): a final answer, or the
    model asking for functions (`finish_reason: "tool_calls"`, arguments as a JSON string)."""
    _counter["n"] += 1
    tool_calls = None
    if calls:
        tool_calls = [
            {
                "id": call.id or f"call_{_counter['n']}{index}Xq7hZ2mT9vLk",
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": call.arguments
                    if isinstance(call.arguments, str)
                    else json.dumps(call.arguments, ensure_ascii=False),
                },
            }
            for index, call in enumerate(calls)
        ]
    body = {
        "id": f"chatcmpl-agent{_counter['n']:04d}B9MBs8CjcvOU2jLn",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": None,
                    "annotations": [],
                    **({"tool_calls": tool_calls} if tool_calls else {}),
                },
                "logprobs": None,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
    }
    ChatCompletion.model_validate(body)
    return body


def answers(*bodies: dict[str, Any]) -> list[httpx.Response]:
    return [httpx.Response(200, json=body) for body in bodies]


def chat_route(router: respx.MockRouter) -> respx.Route:
    return router.post(f"{OPENAI}/chat/completions")


def sent(route: respx.Route, index: int) -> dict[str, Any]:
    return dict(json.loads(route.calls[index].request.content))


async def events(account_id: str, *types: str) -> list[dict[str, Any]]:
    """The account's events of these types, in order."""
    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Event

    async with get_sessionmaker()() as session:
        rows = await session.execute(
            select(Event.type, Event.data)
            .where(Event.account_id == account_id, Event.type.in_(types))
            .order_by(Event.seq)
        )
        return [{"type": t, "data": d} for t, d in rows.tuples()]


async def api_conversation(shop: Shop, **fields: Any) -> dict[str, Any]:
    """An `api` conversation of the shop's customer, made as a server integration would."""
    body = {"type": "api", "customerId": shop.customer_id, "language": "tr", **fields}
    return dict(await shop.call("POST", "/conversations", json=body, expect=201))


async def customer_writes(
    shop: Shop, conversation_id: str, text: str, **fields: Any
) -> dict[str, Any]:
    """The customer's message through the Connect360 send (`sender: customer`)."""
    body = {"content": {"tr": text}, "sender": "customer", "customerId": shop.customer_id}
    body.update(fields)
    sent = await shop.call(
        "POST", f"/conversations/{conversation_id}/messages", json=body, expect=201
    )
    return dict(sent["message"])


async def operator_writes(shop: Shop, conversation_id: str, text: str) -> dict[str, Any]:
    sent = await shop.call(
        "POST",
        f"/conversations/{conversation_id}/messages",
        json={"content": {"tr": text}, "sender": "workspace"},
        expect=201,
    )
    return dict(sent["message"])


async def runs_of(shop: Shop, agent_id: str) -> list[dict[str, Any]]:
    page = await shop.call("GET", f"/ai/agents/{agent_id}/runs")
    return list(page["rows"])


async def history(shop: Shop, conversation_id: str) -> list[dict[str, Any]]:
    return list((await shop.call("GET", f"/conversations/{conversation_id}/history"))["history"])
