"""Agent runs over HTTP: the model (OpenAI Chat Completions, faked with respx in its documented
tool-call shape) searches the catalog, drafts an order and answers; every step is recorded
with tokens and cost and the reply lands in the conversation's history."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import respx

from tests.agents.helpers import (
    Call,
    answers,
    chat_route,
    chat_with,
    completion,
    create_agent,
    events,
    open_shop,
    run_of,
    sent,
)


async def test_a_run_searches_drafts_an_order_and_answers_with_every_step_recorded(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop, maxSteps=4)
    route = chat_route(openai_api)
    started = await chat_with(shop, agent["id"], "Kırmızı saten elbiseden 38 beden 2 tane alayım")
    assert started["run"]["status"] == "pending"
    conversation_id = started["conversationId"]

    # The model's first answer asks for a search; what it is told about ELB-001 decides the
    # order draft it asks for next, so the second answer is made from the first call's result.
    found: dict[str, Any] = {}

    def second(request: httpx.Request) -> httpx.Response:
        messages = json.loads(request.content)["messages"]
        result = json.loads(messages[-1]["content"])
        found.update(result["products"][0])
        return httpx.Response(
            200,
            json=completion(
                calls=[
                    Call(
                        "create_order_draft",
                        {
                            "items": [
                                {
                                    "product_id": found["product_id"],
                                    "quantity": 2,
                                    "variant_note": "38 beden",
                                }
                            ]
                        },
                    )
                ],
                prompt_tokens=520,
                completion_tokens=60,
            ),
        )

    def third(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json=completion(
                "Siparişinizi oluşturdum: 2 adet Kırmızı Saten Elbise (38 beden), toplam "
                "2599.80 TRY. Ekibimiz onaylayınca size haber vereceğiz.",
                prompt_tokens=700,
                completion_tokens=45,
            ),
        )

    route.side_effect = [
        *answers(completion(calls=[Call("search_products", {"query": "kırmızı saten elbise"})])),
        second,
        third,
    ]
    await run_jobs()

    run = await run_of(shop, started["run"]["id"])
    assert run["status"] == "completed", run
    assert run["stepCount"] == 3 and len(run["steps"]) == 3
    search, draft, final = run["steps"]
    assert search["functionCalls"][0]["name"] == "search_products"
    assert search["functionCalls"][0]["arguments"] == {"query": "kırmızı saten elbise"}
    assert search["functionCalls"][0]["error"] is False
    assert search["functionCalls"][0]["result"]["products"][0]["sku"] == "ELB-001"
    assert search["finishReason"] == "tool_calls"
    order_call = draft["functionCalls"][0]
    assert order_call["name"] == "create_order_draft" and order_call["error"] is False
    assert order_call["result"]["status"] == "draft"
    assert order_call["result"]["grand_total"] == "2599.80"
    assert final["content"].startswith("Siparişinizi oluşturdum")
    assert final["functionCalls"] == [] and final["finishReason"] == "stop"
    # Tokens and cost: gpt-4o-mini at 0.15 / 0.60 USD per million tokens.
    assert run["usage"] == {
        "promptTokens": 300 + 520 + 700,
        "completionTokens": 40 + 60 + 45,
        "totalTokens": 1520 + 145,
    }
    expected = (Decimal(1520) * Decimal("0.15") + Decimal(145) * Decimal("0.60")) / 1_000_000
    assert Decimal(run["cost"]) == expected
    assert run["costNote"] is None
    assert sum(Decimal(step["cost"]) for step in run["steps"]) == expected

    # The order exists, as a draft of the conversation's customer, made by the AI.
    order = await shop.call("GET", f"/orders/{order_call['result']['order_id']}")
    assert order["customerId"] == shop.customer_id and order["status"] == "draft"
    assert order["items"][0]["quantity"] == 2 and order["items"][0]["sku"] == "ELB-001"

    # What the model was sent: the tools, then its own tool call and the tool's answer.
    first_request = sent(route, 0)
    names = [tool["function"]["name"] for tool in first_request["tools"]]
    assert "search_products" in names and "create_order_draft" in names
    assert first_request["messages"][0]["role"] == "system"
    assert first_request["messages"][-1] == {
        "role": "user",
        "content": "Kırmızı saten elbiseden 38 beden 2 tane alayım",
    }
    second_request = sent(route, 1)
    assistant, tool = second_request["messages"][-2:]
    assert assistant["tool_calls"][0]["function"]["name"] == "search_products"
    assert tool["role"] == "tool" and tool["tool_call_id"] == assistant["tool_calls"][0]["id"]

    # The reply is in the conversation's history, WhatTalk-shaped, with both function calls.
    history = await shop.call("GET", f"/conversations/{conversation_id}/history")
    entries = history["history"]
    assert [entry["role"] for entry in entries] == ["user", "assistant"]
    reply = entries[1]
    assert reply["content"] == final["content"]
    assert [call["name"] for call in reply["function_calls"]] == [
        "search_products",
        "create_order_draft",
    ]
    assert set(reply["function_calls"][1]) == {"name", "arguments", "result"}
    assert reply["function_calls"][1]["result"]["order_no"] == order["orderNo"]
    conversation = await shop.call("GET", f"/conversations/{conversation_id}")
    assert conversation["type"] == "test" and conversation["messageCount"] == 2
    assert Decimal(conversation["totalCost"]) == expected

    ended = await events(shop.owner.account_id, "ai.run.completed", "ai.run.failed")
    assert [e["type"] for e in ended] == ["ai.run.completed"]
    assert ended[0]["data"]["replyMessageId"] == run["replyMessageId"]

    listed = await shop.call("GET", f"/ai/agents/{agent['id']}/runs")
    assert [r["id"] for r in listed["rows"]] == [run["id"]]
    assert listed["rows"][0]["steps"] is None


async def test_the_read_tools_answer_from_the_catalog_the_crm_and_the_customers_orders(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop)
    product = (await shop.call("GET", "/products", params={"q": "ELB-002"}))["rows"][0]
    order = await shop.call(
        "POST",
        "/orders",
        json={"customerId": shop.customer_id, "items": [{"productId": product["id"]}]},
        expect=201,
    )
    other = await shop.call("POST", "/crm/customers", json={"title": "Başka"}, expect=201)
    await shop.call(
        "POST",
        "/orders",
        json={"customerId": other["id"], "items": [{"productId": product["id"]}]},
        expect=201,
    )
    route = chat_route(openai_api)
    route.side_effect = answers(
        completion(
            calls=[
                Call("lookup_customer", {}),
                Call("get_product", {"sku": "ELB-001"}),
                Call("check_stock", {"product_id": product["id"]}),
                Call("get_order_status", {"order_no": order["orderNo"]}),
                # Another customer's order is not this chat's to read.
                Call("get_order_status", {"order_no": "TS-000002"}),
            ]
        ),
        completion("Siparişiniz taslak durumunda; elbise stokta."),
    )
    started = await chat_with(shop, agent["id"], "Siparişim ne durumda?")
    await run_jobs()

    run = await run_of(shop, started["run"]["id"])
    assert run["status"] == "completed"
    customer, product_info, stock, mine, theirs = run["steps"][0]["functionCalls"]
    assert customer["result"]["title"] == "Ayşe Yılmaz"
    assert customer["result"]["phones"] == ["+905551112233"]
    assert product_info["result"]["name"] == "Kırmızı Saten Elbise"
    assert product_info["result"]["price"] == "1299.90"
    assert stock["result"]["sku"] == "ELB-002" and stock["result"]["stock_quantity"] == 5
    assert mine["result"]["order_no"] == order["orderNo"]
    assert mine["result"]["status"] == "draft"
    assert theirs["error"] is True and theirs["result"]["error"]["code"] == "order_not_found"
