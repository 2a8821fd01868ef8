"""The LLM path against the OpenAI API faked with respx, in the shapes its API reference
documents: chat completions with a json_schema response format, refusals, and the error bodies
of 401, 429 (with retry-after), 500 and timeouts. Completed, retried, failed, repaired."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import datetime
from typing import Any

import httpx
import pytest
import respx

from tests.ai.helpers import (
    API_KEY,
    INVALID_KEY,
    RATE_LIMITED,
    SCHEMA_UNSUPPORTED,
    SERVER_ERROR,
    analysis,
    analysis_answer,
    analysis_url,
    chat_completion,
    chat_route,
    completion_with,
    customer_says,
    events,
    open_shop,
    put_settings,
    sent_request,
    use_openai,
)
from tests.helpers import assert_error


async def test_a_message_is_analysed_with_one_structured_output_call(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop, visionModel="gpt-4o")
    route = chat_route(openai_api).mock(return_value=completion_with(analysis_answer()))
    await customer_says(client, shop, "merhaba, keten gömlekleriniz çok güzel")
    await run_jobs()
    message_id = await customer_says(client, shop, "mor renkli olan kaldı mı? M lazım")
    await run_jobs()

    data = await analysis(client, shop, message_id)
    assert data["status"] == "completed"
    assert data["provider"] == "openai" and data["model"] == "gpt-4o-mini"
    assert data["intent"] == "stock_question" and data["action"] == "confirm_stock"
    assert data["suggestedReply"].startswith("Merhaba! Mor Keten Gömlek M beden stokta")
    assert data["summary"].startswith("Müşteri mor keten gömleğin")
    # The model was 0.92 sure; the catalog match weighs in.
    assert 0.8 < data["confidence"] <= 0.92
    assert data["entities"]["color"] == "mor" and data["entities"]["size"] == "M"
    assert data["openaiResponseId"] == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert data["usage"] == {
        "promptTokens": 412,
        "completionTokens": 96,
        "totalTokens": 508,
        "calls": 1,
        "model": "gpt-4o-mini",
        "costEstimate": "0.000119",
        "currency": "USD",
    }
    assert data["result"]["structuredOutput"] == "json_schema"
    assert data["result"]["repaired"] is False
    assert data["productMatches"][0]["sku"] == "GML-001"
    assert data["productMatches"][0]["matchStatus"] == "high_confidence"
    assert data["commerce"]["orderDraft"]["items"][0]["sku"] == "GML-001"

    call = route.calls.last
    assert call.request.headers["authorization"] == f"Bearer {API_KEY}"
    body = sent_request(call)
    assert body["model"] == "gpt-4o-mini" and body["temperature"] == 0.2
    schema_format = body["response_format"]
    assert schema_format["type"] == "json_schema"
    assert schema_format["json_schema"]["name"] == "MessageAnalysis"
    assert schema_format["json_schema"]["strict"] is True
    schema = schema_format["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])
    assert {"intent", "suggested_reply", "entities", "product_search"} <= set(schema["required"])
    [system, user] = body["messages"]
    assert system["role"] == "system" and "Turkish" in system["content"]
    # The earlier message as context, and the catalog candidates with real prices.
    assert "Customer: merhaba, keten gömlekleriniz çok güzel" in user["content"]
    assert "Mor Keten Gömlek (SKU GML-001) | price 749,90 TL" in user["content"]
    assert [e["type"] for e in await events(shop.owner.account_id)] == [
        "ai.analysis.completed",
        "ai.analysis.completed",
    ]

    settings = await client.get("/ai/settings", headers=shop.headers)
    usage = settings.json()["data"]["usage"]
    assert usage["totalTokens"] == 1016 and usage["requests"] == 2
    assert usage["costEstimate"] == "0.000238"
    assert settings.json()["data"]["structuredOutput"] == "json_schema"


async def test_a_rate_limited_call_is_retried_after_the_providers_retry_after(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop)
    route = chat_route(openai_api).mock(
        side_effect=[
            httpx.Response(429, json=RATE_LIMITED, headers={"retry-after": "1"}),
            completion_with(analysis_answer()),
        ]
    )
    message_id = await customer_says(client, shop, "mor keten gömlek M var mı")
    await run_jobs()

    data = await analysis(client, shop, message_id)
    assert route.call_count == 2
    assert data["status"] == "completed" and data["attemptCount"] == 2
    error = data["lastError"]
    assert error["code"] == "provider_rate_limited" and error["status"] == 429
    assert error["providerCode"] == "rate_limit_exceeded" and error["retryAfter"] == 1.0
    assert error["message"].startswith("Rate limit reached for gpt-4o-mini")
    scheduled = datetime.fromisoformat(error["retryAt"]) - datetime.fromisoformat(error["at"])
    assert scheduled.total_seconds() == 1.0


async def test_a_provider_that_keeps_failing_fails_the_analysis_after_its_attempts(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop)
    route = chat_route(openai_api).mock(return_value=httpx.Response(500, json=SERVER_ERROR))
    message_id = await customer_says(client, shop, "kırmızı elbise var mı")
    await run_jobs()

    data = await analysis(client, shop, message_id)
    assert data["status"] == "failed" and data["failedAt"]
    assert data["attemptCount"] == data["maxAttempts"] == route.call_count == 4
    assert data["lastError"]["code"] == "provider_unavailable"
    assert data["lastError"]["message"].startswith("The server had an error")
    assert data["nextAttemptAt"] is None
    [event] = await events(shop.owner.account_id)
    assert event["type"] == "ai.analysis.failed"
    assert event["data"]["lastError"]["code"] == "provider_unavailable"


async def test_a_timeout_counts_as_a_failed_attempt_and_is_retried(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop)
    chat_route(openai_api).mock(
        side_effect=[httpx.ReadTimeout("timed out"), completion_with(analysis_answer())]
    )
    message_id = await customer_says(client, shop, "mor keten gömlek M var mı")
    await run_jobs()
    data = await analysis(client, shop, message_id)
    assert data["status"] == "completed" and data["attemptCount"] == 2
    assert data["lastError"]["code"] == "provider_timeout"


async def test_a_rejected_key_fails_at_once_and_the_key_never_shows(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop)
    leaking = {
        "error": {**INVALID_KEY["error"], "message": f"Incorrect API key provided: {API_KEY}."}
    }
    route = chat_route(openai_api).mock(return_value=httpx.Response(401, json=leaking))
    message_id = await customer_says(client, shop, "kırmızı elbise var mı")
    await run_jobs()

    response = await client.get(
        analysis_url(message_id), params={"providerSessionId": shop.psid}, headers=shop.headers
    )
    data = response.json()["data"]
    assert route.call_count == 1
    assert data["status"] == "failed" and data["attemptCount"] == 1
    assert data["lastError"]["code"] == "provider_auth_failed"
    assert data["lastError"]["message"] == "Incorrect API key provided: [key]."
    assert API_KEY not in response.text and API_KEY[:-4] not in response.text


async def test_a_refusal_fails_the_analysis_with_the_models_words(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop)
    chat_route(openai_api).mock(
        return_value=httpx.Response(
            200, json=chat_completion(None, refusal="I'm sorry, I cannot assist with that.")
        )
    )
    message_id = await customer_says(client, shop, "kırmızı elbise var mı")
    await run_jobs()
    data = await analysis(client, shop, message_id)
    assert data["status"] == "failed" and data["attemptCount"] == 1
    assert data["lastError"]["code"] == "model_refused"
    assert (
        data["lastError"]["message"] == "The model refused: I'm sorry, I cannot assist with that."
    )


async def test_malformed_json_is_repaired_once(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop)
    broken = json.dumps(analysis_answer())[:-20]  # cut off mid-object
    route = chat_route(openai_api).mock(
        side_effect=[
            httpx.Response(200, json=chat_completion(broken, completion_id="chatcmpl-first")),
            completion_with(analysis_answer(), completion_id="chatcmpl-repaired"),
        ]
    )
    message_id = await customer_says(client, shop, "mor keten gömlek M var mı")
    await run_jobs()

    data = await analysis(client, shop, message_id)
    assert data["status"] == "completed" and data["attemptCount"] == 1
    assert data["result"]["repaired"] is True
    assert data["openaiResponseId"] == "chatcmpl-repaired"
    assert data["usage"]["totalTokens"] == 1016  # both calls
    repair = sent_request(route.calls.last)
    assert repair["messages"][-2] == {"role": "assistant", "content": broken}
    assert repair["messages"][-1]["role"] == "user"
    assert "not valid JSON for the required schema" in repair["messages"][-1]["content"]


async def test_an_answer_that_stays_invalid_after_the_repair_fails(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop)
    wrong = analysis_answer(intent="buy_now")  # not one of the intents
    route = chat_route(openai_api).mock(return_value=completion_with(wrong))
    message_id = await customer_says(client, shop, "mor keten gömlek M var mı")
    await run_jobs()
    data = await analysis(client, shop, message_id)
    assert route.call_count == 2
    assert data["status"] == "failed" and data["lastError"]["code"] == "invalid_output"
    assert "intent" in data["lastError"]["message"]


async def test_an_endpoint_without_structured_outputs_gets_json_mode_from_then_on(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter, dns: Any
) -> None:
    dns({"llm.example.net": [["93.184.216.34"]]})
    shop = await open_shop(client)
    base = "https://llm.example.net/v1"
    await put_settings(
        client, shop, provider="openai_compatible", baseUrl=base, model="llama3.1:8b"
    )
    route = chat_route(openai_api, base).mock(
        side_effect=[
            httpx.Response(400, json=SCHEMA_UNSUPPORTED),
            completion_with(analysis_answer()),
            completion_with(analysis_answer(intent="price_question", action="send_price")),
        ]
    )
    first = await customer_says(client, shop, "mor keten gömlek M var mı")
    await run_jobs()
    second = await customer_says(client, shop, "fiyatı ne kadar", phone="905550000088")
    await run_jobs()

    assert (await analysis(client, shop, first))["status"] == "completed"
    data = await analysis(client, shop, second, jid="905550000088@s.whatsapp.net")
    assert data["provider"] == "openai_compatible" and data["intent"] == "price_question"
    assert data["result"]["structuredOutput"] == "json_object"
    formats = [sent_request(call)["response_format"] for call in route.calls]
    assert formats[0]["type"] == "json_schema"
    # The second analysis knew: JSON mode at once, with the schema in the instructions.
    assert formats[1:] == [{"type": "json_object"}, {"type": "json_object"}]
    system = sent_request(route.calls.last)["messages"][0]["content"]
    assert system.startswith("Answer with one JSON object") and '"intent"' in system
    settings = await client.get("/ai/settings", headers=shop.headers)
    assert settings.json()["data"]["structuredOutput"] == "json_object"


async def test_a_photo_is_described_by_the_vision_model_and_searched_in_the_catalog(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop, visionModel="gpt-4o")
    photo = {
        "visual_description": "A brown suede loafer with a moccasin stitch.",
        "search_query": "kahverengi süet loafer",
        "attributes": {
            "product_type": "loafer",
            "color": "brown",
            "model": None,
            "pattern": None,
            "material": "suede",
            "brand": None,
            "visible_text": None,
            "style": "casual",
            "shape": None,
            "other_features": "moccasin stitch",
        },
        "warnings": [],
    }
    answer = analysis_answer(
        intent="stock_question",
        entities={"product_name": None, "color": None, "size": "42", "amount": None, "date": None},
        product_search=None,
        summary="Müşteri fotoğraftaki loaferın 42 numarasını soruyor.",
        suggested_reply="Kahverengi Süet Loafer 42 numara stokta, fiyatı 1.799,00 TL.",
    )
    route = chat_route(openai_api).mock(
        side_effect=[
            completion_with(photo, completion_id="chatcmpl-vision", model="gpt-4o-2024-08-06"),
            completion_with(answer),
        ]
    )
    message_id = await customer_says(client, shop, "bunun 42 numarası var mı", withMedia=True)
    await run_jobs()

    data = await analysis(client, shop, message_id)
    assert data["status"] == "completed" and data["sourceType"] == "image"
    visual = data["visualSearch"]
    assert visual["query"] == "kahverengi süet loafer"
    assert visual["visualDescription"] == data["visualDescription"]
    assert visual["attributes"]["color"] == "brown" and visual["attributes"]["material"] == "suede"
    assert visual["responseId"] == "chatcmpl-vision" and visual["matchStatus"] == "high_confidence"
    assert visual["candidateCount"] >= 1 and visual["usage"]["model"] == "gpt-4o"
    assert data["productMatches"][0]["sku"] == "AYK-003"
    assert data["entities"]["size"] == "42" and data["usage"]["calls"] == 2

    vision = sent_request(route.calls[0])
    assert vision["model"] == "gpt-4o"
    parts = vision["messages"][0]["content"]
    image = next(p for p in parts if p["type"] == "image_url")["image_url"]["url"]
    assert image.startswith("data:image/png;base64,")
    assert base64.b64decode(image.split(",", 1)[1]).startswith(b"\x89PNG")
    analysis_call = sent_request(route.calls[1])
    assert 'It shows: "A brown suede loafer' in analysis_call["messages"][1]["content"]


async def test_the_concurrency_limit_holds_analyses_back_instead_of_failing_them(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop, maxConcurrentAnalyses=1)
    in_flight = 0
    peak = 0

    async def slow_answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.2)
        in_flight -= 1
        return completion_with(analysis_answer())

    chat_route(openai_api).mock(side_effect=slow_answer)
    ids = [
        await customer_says(client, shop, "mor keten gömlek M var mı", phone=f"90555000100{n}")
        for n in range(4)
    ]
    await run_jobs()

    assert peak == 1
    for n, message_id in enumerate(ids):
        data = await analysis(client, shop, message_id, jid=f"90555000100{n}@s.whatsapp.net")
        assert data["status"] == "completed" and data["attemptCount"] == 1


async def test_a_spent_monthly_budget_skips_further_analyses(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop, monthlyTokenBudget=500)
    route = chat_route(openai_api).mock(return_value=completion_with(analysis_answer()))
    first = await customer_says(client, shop, "mor keten gömlek M var mı")
    await run_jobs()
    second = await customer_says(client, shop, "beyaz olanı var mı")
    await run_jobs()

    assert (await analysis(client, shop, first))["status"] == "completed"
    data = await analysis(client, shop, second)
    assert data["status"] == "skipped" and data["skipReason"] == "token_budget_exhausted"
    assert route.call_count == 1
    settings = (await client.get("/ai/settings", headers=shop.headers)).json()["data"]
    assert settings["usage"]["budget"] == 500 and settings["usage"]["budgetLeft"] == 0


async def test_a_redelivered_event_creates_no_second_analysis(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    from ticaret.ai.tasks import analyse_received_message

    shop = await open_shop(client)
    await use_openai(client, shop)
    route = chat_route(openai_api).mock(return_value=completion_with(analysis_answer()))
    message_id = await customer_says(client, shop, "mor keten gömlek M var mı")
    await run_jobs()
    [received] = await events(shop.owner.account_id, "wa.message.received")
    # The outbox delivers at least once: the same event handed to the consumer again.
    await analyse_received_message.options(job_id="redelivered").enqueue(received["id"])
    await run_jobs()

    listed = await client.get("/wa/ai-analyses", headers=shop.headers)
    assert [row["messageId"] for row in listed.json()["data"]["rows"]] == [message_id]
    assert route.call_count == 1


@pytest.mark.usefixtures("no_sweep_grace")
async def test_runs_and_consumer_jobs_redis_lost_are_queued_again_by_the_sweeper(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from sqlalchemy import delete

    from ticaret.ai.tasks import sweep_ai_analyses
    from ticaret.core.db import unit_of_work
    from ticaret.core.queue import get_redis
    from ticaret.models import AiAnalysis

    shop = await open_shop(client)
    message_id = await customer_says(client, shop, "kırmızı saten elbise var mı")
    await run_jobs()
    retried = await client.post(
        f"{analysis_url(message_id)}/retry",
        json={"providerSessionId": shop.psid},
        headers=shop.headers,
    )
    assert retried.json()["data"]["status"] == "pending"
    await get_redis().flushdb()  # Redis lost the queued run
    assert await sweep_ai_analyses() == 1
    await run_jobs()
    data = await analysis(client, shop, message_id)
    assert data["status"] == "completed" and data["trigger"] == "retry"

    # The consumer never ran for a message (its job was lost before it made the row).
    async with unit_of_work() as session:
        await session.execute(delete(AiAnalysis).where(AiAnalysis.id == data["id"]))
    assert await sweep_ai_analyses() == 1
    await run_jobs()
    again = await analysis(client, shop, message_id)
    assert again["status"] == "completed" and again["id"] != data["id"]
    assert again["productMatches"][0]["sku"] == "ELB-001"


async def test_a_key_the_provider_rejects_is_a_clear_4xx_from_the_test(
    client: httpx.AsyncClient, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client, catalog=False)
    await use_openai(client, shop)
    chat_route(openai_api).mock(return_value=httpx.Response(401, json=INVALID_KEY))
    response = await client.post("/ai/settings/test", headers=shop.headers)
    error = assert_error(response, 422, "ai_key_rejected")
    assert error["message"].startswith("The provider rejected the API key: Incorrect API key")
    assert API_KEY not in response.text
