"""AI settings: defaults, changing them, the encrypted key, the SSRF-checked endpoint, the
live test against the provider, and removing the key."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from tests.ai.helpers import (
    API_KEY,
    MODEL_NOT_FOUND,
    RATE_LIMITED,
    SCHEMA_UNSUPPORTED,
    SERVER_ERROR,
    analysis,
    chat_completion,
    chat_route,
    customer_says,
    open_shop,
    put_settings,
    sent_request,
    use_openai,
)
from tests.helpers import add_member, assert_error


async def test_a_fresh_account_analyses_with_the_rules_by_default(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_shop(client, catalog=False)
    response = await client.get("/ai/settings", headers=shop.headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["provider"] == "openai" and data["model"] == "gpt-4o-mini"
    assert data["hasApiKey"] is False and data["apiKeyLast4"] is None
    assert data["autoAnalyzeInbound"] is True and data["autoReply"] is False
    assert data["engine"] == "deterministic" and data["entityVersion"] == "0"
    assert data["maxConcurrentAnalyses"] == 5 and data["monthlyTokenBudget"] is None
    assert data["usage"]["totalTokens"] == 0 and data["usage"]["costEstimate"] == "0"


async def test_the_key_is_stored_encrypted_and_shown_only_as_its_last_four_characters(
    client: httpx.AsyncClient,
) -> None:
    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import AccountAiSettings

    shop = await open_shop(client, catalog=False)
    response = await client.put(
        "/ai/settings",
        json={"provider": "openai", "apiKey": API_KEY, "model": "gpt-4.1-mini", "language": "en"},
        headers=shop.headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["hasApiKey"] is True and data["apiKeyLast4"] == "WXYZ"
    assert data["engine"] == "llm" and data["model"] == "gpt-4.1-mini"
    assert data["entityVersion"] == "1"
    assert API_KEY not in response.text
    again = await client.get("/ai/settings", headers=shop.headers)
    assert API_KEY not in again.text and again.json()["data"]["language"] == "en"
    async with get_sessionmaker()() as session:
        stored = await session.scalar(select(AccountAiSettings.api_key_encrypted))
    assert stored is not None and API_KEY not in stored


async def test_a_key_stays_with_its_endpoint(client: httpx.AsyncClient, dns: Any) -> None:
    dns({"llm.example.net": [["93.184.216.34"]]})
    shop = await open_shop(client, catalog=False)
    await use_openai(client, shop, maxConcurrentAnalyses=7)
    kept = await put_settings(client, shop, maxConcurrentAnalyses=None, temperature=None)
    assert kept["maxConcurrentAnalyses"] == 7 and kept["hasApiKey"] is True
    moved = await put_settings(
        client, shop, provider="openai_compatible", baseUrl="https://llm.example.net/v1"
    )
    # The OpenAI key is never sent to an address someone typed in later.
    assert moved["hasApiKey"] is False and moved["apiKeyLast4"] is None
    with_key = await put_settings(client, shop, apiKey="or-key-for-the-new-endpoint-1234")
    assert with_key["hasApiKey"] is True and with_key["apiKeyLast4"] == "1234"


async def test_a_stale_entity_version_is_a_conflict(client: httpx.AsyncClient) -> None:
    shop = await open_shop(client, catalog=False)
    first = await put_settings(client, shop, temperature=0.5)
    await put_settings(client, shop, temperature=0.7, entityVersion=first["entityVersion"])
    response = await client.put(
        "/ai/settings",
        json={"temperature": 0.1, "entityVersion": first["entityVersion"]},
        headers=shop.headers,
    )
    error = assert_error(response, 409, "version_conflict")
    assert error["details"]["currentEntityVersion"] == "2"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"provider": "openai_compatible"}, 422, "ai_base_url_required"),
        ({"provider": "openai_compatible", "baseUrl": "ftp://x/v1"}, 422, "validation_error"),
        (
            {"provider": "openai_compatible", "baseUrl": "http://127.0.0.1:11434/v1"},
            422,
            "unsafe_ai_endpoint",
        ),
        (
            {"provider": "openai_compatible", "baseUrl": "http://169.254.169.254/v1"},
            422,
            "unsafe_ai_endpoint",
        ),
        ({"temperature": 3}, 422, "validation_error"),
        ({"maxConcurrentAnalyses": 0}, 422, "validation_error"),
        ({"apiKey": "short"}, 422, "validation_error"),
        ({"language": "Türkçe"}, 422, "validation_error"),
        ({"unknown": 1}, 422, "validation_error"),
    ],
)
async def test_bad_settings_are_refused_with_a_reason(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, code: str
) -> None:
    shop = await open_shop(client, catalog=False)
    response = await client.put("/ai/settings", json=body, headers=shop.headers)
    assert_error(response, status, code)


async def test_an_operator_may_allow_a_local_model_server(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticaret.settings import get_settings

    monkeypatch.setattr(get_settings().ai, "private_endpoint_hosts", ["127.0.0.1"])
    shop = await open_shop(client, catalog=False)
    data = await put_settings(
        client,
        shop,
        provider="openai_compatible",
        baseUrl="http://127.0.0.1:11434/v1/",
        model="llama3.1:8b",
    )
    assert data["baseUrl"] == "http://127.0.0.1:11434/v1" and data["engine"] == "llm"


async def test_only_admins_change_settings_and_viewers_read_them(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_shop(client, catalog=False)
    for role in ("viewer", "agent"):
        member = await add_member(client, shop.owner, role)
        headers = {**member.headers, "x-account-id": shop.owner.account_id}
        assert (await client.get("/ai/settings", headers=headers)).status_code == 200
        for method, url in (
            ("PUT", "/ai/settings"),
            ("POST", "/ai/settings/test"),
            ("DELETE", "/ai/settings/api-key"),
        ):
            response = await client.request(method, url, json={}, headers=headers)
            assert_error(response, 403, "insufficient_role")


async def test_removing_the_key_turns_automation_off(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client, catalog=False)
    await use_openai(client, shop, autoReply=True)
    response = await client.delete("/ai/settings/api-key", headers=shop.headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["hasApiKey"] is False and data["apiKeyLast4"] is None
    assert data["autoAnalyzeInbound"] is False and data["autoReply"] is False
    message_id = await customer_says(client, shop, "merhaba")
    await run_jobs()
    skipped = await analysis(client, shop, message_id)
    assert skipped["status"] == "skipped" and skipped["skipReason"] == "automation_off"


async def test_the_test_call_reports_model_structured_output_and_latency(
    client: httpx.AsyncClient, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client, catalog=False)
    await use_openai(client, shop)
    route = chat_route(openai_api).mock(
        return_value=httpx.Response(200, json=chat_completion('{"ok": true}'))
    )
    response = await client.post("/ai/settings/test", headers=shop.headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["modelAvailable"] is True and data["structuredOutput"] is True
    assert data["mode"] == "json_schema" and data["model"] == "gpt-4o-mini"
    assert data["baseUrl"] == "https://api.openai.com/v1" and data["latencyMs"] >= 0
    assert data["responseId"] == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    body = sent_request(route.calls.last)
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["ok"]
    assert route.calls.last.request.headers["authorization"] == f"Bearer {API_KEY}"


async def test_a_key_can_be_tested_before_it_is_saved(
    client: httpx.AsyncClient, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client, catalog=False)
    route = chat_route(openai_api).mock(
        return_value=httpx.Response(200, json=chat_completion('{"ok": true}'))
    )
    missing = await client.post("/ai/settings/test", json={}, headers=shop.headers)
    assert_error(missing, 422, "ai_api_key_required")
    response = await client.post(
        "/ai/settings/test",
        json={"apiKey": "sk-candidate-key-0000", "model": "gpt-4.1-nano"},
        headers=shop.headers,
    )
    assert response.status_code == 200, response.text
    assert sent_request(route.calls.last)["model"] == "gpt-4.1-nano"
    assert route.calls.last.request.headers["authorization"] == "Bearer sk-candidate-key-0000"
    settings = await client.get("/ai/settings", headers=shop.headers)
    assert settings.json()["data"]["hasApiKey"] is False


async def test_an_endpoint_without_structured_outputs_is_reported_and_remembered(
    client: httpx.AsyncClient, openai_api: respx.MockRouter, dns: Any
) -> None:
    dns({"llm.example.net": [["93.184.216.34"]]})
    shop = await open_shop(client, catalog=False)
    base = "https://llm.example.net/v1"
    await put_settings(client, shop, provider="openai_compatible", baseUrl=base, model="qwen2.5")
    route = chat_route(openai_api, base).mock(
        side_effect=[
            httpx.Response(400, json=SCHEMA_UNSUPPORTED),
            httpx.Response(200, json=chat_completion('{"ok": true}')),
        ]
    )
    response = await client.post("/ai/settings/test", headers=shop.headers)
    data = response.json()["data"]
    assert data["modelAvailable"] is True and data["structuredOutput"] is False
    assert data["mode"] == "json_object" and "JSON mode" in data["message"]
    assert sent_request(route.calls.last)["response_format"] == {"type": "json_object"}
    # No key: a local server needs none, and the SDK sends a placeholder.
    assert route.calls.last.request.headers["authorization"] == "Bearer no-key"
    settings = await client.get("/ai/settings", headers=shop.headers)
    assert settings.json()["data"]["structuredOutput"] == "json_object"


async def test_an_unknown_model_is_reported_unavailable(
    client: httpx.AsyncClient, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client, catalog=False)
    await use_openai(client, shop)
    chat_route(openai_api).mock(return_value=httpx.Response(404, json=MODEL_NOT_FOUND))
    response = await client.post(
        "/ai/settings/test", json={"model": "gpt-9-imaginary"}, headers=shop.headers
    )
    data = response.json()["data"]
    assert data["modelAvailable"] is False and data["mode"] is None
    assert "does not exist or you do not have access" in data["message"]


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [
        (httpx.Response(429, json=RATE_LIMITED, headers={"retry-after": "20"}), 429, None),
        (httpx.Response(500, json=SERVER_ERROR), 502, "ai_provider_unavailable"),
        (httpx.ConnectTimeout("connect timed out"), 502, "ai_provider_unavailable"),
    ],
)
async def test_provider_trouble_during_the_test_is_a_clear_error(
    client: httpx.AsyncClient,
    openai_api: respx.MockRouter,
    answer: Any,
    status: int,
    code: str | None,
) -> None:
    shop = await open_shop(client, catalog=False)
    await use_openai(client, shop)
    chat_route(openai_api).mock(side_effect=[answer])
    response = await client.post("/ai/settings/test", headers=shop.headers)
    assert_error(response, status, code or "ai_provider_rate_limited")
    if status == 429:
        assert response.headers["retry-after"] == "20"


async def test_an_endpoint_that_turns_private_after_saving_is_refused_at_call_time(
    client: httpx.AsyncClient, dns: Any
) -> None:
    # Public when saved and when checked before the call, the metadata service's address
    # when the connection is made (DNS rebinding): the guarded client refuses it.
    dns({"rebind.example.net": [["93.184.216.34"], ["93.184.216.34"], ["169.254.169.254"]]})
    shop = await open_shop(client, catalog=False)
    await put_settings(
        client, shop, provider="openai_compatible", baseUrl="http://rebind.example.net/v1"
    )
    response = await client.post("/ai/settings/test", headers=shop.headers)
    error = assert_error(response, 422, "unsafe_ai_endpoint")
    assert "refused target" in error["message"] and "169.254.169.254" in error["message"]
