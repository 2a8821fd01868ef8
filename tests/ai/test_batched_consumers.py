"""The consumers of a customer's message take one commit's events together: a burst of
messages drained by one inbox batch is analysed (rules at once, an LLM's runs queued one per
analysis) and mirrored into conversations by one job per consumer, with every event emitted
in the messages' order; a redelivered event, a message gone before its consumer ran and an
event with malformed data change nothing for the rest of the batch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from tests.ai.helpers import (
    analysis,
    analysis_answer,
    chat_route,
    completion_with,
    customer_says,
    drain_inbox_only,
    events,
    finished_jobs,
    open_shop,
    set_event_data,
    use_openai,
)

PHONES = ["905551110001", "905551110002", "905551110003"]
BURST = [
    (PHONES[0], "mor keten gömlek M var mı"),
    (PHONES[1], "kırmızı saten elbise kaç TL"),
    (PHONES[0], "beyaz olanı da olur"),
    (PHONES[2], "merhaba"),
    (PHONES[1], "L beden var mı"),
    (PHONES[2], "siyah pantolon 32 numara"),
    (PHONES[0], "kargo ne zaman gelir"),
    (PHONES[1], "teşekkürler"),
]


def jid(phone: str) -> str:
    return f"{phone}@s.whatsapp.net"


async def say_burst(client: httpx.AsyncClient, shop: Any) -> list[str]:
    return [await customer_says(client, shop, text, phone=phone) for phone, text in BURST]


async def conversations(client: httpx.AsyncClient, shop: Any) -> dict[str, dict[str, Any]]:
    response = await client.get("/conversations", headers=shop.headers)
    assert response.status_code == 200, response.text
    return {row["channel"]["remoteJid"]: row for row in response.json()["data"]["rows"]}


async def history(client: httpx.AsyncClient, shop: Any, conversation_id: str) -> list[str]:
    response = await client.get(f"/conversations/{conversation_id}/history", headers=shop.headers)
    return [line["content"] for line in response.json()["data"]["history"]]


async def test_a_burst_is_analysed_and_mirrored_by_one_job_per_consumer_in_order(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await open_shop(client)
    await run_jobs()
    before = await finished_jobs()
    message_ids = await say_burst(client, shop)
    await run_jobs()

    for message_id, (phone, _) in zip(message_ids, BURST, strict=True):
        data = await analysis(client, shop, message_id, jid=jid(phone))
        assert data["status"] in ("completed", "skipped"), data
        assert data["provider"] == "deterministic" and data["trigger"] == "auto"
    listed = await client.get("/wa/ai-analyses", headers=shop.headers)
    assert sorted(row["messageId"] for row in listed.json()["data"]["rows"]) == sorted(message_ids)
    # Each analysis's event, in the order the customers wrote.
    completed = await events(shop.owner.account_id, "ai.analysis.")
    assert [e["type"] for e in completed] == ["ai.analysis.completed"] * len(BURST)
    assert [e["data"]["messageId"] for e in completed] == message_ids

    chats = await conversations(client, shop)
    assert sorted(chats) == sorted(jid(phone) for phone in PHONES)
    for phone in PHONES:
        said = [text for who, text in BURST if who == phone]
        assert chats[jid(phone)]["messageCount"] == len(said)
        assert await history(client, shop, chats[jid(phone)]["id"]) == said
    # Each conversation announced before its first message; the messages in the burst's order.
    emitted = await events(shop.owner.account_id, "conversation.")
    assert [e["data"]["text"] for e in emitted if e["type"] == "conversation.message.created"] == [
        text for _, text in BURST
    ]
    seen: set[str] = set()
    for event in emitted:
        if event["type"] == "conversation.created":
            seen.add(event["data"]["id"])
        else:
            assert event["data"]["conversationId"] in seen
    assert len(seen) == len(PHONES)

    # One job per consumer for the whole burst, and no second job per rules analysis.
    ran = await finished_jobs()
    for batch_job in (
        "analyse_received_messages",
        "conversations_mirror_wa_messages",
        "start_agent_runs_of_messages",
    ):
        assert ran.get(batch_job, 0) - before.get(batch_job, 0) == 1, ran
    assert ran.get("run_ai_analysis", 0) == 0


async def test_an_llm_burst_queues_one_run_per_analysis(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    shop = await open_shop(client)
    await use_openai(client, shop)
    route = chat_route(openai_api).mock(return_value=completion_with(analysis_answer()))
    message_ids = await say_burst(client, shop)
    await run_jobs()

    for message_id, (phone, _) in zip(message_ids, BURST, strict=True):
        data = await analysis(client, shop, message_id, jid=jid(phone))
        assert data["status"] == "completed" and data["provider"] == "openai"
    assert route.call_count == len(BURST)
    # Each analysis ran in a job of its own (one more each time a run found every slot of
    # the account's concurrency limit taken and looked again later).
    ran = await finished_jobs()
    assert ran["analyse_received_messages"] == 1
    assert ran["run_ai_analysis"] >= len(BURST)


async def test_events_delivered_twice_in_a_batch_and_across_batches_change_nothing(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from ticaret.agents.tasks import start_agent_runs_of_messages
    from ticaret.ai.tasks import analyse_received_messages
    from ticaret.conversations.tasks import mirror_wa_messages

    shop = await open_shop(client)
    message_ids = await say_burst(client, shop)
    await run_jobs()
    received = [e["id"] for e in await events(shop.owner.account_id, "wa.message.received")]
    created = [
        e["id"]
        for e in await events(shop.owner.account_id, "conversation.message.created")
        if e["type"] == "conversation.message.created"
    ]
    everything = await events(shop.owner.account_id, "")
    chats = await conversations(client, shop)

    # The outbox delivers at least once: a list naming an event twice, and two lists that
    # overlap, run by one worker at once.
    twice = [received[0], received[1], received[0], *received]
    for tag in ("again-1", "again-2"):
        await analyse_received_messages.options(job_id=tag).enqueue(twice)
        await mirror_wa_messages.options(job_id=tag).enqueue(twice)
        await start_agent_runs_of_messages.options(job_id=tag).enqueue([*created, created[0]])
    await run_jobs()

    assert await events(shop.owner.account_id, "") == everything
    listed = await client.get("/wa/ai-analyses", headers=shop.headers)
    assert sorted(row["messageId"] for row in listed.json()["data"]["rows"]) == sorted(message_ids)
    again = await conversations(client, shop)
    assert {key: row["messageCount"] for key, row in again.items()} == {
        key: row["messageCount"] for key, row in chats.items()
    }


async def test_a_message_gone_and_an_event_of_malformed_data_do_not_stop_their_batch(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from sqlalchemy import delete

    from ticaret.core.db import unit_of_work
    from ticaret.models import Event, WaMessage

    shop = await open_shop(client)
    await run_jobs()
    message_ids = await say_burst(client, shop)
    await drain_inbox_only()
    received = await events(shop.owner.account_id, "wa.message.received")
    assert [e["data"]["messageId"] for e in received] == message_ids
    assert await events(shop.owner.account_id, "ai.") == []  # the consumers are still queued
    # Before the consumers run: one message is deleted (its session's data wiped), one event's
    # data is not a message's.
    gone, malformed = received[1], received[4]
    async with unit_of_work() as session:
        await session.execute(delete(WaMessage).where(WaMessage.id == gone["data"]["id"]))
    await set_event_data(malformed["id"], {"id": "not-a-message", "fromMe": False, "type": "text"})
    await run_jobs()

    rest = [m for i, m in enumerate(message_ids) if i not in (1, 4)]
    listed = await client.get("/wa/ai-analyses", headers=shop.headers)
    assert sorted(row["messageId"] for row in listed.json()["data"]["rows"]) == sorted(rest)
    completed = await events(shop.owner.account_id, "ai.analysis.")
    assert [e["data"]["messageId"] for e in completed] == rest
    mirrored = await events(shop.owner.account_id, "conversation.message.")
    assert [e["data"]["text"] for e in mirrored] == [
        text for i, (_, text) in enumerate(BURST) if i not in (1, 4)
    ]
    # The suite checks every stored event against its type at the end: this one was not
    # emitted by the code.
    async with unit_of_work() as session:
        await session.execute(delete(Event).where(Event.id == malformed["id"]))


@pytest.mark.usefixtures("no_sweep_grace")
async def test_lost_batch_jobs_are_queued_again_by_the_sweepers_as_one_batch(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from ticaret.ai.tasks import sweep_ai_analyses
    from ticaret.conversations.tasks import sweep_conversation_mirrors
    from ticaret.core.queue import get_redis

    shop = await open_shop(client)
    await run_jobs()
    message_ids = await say_burst(client, shop)
    await drain_inbox_only()
    await get_redis().flushdb()  # Redis lost the queued consumer jobs
    await run_jobs()
    assert await events(shop.owner.account_id, "ai.") == []

    assert await conversations(client, shop) == {}

    assert await sweep_ai_analyses() == len(BURST)
    assert await sweep_conversation_mirrors() == len(BURST)
    # Swept again before the worker got to them: each batch is queued once.
    assert await sweep_ai_analyses() == 0
    assert await sweep_conversation_mirrors() == 0
    await run_jobs()
    completed = await events(shop.owner.account_id, "ai.analysis.")
    assert [e["data"]["messageId"] for e in completed] == message_ids
    mirrored = await events(shop.owner.account_id, "conversation.message.")
    assert [e["data"]["text"] for e in mirrored] == [text for _, text in BURST]
    ran = await finished_jobs()
    assert ran["analyse_received_messages"] == ran["conversations_mirror_wa_messages"] == 1
    assert await sweep_ai_analyses() == 0
    assert await sweep_conversation_mirrors() == 0
