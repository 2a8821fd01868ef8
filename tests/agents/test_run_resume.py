"""A run taken up again (the provider failed after a function ran, the job was queued again)
goes on from its next step: the model is shown the steps it already took, and no function,
the order draft above all, runs twice."""

from __future__ import annotations

import json
from typing import Any

import httpx
import respx

from tests.agents.helpers import (
    Call,
    chat_route,
    chat_with,
    completion,
    create_agent,
    open_shop,
    run_of,
    sent,
)


def _shopping_model(failures: list[httpx.Response | Exception]) -> Any:
    """A model that acts on what it is shown: it searches, drafts an order from the search
    result, and answers once it sees the order. Right after the draft, the next calls fail
    with `failures`, one each, before it answers: a model asked afresh would draft again."""

    def answer(request: httpx.Request) -> httpx.Response:
        messages = json.loads(request.content)["messages"]
        results = [json.loads(m["content"]) for m in messages if m["role"] == "tool"]
        if not results:
            return httpx.Response(
                200, json=completion(calls=[Call("search_products", {"query": "saten elbise"})])
            )
        last = results[-1]
        if "products" in last:
            product_id = last["products"][0]["product_id"]
            items = [{"product_id": product_id, "quantity": 1, "variant_note": "38 beden"}]
            return httpx.Response(
                200, json=completion(calls=[Call("create_order_draft", {"items": items})])
            )
        if failures:
            failure = failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        return httpx.Response(
            200, json=completion(f"Siparişiniz {last['order_no']} numarasıyla oluşturuldu.")
        )

    return answer


def _parsed(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with the JSON they carry (tool results, call arguments) parsed."""
    parsed = []
    for message in messages:
        if message["role"] == "tool":
            message = {**message, "content": json.loads(message["content"])}
        elif "tool_calls" in message:
            calls = [
                {
                    **c,
                    "function": {
                        **c["function"],
                        "arguments": json.loads(c["function"]["arguments"]),
                    },
                }
                for c in message["tool_calls"]
            ]
            message = {**message, "tool_calls": calls}
        parsed.append(message)
    return parsed


async def test_a_run_retried_after_its_order_draft_replays_the_step_and_makes_one_order(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop, maxSteps=5)
    route = chat_route(openai_api)
    # The OpenAI API's documented 500 body, then a read timeout: both retried by the run.
    server_error = httpx.Response(
        500,
        json={
            "error": {
                "message": "The server had an error while processing your request.",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        },
    )
    route.side_effect = _shopping_model([server_error, httpx.ReadTimeout("read timed out")])
    started = await chat_with(shop, agent["id"], "Saten elbiseden 38 beden bir tane alayım")

    await run_jobs()

    run = await run_of(shop, started["run"]["id"])
    assert run["status"] == "completed", run
    # Three steps, each once: the two failed calls recorded nothing.
    assert run["stepCount"] == 3
    assert [step["position"] for step in run["steps"]] == [0, 1, 2]
    search, draft, final = run["steps"]
    assert [c["name"] for c in search["functionCalls"]] == ["search_products"]
    assert [c["name"] for c in draft["functionCalls"]] == ["create_order_draft"]
    order_call = draft["functionCalls"][0]
    assert order_call["error"] is False
    assert final["functionCalls"] == [] and order_call["result"]["order_no"] in final["content"]

    # Exactly one order for the customer, made from this call of this run.
    orders = await shop.call("GET", f"/orders?customerId={shop.customer_id}")
    assert [o["id"] for o in orders["rows"]] == [order_call["result"]["order_id"]]
    assert orders["rows"][0]["source"]["messageId"] == f"run:{run['id']}:1:0"

    # search, draft, 500, timeout, answer: the model was asked five times, and the calls after
    # the failures were shown the recorded steps with their results, as first sent.
    # (A replayed result is the same JSON, its keys in the order the database keeps them.)
    assert route.call_count == 5
    before_failure = _parsed(sent(route, 2)["messages"])
    for retry in (3, 4):
        assert _parsed(sent(route, retry)["messages"]) == before_failure
    assistant, tool = before_failure[-2:]
    assert assistant["tool_calls"][0]["id"] == order_call["id"]
    assert assistant["tool_calls"][0]["function"]["name"] == "create_order_draft"
    assert assistant["tool_calls"][0]["function"]["arguments"] == order_call["arguments"]
    assert tool == {
        "role": "tool",
        "tool_call_id": order_call["id"],
        "content": order_call["result"],
    }


async def test_an_order_of_a_runs_call_cannot_be_made_twice(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop, maxSteps=5)
    chat_route(openai_api).side_effect = _shopping_model([])
    started = await chat_with(shop, agent["id"], "Saten elbiseden bir tane alayım")
    await run_jobs()
    run = await run_of(shop, started["run"]["id"])
    assert run["status"] == "completed", run
    order_call = run["steps"][1]["functionCalls"][0]
    made = await shop.call("GET", f"/orders/{order_call['result']['order_id']}")

    # The (run, call) key is the orders service's duplicate check: whoever else makes an order
    # from the same call (another worker on the same run) is refused with the first order.
    again = await shop.request(
        "POST",
        "/orders",
        json={
            "customerId": shop.customer_id,
            "items": [{"productId": made["items"][0]["productId"], "quantity": 1}],
            "source": made["source"],
        },
    )
    assert again.status_code == 409, again.text
    error = again.json()["error"]
    assert error["code"] == "duplicate_order"
    assert error["details"] == {"orderId": made["id"], "orderNo": made["orderNo"]}
    orders = await shop.call("GET", f"/orders?customerId={shop.customer_id}")
    assert len(orders["rows"]) == 1
