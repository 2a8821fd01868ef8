"""How runs end besides a plain answer: a tool error the model recovers from, the step limit,
a handoff (asked for by the model, or by a rule before any model call), a person answering
first, AI turned off, the provider failing, a model without a price."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import respx

from tests.agents.helpers import (
    Call,
    answers,
    api_conversation,
    chat_route,
    chat_with,
    completion,
    create_agent,
    customer_writes,
    events,
    history,
    open_shop,
    operator_writes,
    run_of,
    runs_of,
    sent,
)
from tests.ai.helpers import INVALID_KEY


async def test_a_failing_tool_answers_the_model_with_an_error_and_the_run_goes_on(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop)
    route = chat_route(openai_api)
    route.side_effect = answers(
        completion(
            calls=[
                # Not a UUID: refused by the arguments' schema before anything runs.
                Call("get_product", {"product_id": "ELB-001"}),
                # Valid, but the shop has no such product.
                Call("check_stock", {"sku": "YOK-999"}),
                # Not JSON at all.
                Call("search_products", '{"query": "elbise"'),
            ]
        ),
        completion("Bu ürünü bulamadım; başka bir ürüne bakalım mı?"),
    )
    started = await chat_with(shop, agent["id"], "YOK-999 stokta var mı?")
    await run_jobs()

    run = await run_of(shop, started["run"]["id"])
    assert run["status"] == "completed" and run["stepCount"] == 2
    bad_arguments, missing, not_json = run["steps"][0]["functionCalls"]
    assert bad_arguments["error"] is True
    assert bad_arguments["result"]["error"]["code"] == "invalid_arguments"
    assert "product_id" in bad_arguments["result"]["error"]["message"]
    assert missing["error"] is True
    assert missing["result"]["error"]["code"] == "product_not_found"
    assert not_json["arguments"] == '{"query": "elbise"'
    assert not_json["result"]["error"]["code"] == "invalid_arguments"
    # The model was told, one tool message per call, in order.
    told = [m for m in sent(route, 1)["messages"] if m["role"] == "tool"]
    assert [json.loads(m["content"])["error"]["code"] for m in told] == [
        "invalid_arguments",
        "product_not_found",
        "invalid_arguments",
    ]
    entries = await history(shop, started["conversationId"])
    assert entries[-1]["content"].startswith("Bu ürünü bulamadım")
    assert entries[-1]["function_calls"][1]["result"]["error"]["code"] == "product_not_found"


async def test_a_run_without_a_final_answer_stops_at_its_steps(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop, maxSteps=2)
    route = chat_route(openai_api)
    route.side_effect = answers(
        completion(calls=[Call("search_products", {"query": "elbise"})]),
        completion(calls=[Call("search_products", {"query": "saten elbise"})]),
    )
    started = await chat_with(shop, agent["id"], "elbise bakıyorum")
    await run_jobs()

    run = await run_of(shop, started["run"]["id"])
    assert run["status"] == "max_steps_reached"
    assert "2 step(s)" in run["reason"] and run["replyMessageId"] is None
    assert route.call_count == 2 and run["stepCount"] == 2
    first, last = run["steps"]
    assert first["functionCalls"][0]["result"]["products"][0]["sku"].startswith("ELB-")
    # What the model asked for on its last step is not done: nothing would use the result.
    assert last["functionCalls"][0]["result"]["error"]["code"] == "not_run"
    # Nothing was posted, but the tokens were spent: the conversation's cost counts them.
    assert [e["role"] for e in await history(shop, started["conversationId"])] == ["user"]
    conversation = await shop.call("GET", f"/conversations/{started['conversationId']}")
    assert Decimal(conversation["totalCost"]) == Decimal(run["cost"]) > 0
    failed = await events(shop.owner.account_id, "ai.run.failed")
    assert failed[0]["data"]["status"] == "max_steps_reached"


async def test_the_model_hands_the_conversation_to_the_agents_group(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    group = await shop.call("POST", "/crm/groups", json={"name": "Destek"}, expect=201)
    agent = await create_agent(shop, handoffGroupId=group["id"])
    conversation = await api_conversation(shop, agentId=agent["id"])
    route = chat_route(openai_api)
    route.side_effect = answers(
        completion(calls=[Call("handoff_to_human", {"reason": "İade talebi"})]),
        completion("Sizi ekibimize aktardım, birazdan bir temsilci yazacak."),
    )
    message = await customer_writes(shop, conversation["id"], "Ürünü iade etmek istiyorum")
    await run_jobs()

    (run,) = await runs_of(shop, agent["id"])
    assert run["status"] == "completed" and run["handedOff"] is True
    assert run["trigger"] == "channel" and run["triggerMessageId"] == message["id"]
    after = await shop.call("GET", f"/conversations/{conversation['id']}")
    assert after["aiEnabled"] is False
    assert after["assignee"] == {"userId": None, "groupId": group["id"]}
    # The customer is told (the run's own handoff does not cancel its reply).
    entries = await history(shop, conversation["id"])
    assert entries[-1]["role"] == "assistant"
    assert entries[-1]["function_calls"][0]["name"] == "handoff_to_human"
    handoffs = await events(shop.owner.account_id, "conversation.handoff")
    assert handoffs[0]["data"]["groupId"] == group["id"]
    assert handoffs[0]["data"]["reason"] == "İade talebi"
    # With AI off, the customer's next message starts no run.
    await customer_writes(shop, conversation["id"], "Ne zaman dönersiniz?")
    await run_jobs()
    assert len(await runs_of(shop, agent["id"])) == 1 and route.call_count == 2


async def test_a_handoff_keyword_goes_to_people_without_asking_the_model(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop, handoffRules={"keywords": ["şikayet"]})
    route = chat_route(openai_api)
    started = await chat_with(shop, agent["id"], "Bir ŞİKAYETİM var")
    await run_jobs()

    run = await run_of(shop, started["run"]["id"])
    assert run["status"] == "handed_off" and run["handedOff"] is True
    assert run["reason"] == "Handoff rule: keyword 'şikayet'"
    assert route.call_count == 0 and run["usage"]["totalTokens"] == 0
    entries = await history(shop, started["conversationId"])
    assert entries[-1]["content"].startswith("Sizi ekibimizden bir temsilciye aktarıyorum")
    conversation = await shop.call("GET", f"/conversations/{started['conversationId']}")
    assert conversation["aiEnabled"] is False


async def test_a_person_answering_during_the_run_supersedes_it(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop)
    conversation = await api_conversation(shop)
    route = chat_route(openai_api)

    async def operator_answers_meanwhile(request: httpx.Request) -> httpx.Response:
        # While the model thinks, a person of the shop answers the customer.
        await operator_writes(shop, conversation["id"], "Merhaba, ben Elif; hemen bakıyorum.")
        return httpx.Response(200, json=completion("Merhaba! Size nasıl yardımcı olabilirim?"))

    route.side_effect = operator_answers_meanwhile
    await customer_writes(shop, conversation["id"], "Merhaba", ai={"agentId": agent["id"]})
    await run_jobs()

    (run,) = await runs_of(shop, agent["id"])
    assert run["status"] == "superseded" and run["trigger"] == "message"
    assert "A person answered" in run["reason"] and run["replyMessageId"] is None
    assert [e["role"] for e in await history(shop, conversation["id"])] == ["user", "operator"]
    # The model was asked once; what it said is kept in the run, not posted.
    assert route.call_count == 1
    steps = (await run_of(shop, run["id"]))["steps"]
    assert steps[0]["content"] == "Merhaba! Size nasıl yardımcı olabilirim?"


async def test_a_pending_run_stops_when_ai_is_turned_off(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop)
    conversation = await api_conversation(shop, agentId=agent["id"])
    route = chat_route(openai_api)
    await customer_writes(shop, conversation["id"], "Kargom nerede?")
    # The operator takes over before the worker gets to the run.
    await shop.call("PATCH", f"/conversations/{conversation['id']}", json={"aiEnabled": False})
    await run_jobs()

    (run,) = await runs_of(shop, agent["id"])
    assert run["status"] == "cancelled"
    assert run["reason"] == "AI was turned off on the conversation."
    assert route.call_count == 0


async def test_an_agent_answers_on_its_channel_only(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop, channels=[{"type": "api", "channelId": "site-1"}])
    elsewhere = await api_conversation(shop, channelIdentifier="site-2")
    conversation = await api_conversation(shop, channelIdentifier="site-1")
    chat_route(openai_api).side_effect = answers(completion("Merhaba! Nasıl yardımcı olabilirim?"))
    await customer_writes(shop, elsewhere["id"], "Merhaba")
    message = await customer_writes(shop, conversation["id"], "Merhaba")
    await run_jobs()

    (run,) = await runs_of(shop, agent["id"])
    assert run["trigger"] == "channel" and run["triggerMessageId"] == message["id"]
    assert run["conversationId"] == conversation["id"] and run["status"] == "completed"
    assert [e["role"] for e in await history(shop, conversation["id"])] == ["user", "assistant"]
    assert [e["role"] for e in await history(shop, elsewhere["id"])] == ["user"]


async def test_runs_of_one_conversation_take_turns_in_the_order_of_the_messages(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop)
    route = chat_route(openai_api)
    route.side_effect = lambda request: httpx.Response(200, json=completion("Tabii!"))
    first = await chat_with(shop, agent["id"], "Merhaba")
    conversation_id = first["conversationId"]
    second = await chat_with(
        shop, agent["id"], "Elbiseleriniz var mı?", conversationId=conversation_id
    )
    # Both runs wait in the queue; the worker takes both jobs at once.
    await run_jobs()

    one = await run_of(shop, first["run"]["id"])
    two = await run_of(shop, second["run"]["id"])
    assert one["status"] == two["status"] == "completed"
    # One conversation, one run at a time: the second started after the first ended.
    assert two["startedAt"] >= one["finishedAt"]
    assert [e["role"] for e in await history(shop, conversation_id)] == [
        "user",
        "user",
        "assistant",
        "assistant",
    ]


async def test_a_rejected_key_fails_the_run_with_the_providers_reason(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop)
    chat_route(openai_api).mock(return_value=httpx.Response(401, json=INVALID_KEY))
    started = await chat_with(shop, agent["id"], "Merhaba")
    await run_jobs()

    run = await run_of(shop, started["run"]["id"])
    assert run["status"] == "failed"
    assert run["error"]["code"] == "provider_auth_failed"
    assert run["reason"].startswith("The AI provider failed: Incorrect API key provided")
    assert "sk-proj-agents" not in json.dumps(run)
    failed = await events(shop.owner.account_id, "ai.run.failed")
    assert failed[0]["data"]["status"] == "failed"


async def test_a_model_without_a_price_costs_zero_with_a_note(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    agent = await create_agent(shop, model="llama-3.1-8b-instruct")
    route = chat_route(openai_api)
    route.side_effect = answers(completion("Merhaba!", model="llama-3.1-8b-instruct"))
    started = await chat_with(shop, agent["id"], "Merhaba")
    await run_jobs()

    run = await run_of(shop, started["run"]["id"])
    assert run["status"] == "completed" and run["model"] == "llama-3.1-8b-instruct"
    assert Decimal(run["cost"]) == 0 and run["usage"]["totalTokens"] == 340
    assert "No price is configured for the model 'llama-3.1-8b-instruct'" in run["costNote"]
    assert sent(route, 0)["model"] == "llama-3.1-8b-instruct"
