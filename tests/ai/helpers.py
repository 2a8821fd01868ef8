"""Helpers of the AI tests: a shop (an owner, a sandbox session, a catalog imported through
/products/import), customers writing in, analyses read back, and an OpenAI API faked with
respx in the shapes its API reference documents."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from openai.types.chat import ChatCompletion

from tests.helpers import Caller, register
from tests.wa.helpers import create_session

FIXTURES = Path(__file__).parent / "fixtures"
CUSTOMER = "905551112233"
CUSTOMER_JID = f"{CUSTOMER}@s.whatsapp.net"
OPENAI = "https://api.openai.com/v1"
API_KEY = "sk-proj-test1234567890abcdefWXYZ"


def catalog_rows() -> list[dict[str, Any]]:
    return list(json.loads((FIXTURES / "catalog.json").read_text())["rows"])


@dataclass
class Shop:
    owner: Caller
    psid: str

    @property
    def headers(self) -> dict[str, str]:
        return {**self.owner.headers, "x-account-id": self.owner.account_id}


async def open_shop(client: httpx.AsyncClient, *, catalog: bool = True) -> Shop:
    """A new owner with a sandbox session and, unless told otherwise, the fixture catalog."""
    owner = await register(client)
    psid = str((await create_session(client, owner))["providerSessionId"])
    shop = Shop(owner, psid)
    if catalog:
        await import_catalog(client, shop, catalog_rows())
    return shop


async def import_catalog(client: httpx.AsyncClient, shop: Shop, rows: list[dict[str, Any]]) -> None:
    response = await client.post("/products/import", json={"rows": rows}, headers=shop.headers)
    assert response.status_code in (200, 201), response.text
    result = response.json()["data"]
    assert result["status"] == "completed" and result["failed"] == 0, result


async def customer_says(
    client: httpx.AsyncClient,
    shop: Shop,
    text: str | None,
    *,
    phone: str = CUSTOMER,
    **extra: Any,
) -> str:
    """The customer's message through the sandbox gateway; its messageId."""
    response = await client.post(
        f"/wa/sandbox/{shop.psid}/inbound",
        json={"from": phone, "text": text, "pushName": "Ayşe", **extra},
        headers=shop.headers,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["messageId"])


def analysis_url(message_id: str, jid: str = CUSTOMER_JID) -> str:
    return f"/wa/chats/{jid}/messages/{message_id}/ai-analysis"


