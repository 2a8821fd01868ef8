"""The AI answers through conversations: a Connect360 send asks an agent to help, or a
customer writes on a WhatsApp number where the agent answers on its own; the run's reply is
posted into the conversation and, on WhatsApp, sent through the gateway."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from tests.agents.helpers import (
    Call,
    answers,
    chat_route,
    completion,
    create_agent,
    open_shop,
    runs_of,
)
from tests.conversations.helpers import Api, send
from tests.wa.helpers import create_session, inject, messages


async def test_a_workspace_send_asks_the_agent_and_its_reply_lands_in_the_conversation(
    client: httpx.AsyncClient, openai_api: respx.MockRouter, run_jobs: Any
) -> None:
    shop = await open_shop(client, catalog=False)
    api = Api(client, shop.owner)
    agent = await create_agent(shop)
    chat = await api.post("/conversations", json={"type": "api", "language": "tr"})
    chat_route(openai_api).mock(
        side_effect=answers(
            completion(calls=[Call("lookup_customer", {"query": "Ayşe"})]),
            completion("Merhaba, size nasıl yardımcı olabilirim?"),
        )
    )
    asked = await send(
        api,
        chat["id"],
        content={"tr": "Bu müşteriye yardım eder misin?", "en": "Can you help this customer?"},
        ai={"agentId": agent["id"]},
    )
    await run_jobs()

    [run] = await runs_of(shop, agent["id"])
    assert run["status"] == "completed", run
    assert run["triggerMessageId"] == asked["message"]["id"]
    history = (await api.get(f"/conversations/{chat['id']}/history"))["history"]
    assert [(h["role"], h["content"]) for h in history] == [
        ("operator", "Bu müşteriye yardım eder misin?"),
        ("assistant", "Merhaba, size nasıl yardımcı olabilirim?"),
    ]
    [call] = history[1]["function_calls"]
    assert call["name"] == "lookup_customer" and call["arguments"] == {"query": "Ayşe"}
    detail = await api.get(f"/conversations/{chat['id']}")
    assert detail["messageCount"] == 2
    assert detail["totalCost"] != "0"  # the run's cost, counted where it was posted


async def test_an_agent_on_a_whatsapp_number_answers_the_customer_through_the_gateway(
    client: httpx.AsyncClient, openai_api: respx.MockRouter, run_jobs: Any
) -> None:
    shop = await open_shop(client, catalog=False)
    api = Api(client, shop.owner)
    # The agent answers; the message analysis (another use of the model) stays out of it.
    await shop.call("PUT", "/ai/settings", json={"autoAnalyzeInbound": False})
    psid = (await create_session(client, shop.owner))["providerSessionId"]
    agent = await create_agent(shop, channels=[{"type": "whatsapp", "channelId": psid}])
    chat_route(openai_api).mock(side_effect=answers(completion("Merhaba! Evet, stokta var.")))

    await inject(client, shop.owner, psid, "Mavi elbise stokta var mı?")
    await run_jobs()  # the chat's conversation, the agent's run, its reply through the sandbox

    [conversation] = (await api.get("/conversations", params={"type": "whatsapp"}))["rows"]
    history = (await api.get(f"/conversations/{conversation['id']}/history"))["history"]
    assert [(h["role"], h["content"]) for h in history] == [
        ("user", "Mavi elbise stokta var mı?"),
        ("assistant", "Merhaba! Evet, stokta var."),
    ]
    [run] = await runs_of(shop, agent["id"])
    assert run["status"] == "completed", run
    page = await api.get(f"/conversations/{conversation['id']}/messages")
    reply = page["rows"][1]
    assert reply["operationId"] is not None and reply["source"] == "wa"
    operation = await api.get(f"/wa/operations/{reply['operationId']}")
    assert operation["status"] == "sent"
    wa_rows = (await messages(client, shop.owner, psid))["rows"]
    assert [m["text"] for m in wa_rows if m["fromMe"]] == ["Merhaba! Evet, stokta var."]
    # The gateway's report of the sent reply is the reply itself: two messages, not three.
    assert (await api.get(f"/conversations/{conversation['id']}"))["messageCount"] == 2
