"""A burst of WhatsApp messages reaches an inbox an agent answers on its own: the one job
that takes the commit's `conversation.message.created` events starts one run per customer
message, and the same events delivered again start none."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from tests.agents.helpers import answers, chat_route, completion, create_agent, open_shop, runs_of
from tests.ai.helpers import finished_jobs
from tests.wa.helpers import create_session

PHONES = ["905551110001", "905551110002", "905551110003"]


async def test_each_customer_message_of_a_burst_starts_one_run_of_the_channel_agent(
    client: httpx.AsyncClient, run_jobs: Any, openai_api: respx.MockRouter
) -> None:
    from ticaret.agents.tasks import start_agent_runs_of_messages

    shop = await open_shop(client, catalog=False)
    # The analyses would ask the same model: off, so every completion is an agent's.
    await shop.call("PUT", "/ai/settings", json={"autoAnalyzeInbound": False})
    psid = str((await create_session(client, shop.owner))["providerSessionId"])
    agent = await create_agent(shop, channels=[{"type": "whatsapp", "channelId": psid}])
    route = chat_route(openai_api)
    route.side_effect = answers(*(completion(f"Merhaba {n}!") for n in range(len(PHONES))))
    await run_jobs()
    before = await finished_jobs()

    for phone in PHONES:
        response = await client.post(
            f"/wa/sandbox/{psid}/inbound",
            json={"from": phone, "text": "Merhaba, sipariş vermek istiyorum", "pushName": "A"},
            headers=shop.headers,
        )
        assert response.status_code == 200, response.text
    await run_jobs()

    runs = await runs_of(shop, agent["id"])
    assert len(runs) == len(PHONES)
    assert {run["status"] for run in runs} == {"completed"}
    assert {run["trigger"] for run in runs} == {"channel"}
    assert len({run["conversationId"] for run in runs}) == len(PHONES)
    assert route.call_count == len(PHONES)
    ran = await finished_jobs()
    assert ran["run_agent"] - before.get("run_agent", 0) == len(PHONES)

    # The same events again (twice in one list): no run more.
    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Event

    async with get_sessionmaker()() as session:
        created = list(
            await session.scalars(
                select(Event.id)
                .where(
                    Event.account_id == shop.owner.account_id,
                    Event.type == "conversation.message.created",
                )
                .order_by(Event.seq)
            )
        )
    await start_agent_runs_of_messages.options(job_id="again").enqueue([*created, *created])
    await run_jobs()
    assert len(await runs_of(shop, agent["id"])) == len(PHONES)
    assert route.call_count == len(PHONES)
