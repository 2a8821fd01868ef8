"""The CRM's declared jobs: automatic links of chats and Page / Instagram threads to
customers."""

from __future__ import annotations

import uuid

from ticaret.core.db import unit_of_work
from ticaret.core.jobs import JobContext, job
from ticaret.crm.service import autolink


@job("crm_link_chat", max_tries=5, timeout=60)
async def link_chat(ctx: JobContext, event_id: str) -> int:
    """Outbox consumer of `wa.message.received` / `wa.message.sent`: links the chat's person
    in the event's account (by phone, or to the customer their other JID is mapped to)."""
    async with unit_of_work() as session:
        return await autolink.link_from_message_event(session, event_id)


@job("crm_link_customer_chats", max_tries=5, timeout=120)
async def link_customer_chats(ctx: JobContext, account_id: str, customer_id: str) -> int:
    """A customer's (or contact's) phone numbers changed: link the chats they have already."""
    async with unit_of_work() as session:
        return await autolink.link_chats_of_customer(
            session, uuid.UUID(account_id), uuid.UUID(customer_id)
        )


@job("crm_link_thread", max_tries=5, timeout=60)
async def link_thread(ctx: JobContext, event_id: str) -> int:
    """Outbox consumer of `meta.thread.created` and `instagram.thread.created`: the new
    thread's person follows the inbox link of its Page / Instagram account."""
    async with unit_of_work() as session:
        return await autolink.link_from_thread_event(session, event_id)


@job("crm_link_inbox_threads", max_tries=5, timeout=600)
async def link_inbox_threads(ctx: JobContext, account_id: str, channel: str, source_id: str) -> int:
    """A Page or an Instagram account was bound to a customer, bound to another or cleared:
    the people of its threads follow, a batch per transaction (a retry resumes where the rule
    still finds work, since every batch leaves what it did behind)."""
    changed = 0
    while True:
        async with unit_of_work() as session:
            done, more = await autolink.follow_inbox_link(
                session, uuid.UUID(account_id), channel, source_id
            )
        changed += done
        if not more:
            return changed
