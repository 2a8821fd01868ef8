"""The conversations' declared jobs: outbox consumers that mirror channel messages."""

from __future__ import annotations

from ticaret.conversations.service import mirror
from ticaret.core.db import unit_of_work
from ticaret.core.jobs import JobContext, job

WA_MESSAGE_EVENTS = ("wa.message.received", "wa.message.sent")
SOCIAL_MESSAGE_EVENTS = (
    "meta.message.received",
    "meta.message.sent",
    "instagram.message.received",
    "instagram.message.sent",
)


@job("conversations_mirror_wa_message", max_tries=5, timeout=60)
async def mirror_wa_message(ctx: JobContext, event_id: str) -> bool:
    """Outbox consumer of `wa.message.received` / `wa.message.sent`: the chat's conversation
    in the event's account (made on its first message) gets the message."""
    async with unit_of_work() as session:
        return await mirror.mirror_wa_event(session, event_id)


@job("conversations_mirror_social_message", max_tries=5, timeout=60)
async def mirror_social_message(ctx: JobContext, event_id: str) -> bool:
    """Outbox consumer of Messenger and Instagram `*.message.received` / `*.message.sent`."""
    async with unit_of_work() as session:
        return await mirror.mirror_social_event(session, event_id)