async def analysis(
    client: httpx.AsyncClient, shop: Shop, message_id: str, *, jid: str = CUSTOMER_JID
) -> dict[str, Any]:
    response = await client.get(
        analysis_url(message_id, jid),
        params={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


async def put_settings(client: httpx.AsyncClient, shop: Shop, **fields: Any) -> dict[str, Any]:
    response = await client.put("/ai/settings", json=fields, headers=shop.headers)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


async def use_openai(client: httpx.AsyncClient, shop: Shop, **fields: Any) -> dict[str, Any]:
    return await put_settings(
        client, shop, provider="openai", apiKey=API_KEY, model="gpt-4o-mini", **fields
    )


# The OpenAI API, as its reference documents it ----------------------------------------------


def chat_completion(
    content: str | None,
    *,
    refusal: str | None = None,
    finish_reason: str = "stop",
    model: str = "gpt-4o-mini-2024-07-18",
    completion_id: str = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    prompt_tokens: int = 412,
    completion_tokens: int = 96,
) -> dict[str, Any]:
    """A chat completion object (`POST /v1/chat/completions`, non-streaming)."""
    body = {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": refusal,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish_reason,
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
    # The SDK's own model of the object: a fake that drifted from the API would fail here.
    ChatCompletion.model_validate(body)
    return body


def api_error(
    message: str, *, type_: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """An error body: `{"error": {"message", "type", "param", "code"}}`."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


INVALID_KEY = api_error(
    "Incorrect API key provided: sk-proj-****WXYZ. You can find your API key at "
    "https://platform.openai.com/account/api-keys.",
    type_="invalid_request_error",
    code="invalid_api_key",
)
RATE_LIMITED = api_error(
    "Rate limit reached for gpt-4o-mini in organization org-abc on requests per min (RPM): "
    "Limit 3, Used 3, Requested 1. Please try again in 1s. Visit "
    "https://platform.openai.com/account/rate-limits to learn more.",
    type_="requests",
    code="rate_limit_exceeded",
)
SERVER_ERROR = api_error(
    "The server had an error while processing your request. Sorry about that!",
    type_="server_error",
)
SCHEMA_UNSUPPORTED = api_error(
    "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this "
    "model. Learn more about supported models at the Structured Outputs guide: "
    "https://platform.openai.com/docs/guides/structured-outputs",
    type_="invalid_request_error",
    param="response_format",
)
MODEL_NOT_FOUND = api_error(
    "The model `gpt-9-imaginary` does not exist or you do not have access to it.",
    type_="invalid_request_error",
    code="model_not_found",
)


def analysis_answer(**overrides: Any) -> dict[str, Any]:
    """What the model answers for a stock question about the purple linen shirt."""
    answer: dict[str, Any] = {
        "intent": "stock_question",
        "action": "confirm_stock",
        "priority": "normal",
        "sentiment": "neutral",
        "summary": "Müşteri mor keten gömleğin M bedeninin stokta olup olmadığını soruyor.",
        "suggested_reply": "Merhaba! Mor Keten Gömlek M beden stokta, fiyatı 749,90 TL. "
        "Sipariş oluşturalım mı?",
        "confidence": 0.92,
        "entities": {
            "product_name": "keten gömlek",
            "color": "mor",
            "size": "M",
            "amount": None,
            "date": None,
        },
        "product_search": "mor keten gömlek",
        "quantity": None,
        "warnings": [],
    }
    answer.update(overrides)
    return answer


def completion_with(answer: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return httpx.Response(
        200, json=chat_completion(json.dumps(answer, ensure_ascii=False), **kwargs)
    )


def sent_request(call: Any) -> dict[str, Any]:
    return dict(json.loads(call.request.content))


async def events(account_id: str, prefix: str = "ai.") -> list[dict[str, Any]]:
    """The account's events of types starting with `prefix`, in order."""
    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Event

    async with get_sessionmaker()() as session:
        rows = await session.execute(
            select(Event.id, Event.type, Event.data, Event.actor_type)
            .where(Event.account_id == account_id, Event.type.startswith(prefix))
            .order_by(Event.seq)
        )
        return [{"id": i, "type": t, "data": d, "actorType": a} for i, t, d, a in rows.tuples()]


def chat_route(router: Any, base: str = OPENAI) -> Any:
    return router.post(f"{base}/chat/completions")


async def drain_inbox_only() -> None:
    """The real worker, taking only the first queued job (the inbox drain of the messages
    sent so far): their events are committed and the consumers' jobs queued, not yet run."""
    from ticaret.core.queue import get_redis
    from ticaret.worker import build_worker

    worker = build_worker(get_redis(), burst=True, with_cron=False)
    worker.max_burst_jobs = 1
    await worker.async_run()


async def finished_jobs() -> dict[str, int]:
    """How many jobs of each function the workers finished (arq keeps each job's result)."""
    from collections import Counter

    from ticaret.core.queue import get_redis

    return dict(Counter(result.function for result in await get_redis().all_job_results()))


async def set_event_data(event_id: str, data: Any) -> None:
    """An event's stored data replaced (malformed data a consumer must survive)."""
    from sqlalchemy import update

    from ticaret.core.db import unit_of_work
    from ticaret.models import Event

    async with unit_of_work() as session:
        await session.execute(update(Event).where(Event.id == event_id).values(data=data))
