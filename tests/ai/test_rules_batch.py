"""The consumer runs the rules on a batch's messages before their rows are written and writes
each row finished: every column and every `ai.analysis.completed` payload is what the run of
each analysis on its own written row (the path of a run job, and of an account with automatic
replies) gives. A batch mixing accounts with and without a catalog, customers or automatic
replies gives each account what it would get alone, and a batch delivered again changes
nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.ai.helpers import (
    customer_says,
    events,
    open_shop,
    put_settings,
)

PHONES = ["905551110001", "905551110002", "905551110003"]
# One chat's follow-ups read each other as context; a photo without a caption and one with.
BURST: list[tuple[str, str | None]] = [
    (PHONES[0], "mor keten gömlek M var mı"),
    (PHONES[0], "L beden var mı"),
    (PHONES[0], "beyaz olanı da olur"),
    (PHONES[1], "beyaz spor ayakkabı 40 numara var mı"),
    (PHONES[0], "2 tane istiyorum"),
    (PHONES[2], "merhaba"),
    (PHONES[1], None),
    (PHONES[2], "Merhaba, sipariş 12 ne zaman kargoda?"),
    (PHONES[0], "fiyatı ne kadar"),
    (PHONES[1], "2 adet siyah deri kemer 95 istiyorum"),
]
# Columns a run sets from the clock: compared as set or not.
CLOCK = ("created_at", "updated_at", "started_at", "completed_at", "skipped_at", "next_attempt_at")
CLOCK_FIELDS = ("createdAt", "updatedAt", "completedAt", "skippedAt", "nextAttemptAt")


def jid(phone: str) -> str:
    return f"{phone}@s.whatsapp.net"


async def say(client: httpx.AsyncClient, shop: Any, burst: list[tuple[str, str | None]]) -> None:
    for phone, text in burst:
        extra = {"withMedia": True} if text is None else {}
        await customer_says(client, shop, text, phone=phone, **extra)


async def rows_of(account_id: str) -> list[dict[str, Any]]:
    """The account's analyses, every column, in message order (clock columns as set or not),
    with the JSON type of each JSONB column (a JSON null and an SQL NULL read alike)."""
    from sqlalchemy import func, select
    from sqlalchemy.dialects.postgresql import JSONB

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import AiAnalysis, WaMessage

    table = AiAnalysis.__table__
    async with get_sessionmaker()() as session:
        found = await session.execute(
            select(
                table,
                *(
                    func.jsonb_typeof(column).label(f"{column.key}:type")
                    for column in table.columns
                    if isinstance(column.type, JSONB)
                ),
            )
            .join(WaMessage, WaMessage.id == table.c.message_pk)
            .where(table.c.account_id == account_id)
            .order_by(WaMessage.source_timestamp, WaMessage.id)
        )
        rows = [dict(row) for row in found.mappings()]
    for row in rows:
        del row["id"]
        for name in CLOCK:
            row[name] = row[name] is not None
    return rows


async def published(account_id: str) -> list[dict[str, Any]]:
    """The account's `ai.` events' types and data (ids and clock fields as set or not)."""
    found = []
    for event in await events(account_id, "ai."):
        data = dict(event["data"])
        data["id"] = bool(data["id"])
        for name in CLOCK_FIELDS:
            data[name] = data[name] is not None
        found.append((event["type"], data, event["actorType"]))
    return found


async def state(account_id: str) -> tuple[list[dict[str, Any]], list[Any]]:
    return await rows_of(account_id), await published(account_id)


async def forget_analyses(*account_ids: str) -> None:
    """The accounts' analyses and the events they emitted, gone (to analyse again)."""
    from sqlalchemy import delete

    from ticaret.core.db import unit_of_work
    from ticaret.models import AiAnalysis, Event

    async with unit_of_work() as session:
        for account_id in account_ids:
            await session.execute(delete(AiAnalysis).where(AiAnalysis.account_id == account_id))
            await session.execute(
                delete(Event).where(Event.account_id == account_id, Event.type.startswith("ai."))
            )


async def consume(event_ids: list[str], tag: str, run_jobs: Any) -> None:
    from ticaret.ai.tasks import analyse_received_messages

    await analyse_received_messages.options(job_id=tag).enqueue(event_ids)
    await run_jobs()


@pytest.fixture
def each_on_its_row(monkeypatch: pytest.MonkeyPatch) -> Any:
    """While on: every rules analysis is written pending and run on its row, one by one (the
    run job's path, which accounts with automatic replies still take)."""
    from ticaret.ai.service import pipeline

    def on() -> None:
        monkeypatch.setattr(pipeline._Received, "rules_at_once", property(lambda self: False))

    return on


