"""The conversations' declared jobs: outbox consumers that mirror channel messages (one
commit's events per job), and the sweeper that queues again what a lost job left unmirrored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.conversations.service import mirror
from ticaret.core.db import unit_of_work
from ticaret.core.events import consume_batch
from ticaret.core.jobs import (
    CONSUMER_KEEP_RESULT,
    JobContext,
    cron_job,
    job,
    requeue_batch,
    try_again,
)

WA_MESSAGE_EVENTS = ("wa.message.received", "wa.message.sent")
SOCIAL_MESSAGE_EVENTS = (
    "meta.message.received",
    "meta.message.sent",
    "instagram.message.received",
    "instagram.message.sent",
)
# One commit's events in, one flag per event (whether it stored a message) out.
MirrorBatch = Callable[[AsyncSession, list[str]], Awaitable[list[bool]]]


CONSUMER_TRIES = 5


async def _mirrored(ctx: JobContext, event_ids: list[str], mirror_batch: MirrorBatch) -> int:
    done, failed = await consume_batch(event_ids, mirror_batch)
    if failed is not None:
        # The list again, later (what is mirrored already stays as it is); after the last
        # try the sweeper finds what is still not mirrored.
        raise try_again(ctx, failed, tries=CONSUMER_TRIES)
    return sum(done)


async def _social_events(session: AsyncSession, event_ids: list[str]) -> list[bool]:
    return [await mirror.mirror_social_event(session, event_id) for event_id in event_ids]


@job(
    "conversations_mirror_wa_messages",
    max_tries=CONSUMER_TRIES,
    timeout=120,
    keep_result=CONSUMER_KEEP_RESULT,
)
async def mirror_wa_messages(ctx: JobContext, event_ids: list[str]) -> int:
    """Outbox consumer of `wa.message.received` / `wa.message.sent`, one commit's events at
    once: each chat's conversation in the event's account (made on its first message) gets
    the message. Returns how many messages it stored."""
    return await _mirrored(ctx, event_ids, mirror.mirror_wa_events)


@job("conversations_mirror_wa_message", max_tries=CONSUMER_TRIES, timeout=60)
async def mirror_wa_message(ctx: JobContext, event_id: str) -> bool:
    """One event's `mirror_wa_messages` (jobs queued by an earlier release)."""
    return await _mirrored(ctx, [event_id], mirror.mirror_wa_events) > 0


@job(
    "conversations_mirror_social_messages",
    max_tries=CONSUMER_TRIES,
    timeout=120,
    keep_result=CONSUMER_KEEP_RESULT,
)
async def mirror_social_messages(ctx: JobContext, event_ids: list[str]) -> int:
    """Outbox consumer of Messenger and Instagram `*.message.received` / `*.message.sent`,
    one commit's events in one transaction."""
    return await _mirrored(ctx, event_ids, _social_events)


@job("conversations_mirror_social_message", max_tries=CONSUMER_TRIES, timeout=60)
async def mirror_social_message(ctx: JobContext, event_id: str) -> bool:
    """One event's `mirror_social_messages` (jobs queued by an earlier release)."""
    return await _mirrored(ctx, [event_id], _social_events) > 0


@cron_job("sweep_conversation_mirrors", second={15, 45})
async def sweep_conversation_mirrors(ctx: JobContext) -> int:
    """Queue again, as one batch, the WhatsApp message events whose mirror job was lost."""
    async with unit_of_work() as session:
        lost = await mirror.unmirrored_wa_events(session, WA_MESSAGE_EVENTS)
    return await requeue_batch(mirror_wa_messages, lost)
