"""The CRM's declared jobs: automatic links of chats and Page / Instagram threads to
customers."""

from __future__ import annotations

import uuid

from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

from ticaret.core.cache import MISSING, SharedCache
from ticaret.core.db import unit_of_work
from ticaret.core.jobs import CONSUMER_KEEP_RESULT, JobContext, job
from ticaret.crm.repository import customers as customers_repo
from ticaret.crm.service import autolink
from ticaret.models import CrmCustomer


@job("crm_link_chat", max_tries=5, timeout=60)
async def link_chat(ctx: JobContext, event_id: str) -> int:
    """Outbox consumer of `wa.message.received` / `wa.message.sent`: links the chat's person
    in the event's account (by phone, or to the customer their other JID is mapped to)."""
    async with unit_of_work() as session:
        return await autolink.link_from_message_event(session, event_id)


@job("crm_link_chats", max_tries=5, timeout=120, keep_result=CONSUMER_KEEP_RESULT)
async def link_chats(ctx: JobContext, event_ids: list[str]) -> int:
    """`link_chat` for every message event of one commit (an inbound batch emits hundreds),
    in one transaction."""
    linked = 0
    async with unit_of_work() as session:
        for event_id in event_ids:
            linked += await autolink.link_from_message_event(session, event_id)
    return linked


# Which accounts the relay queues chat links for: only those with a customer to link to (the
# rule links people to customers; without one it has nothing to do). Kept per account for
# CUSTOMERS_TTL_SECONDS; a customer created, deleted or restored drops the answer in every
# process at once (flush listener below, Redis pub/sub).
CUSTOMERS_TTL_SECONDS = 5.0
_with_customers: SharedCache[bool] = SharedCache(
    "crm_accounts_with_customers", ttl=lambda: CUSTOMERS_TTL_SECONDS
)


async def accounts_with_customers(account_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    answer: set[uuid.UUID] = set()
    unknown: list[uuid.UUID] = []
    for account_id in account_ids:
        known = _with_customers.get(account_id)
        if known is MISSING:
            unknown.append(account_id)
        elif known:
            answer.add(account_id)
    if unknown:
        epoch = _with_customers.epoch
        async with unit_of_work() as session:
            found = await customers_repo.accounts_with_live_customers(session, unknown)
        for account_id in unknown:
            _with_customers.put(account_id, account_id in found, epoch, tags=[str(account_id)])
        answer |= found
    return answer


@event.listens_for(Session, "after_flush")
def _customers_changed(session: Session, flush: UOWTransaction) -> None:
    accounts = {
        str(row.account_id)
        for row in (*session.new, *session.dirty, *session.deleted)
        if isinstance(row, CrmCustomer)
    }
    if accounts:
        _with_customers.invalidate_after_commit(session, sorted(accounts))  # type: ignore[arg-type]


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