async def test_a_burst_gives_what_each_analysis_run_on_its_own_row_gives(
    client: httpx.AsyncClient, run_jobs: Any, each_on_its_row: Any
) -> None:
    shop = await open_shop(client)
    # A customer for the first chat: its analyses read the chat's customer link.
    created = await client.post(
        "/crm/customers",
        json={"title": "Ayşe Yılmaz", "phones": [PHONES[0]], "address": "Moda Cad. 1"},
        headers=shop.headers,
    )
    assert created.status_code == 201, created.text
    await say(client, shop, BURST)
    await run_jobs()  # everything settles (the CRM links the chats)
    account = shop.owner.account_id
    received = [e["id"] for e in await events(account, "wa.message.received")]
    assert len(received) == len(BURST)

    await forget_analyses(account)
    await consume(received, "batched", run_jobs)
    batched = await state(account)
    await forget_analyses(account)
    each_on_its_row()
    await consume(received, "one-by-one", run_jobs)
    one_by_one = await state(account)

    assert batched == one_by_one
    rows, emitted = batched
    assert [row["status"] for row in rows] == [
        "skipped" if text is None else "completed" for _, text in BURST
    ]
    assert {row["version"] for row in rows} == {2}
    assert [event[1]["entityVersion"] for event in emitted] == ["2"] * (len(BURST) - 1)
    # What the batch path has to get right: context from the same batch, matches, the link.
    first_chat = [row for row, (phone, _) in zip(rows, BURST, strict=True) if phone == PHONES[0]]
    assert first_chat[1]["input"]["contextMessages"] == 1
    assert first_chat[1]["result"]["understanding"]["productFromContext"] is True
    assert first_chat[0]["product_matches"] and first_chat[0]["match_status"]
    assert first_chat[3]["commerce"]["orderDraft"]["customerId"] == created.json()["data"]["id"]


async def said_but_not_analysed(
    client: httpx.AsyncClient, run_jobs: Any, shops: Any, burst: list[tuple[str, str | None]]
) -> None:
    """Each shop's customers say the burst; every job runs but the AI's consumer, held back
    (its events are handed over in one batch by the test)."""
    from ticaret.ai.service import pipeline

    async def held_back(session: Any, event_ids: list[str]) -> list[Any]:
        return []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "consume_received", held_back)
        for shop in shops:
            await say(client, shop, burst)
        await run_jobs()


async def test_one_batch_of_accounts_with_and_without_a_catalog_and_automatic_replies(
    client: httpx.AsyncClient, run_jobs: Any, each_on_its_row: Any
) -> None:
    replying = await open_shop(client)
    await put_settings(client, replying, autoReply=True)
    no_catalog = await open_shop(client, catalog=False)
    plain = await open_shop(client)
    await run_jobs()
    shops = (replying, no_catalog, plain)
    asked = [(PHONES[0], "beyaz spor ayakkabı 40 numara var mı"), (PHONES[1], "merhaba")]
    await said_but_not_analysed(
        client, run_jobs, shops, [*asked, (PHONES[2], "mor keten gömlek M var mı")]
    )
    accounts = [shop.owner.account_id for shop in shops]
    by_shop = [[e["id"] for e in await events(a, "wa.message.received")] for a in accounts]
    assert [len(ids) for ids in by_shop] == [3, 3, 3]
    mixed = [event_id for trio in zip(*by_shop, strict=True) for event_id in trio]

    await consume(mixed, "mixed", run_jobs)
    first = [await state(account) for account in accounts]
    for rows, emitted in first:
        assert [row["status"] for row in rows] == ["completed"] * 3
        assert len(emitted) == 3
    # The shop with automatic replies answered the clear stock question, the others not.
    replied = first[0][0][0]["result"]["autoReply"]
    assert replied["operationId"] and replied["messageId"]
    messages = await client.get(
        f"/wa/chats/{jid(PHONES[0])}/messages",
        params={"providerSessionId": replying.psid},
        headers=replying.headers,
    )
    assert [m["fromMe"] for m in messages.json()["data"]["rows"]].count(True) == 1
    for rows, _ in first[1:]:
        assert all("autoReply" not in row["result"] for row in rows)
    # No catalog: the product words are searched for nothing (and nothing asked of it).
    no_catalog_rows = first[1][0]
    assert no_catalog_rows[0]["match_status"] == "no_match"
    assert no_catalog_rows[0]["result"]["matching"]["searched"] is True
    assert no_catalog_rows[0]["product_matches"] == []
    assert first[2][0][0]["product_matches"]

    # Delivered again: nothing changes, nothing is emitted.
    await consume(mixed, "mixed-again", run_jobs)
    assert [await state(account) for account in accounts] == first

    # The same batch run one analysis at a time on its row gives the same. (The shop with
    # automatic replies took that path already; its chats have moved on since, so no reply is
    # sent again, and its rows were written once less.)
    await forget_analyses(*accounts)
    each_on_its_row()
    await consume(mixed, "mixed-one-by-one", run_jobs)
    again = [await state(account) for account in accounts]
    assert again[1:] == first[1:]
    assert without_replies(again[0]) == without_replies(first[0])


def without_replies(found: tuple[list[dict[str, Any]], list[Any]]) -> Any:
    rows, emitted = found
    return (
        [{**row, "version": None, "result": {**row["result"], "autoReply": None}} for row in rows],
        [
            (
                kind,
                {**data, "entityVersion": None, "result": {**data["result"], "autoReply": None}},
                actor,
            )
            for kind, data, actor in emitted
        ],
    )
