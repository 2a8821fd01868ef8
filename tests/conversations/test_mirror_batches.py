"""The WhatsApp mirror takes one commit's message events in one job: a burst mirrored at once
makes the same conversations, copies and events as its messages mirrored one by one, with the
payloads a validated model gives; and the relay that queues it, when Redis refuses its round
trip, leaves the events to the outbox sweeper."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from redis.exceptions import ResponseError
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from tests.ai.helpers import customer_says, drain_inbox_only, events, open_shop
from tests.helpers import unrelayed_events

PHONES = ["905551110001", "905551110002", "905551110003"]
BURST = [
    (PHONES[0], "mor keten gömlek M var mı"),
    (PHONES[1], "kırmızı saten elbise kaç TL"),
    (PHONES[0], "beyaz olanı da olur"),
    (PHONES[2], "merhaba"),
    (PHONES[1], "L beden var mı"),
    (PHONES[0], "kargo ne zaman gelir"),
]


async def _snapshot(account_id: str) -> dict[str, Any]:
    """The account's conversations (by chat), their copies and the conversation events, with
    each conversation's own id replaced by its chat's (the ids are new on every run)."""
    from ticaret.conversations.schemas.conversations import ConversationData
    from ticaret.conversations.schemas.messages import MessageCreated
    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Conversation, ConversationMessage

    async with get_sessionmaker()() as session:
        chats = list(
            await session.scalars(select(Conversation).where(Conversation.account_id == account_id))
        )
        copies = list(
            await session.scalars(
                select(ConversationMessage)
                .where(ConversationMessage.account_id == account_id)
                .order_by(ConversationMessage.created_at, ConversationMessage.id)
            )
        )
    chat_of = {str(c.id): c.remote_jid for c in chats}
    by_id = {str(c.id): c for c in chats}
    emitted = await events(account_id, "conversation.")
    for event in emitted:
        data = event["data"]
        if event["type"] == "conversation.created":
            row = by_id[data["id"]]
            # What `conversation.created` said before the batch path: the validated model of
            # the new row.
            assert data == ConversationData(
                id=row.id,
                type=row.type,
                status=row.status,
                ai_enabled=row.ai_enabled,
                agent_id=row.agent_id,
                customer_id=row.customer_id,
                assignee_user_id=row.assignee_user_id,
                assignee_group_id=row.assignee_group_id,
                message_count=0,
                total_cost=row.total_cost,
            ).model_dump(mode="json", by_alias=True)
        else:
            [copy] = [m for m in copies if str(m.id) == data["id"]]
            assert data == MessageCreated(
                id=copy.id,
                conversation_id=copy.conversation_id,
                conversation_type=by_id[str(copy.conversation_id)].type,
                role=copy.role,
                sender=copy.sender,
                language=copy.language,
                text=copy.text,
                agent_run_id=copy.agent_run_id,
                ai_agent_id=None,
                ai_trigger=None,
                cost=copy.cost,
                created_at=copy.created_at,
            ).model_dump(mode="json", by_alias=True)
    return {
        "conversations": sorted(
            (c.remote_jid, c.type, c.status, c.message_count, c.last_message_at, c.customer_id)
            for c in chats
        ),
        "copies": [
            (
                m.id,
                chat_of[str(m.conversation_id)],
                m.role,
                m.sender,
                m.content,
                m.language,
                m.text,
                m.attachment_ids,
                m.flags,
                m.source,
                m.source_message_id,
                m.actor_type,
                m.created_at,
            )
            for m in copies
        ],
        "events": [
            (
                event["type"],
                event["actorType"],
                {
                    key: chat_of.get(value, value) if key in ("id", "conversationId") else value
                    for key, value in event["data"].items()
                },
            )
            for event in emitted
        ],
    }


async def _forget_conversations(account_id: str) -> None:
    from ticaret.core.db import unit_of_work
    from ticaret.models import Conversation, ConversationMessage, Event

    async with unit_of_work() as session:
        await session.execute(
            delete(ConversationMessage).where(ConversationMessage.account_id == account_id)
        )
        await session.execute(delete(Conversation).where(Conversation.account_id == account_id))
        await session.execute(
            delete(Event).where(
                Event.account_id == account_id, Event.type.startswith("conversation.")
            )
        )


async def test_a_burst_mirrored_in_one_job_is_what_one_job_per_message_makes(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    from ticaret.conversations.tasks import mirror_wa_messages
    from ticaret.core.queue import get_redis

    shop = await open_shop(client, catalog=False)
    await run_jobs()
    for phone, text in BURST:
        await customer_says(client, shop, text, phone=phone)
    await drain_inbox_only()
    await get_redis().flushdb()  # the relay's jobs: this test queues the mirror itself
    account = shop.owner.account_id
    received = [e["id"] for e in await events(account, "wa.message.received")]
    assert len(received) == len(BURST)

    for event_id in received:
        await mirror_wa_messages.options(job_id=f"one:{event_id}").enqueue([event_id])
        await run_jobs()
    one_by_one = await _snapshot(account)
    assert [copy[6] for copy in one_by_one["copies"]] == [text for _, text in BURST]
    assert [e[0] for e in one_by_one["events"]].count("conversation.created") == len(PHONES)

    await _forget_conversations(account)
    # The whole burst, with an event named twice, in one job.
    await mirror_wa_messages.options(job_id="burst").enqueue([*received, received[2]])
    await run_jobs()
    assert await _snapshot(account) == one_by_one


async def test_a_relay_that_redis_refuses_leaves_its_events_to_the_sweeper(
    client: httpx.AsyncClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticaret.core import events as core_events
    from ticaret.core.db import get_sessionmaker, unit_of_work
    from ticaret.core.queue import QUEUE_NAME, get_redis
    from ticaret.models import ConversationMessage, Event, OutboxPending

    shop = await open_shop(client, catalog=False)
    await run_jobs()
    for phone, text in BURST[:3]:
        await customer_says(client, shop, text, phone=phone)
    await drain_inbox_only()
    account = shop.owner.account_id
    redis = get_redis()
    # The drain's relay is lost (its jobs gone, its mark never written)...
    await redis.flushdb()
    async with unit_of_work() as session:
        await session.execute(
            insert(OutboxPending)
            .from_select(
                ["event_id", "created_at"],
                select(Event.id, Event.created_at).where(Event.account_id == account),
            )
            .on_conflict_do_nothing()
        )
    async with get_sessionmaker()() as session:
        received = list(
            await session.scalars(
                select(Event)
                .where(Event.account_id == account, Event.type == "wa.message.received")
                .order_by(Event.seq)
            )
        )
    # ... and relaying them again fails in Redis: the publishes go out, the jobs cannot be
    # queued (the queue is not a sorted set).
    await redis.set(QUEUE_NAME, "not a queue")
    with pytest.raises(ResponseError):
        await core_events.relay(received)
    await redis.delete(QUEUE_NAME)
    async with get_sessionmaker()() as session:
        stored = set(await session.scalars(select(Event.id).where(Event.account_id == account)))
    assert await unrelayed_events(account) == stored  # none marked relayed

    monkeypatch.setattr(core_events, "SWEEP_GRACE", timedelta(0))
    assert await core_events.sweep_outbox() >= len(received)
    await run_jobs()
    async with get_sessionmaker()() as session:
        copies = await session.scalars(
            select(ConversationMessage.text).where(ConversationMessage.account_id == account)
        )
        # (Each event was swept on its own, so their jobs ran side by side.)
        assert sorted(copies) == sorted(text for _, text in BURST[:3])
    assert await unrelayed_events(account) == set()


async def test_a_batch_bumps_a_conversation_whose_copies_another_batch_is_inserting(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    """Two mirror batches meeting on one conversation: the one inserting copies holds the
    KEY SHARE lock their foreign key takes on it; the other's count bump must not wait for
    that (the lock an UPDATE of the count takes does not), or each would wait for the other's
    copies and deadlock. Here the bump runs at once with a short lock timeout."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from ticaret.conversations.repository import conversations as conversation_repository
    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Conversation

    shop = await open_shop(client, catalog=False)
    await customer_says(client, shop, BURST[0][1], phone=BURST[0][0])
    await run_jobs()
    account = shop.owner.account_id
    async with get_sessionmaker()() as inserting, get_sessionmaker()() as bumping:
        conversation = (
            await inserting.execute(
                select(Conversation.id, Conversation.message_count)
                .where(Conversation.account_id == account)
                .with_for_update(key_share=True, read=True)
            )
        ).one()
        await bumping.execute(text("SET LOCAL lock_timeout = '2s'"))
        await conversation_repository.bump_many(
            bumping, [(uuid.UUID(account), conversation.id, 2, datetime.now(UTC))]
        )
        await bumping.commit()
        await inserting.rollback()
    async with get_sessionmaker()() as session:
        count = await session.scalar(
            select(Conversation.message_count).where(Conversation.id == conversation.id)
        )
    assert count == conversation.message_count + 2
