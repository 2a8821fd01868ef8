"""Chats linked to customers without an operator: by phone, and `@lid` <-> phone merges.

WhatsApp names one person by a phone JID (`905551112233@s.whatsapp.net`) or a `@lid`, and the
gateway tells us both once it knows them (a chat's `altJid`, a sender's resolved JID). The rule:

- when any JID of the person is mapped in the account, every other JID of them is mapped to
  the same customer (and contact), so chats under either JID stay linked;
- when none is, and exactly one customer (or one contact) of the account has the person's
  phone number, all their JIDs are mapped to it. Several candidates: nothing is linked and the
  chat waits in `GET /crm/identities/unmatched`.

Identities that disagree are brought to the one an operator made (then the oldest); links an
operator made are never moved by this rule.

Pages and Instagram accounts (the inbox rule): a person who writes to (or is written to from)
a Page or an Instagram account bound to a customer by an inbox link is that customer's: their
PSID / IGSID is mapped to it (source `inbox`), so other domains find the customer by the
identity and the customer's mappings show the person. Such a mapping follows the inbox link:
it moves when the inbox is bound to another customer and goes when the link is cleared. A
mapping an operator made, or moved, is never touched. The rule runs when a thread begins
(`meta.thread.created`, `instagram.thread.created`) and over a Page's existing threads when its
link is set, moved or cleared (a job); so a person an operator unlinked stays unlinked until
the binding changes. Meta tells us no phone of the person, so there is no phone rule here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core import phones
from ticaret.core.events import Actor
from ticaret.crm.repository import chats as chats_repo
from ticaret.crm.repository import contacts as contacts_repo
from ticaret.crm.repository import customers as customers_repo
from ticaret.crm.repository import identities as identities_repo
from ticaret.crm.repository import inbox_links as inbox_links_repo
from ticaret.crm.repository import threads as threads_repo
from ticaret.crm.repository.threads import CHANNEL_OF_PLATFORM, PLATFORM_OF_CHANNEL
from ticaret.crm.service import mappings
from ticaret.models import (
    ChatType,
    CrmIdentity,
    IdentityChannel,
    IdentitySource,
    InboxChannel,
    MetaThread,
    Platform,
)

# Which identity decides when a person's identities name different customers.
_AUTHORITY = {
    IdentitySource.manual: 0,
    IdentitySource.integration: 1,
    IdentitySource.phone: 2,
    IdentitySource.merge: 3,
    IdentitySource.inbox: 2,  # Page and Instagram identities only; never a WhatsApp JID's
}
_MOVABLE = (IdentitySource.phone, IdentitySource.merge)
# People handled per transaction when a whole Page / Instagram account follows its link.
INBOX_BATCH = 200


def person_jids(values: Iterable[str | None]) -> list[str]:
    """One person's JIDs, normalized; groups and empty values dropped."""
    found: list[str] = []
    for value in values:
        if not value or "@" not in value:
            continue
        jid = phones.normalize_jid(value)
        if phones.is_group_jid(jid) or jid in found:
            continue
        if phones.server_of(jid) in ("lid", phones.PHONE_JID_SERVER):
            found.append(jid)
    return found


def _winner(existing: list[CrmIdentity]) -> CrmIdentity:
    return min(existing, key=lambda i: (_AUTHORITY[IdentitySource(i.source)], i.created_at, i.id))


async def link_person(
    session: AsyncSession,
    account_id: uuid.UUID,
    jids: list[str],
    *,
    display_name: str | None = None,
    actor: Actor | None = None,
) -> list[CrmIdentity]:
    """Apply the rule to the JIDs of one person; returns the identities it created or moved."""
    if not jids:
        return []
    actor = actor or Actor.system()
    await identities_repo.lock_person(session, account_id, min(jids))
    existing = await identities_repo.whatsapp_identities(session, account_id, jids, for_update=True)
    changed: list[CrmIdentity] = []
    if existing:
        winner = _winner(existing)
        known = {identity.value for identity in existing}
        for jid in jids:
            if jid not in known:
                changed.append(
                    await mappings.link(
                        session,
                        account_id,
                        actor,
                        channel=IdentityChannel.whatsapp,
                        scope="",
                        value=jid,
                        customer_id=winner.customer_id,
                        contact_id=winner.contact_id,
                        source=IdentitySource.merge,
                        display_name=winner.display_name or display_name,
                    )
                )
        for identity in existing:
            if identity.customer_id != winner.customer_id and identity.source in _MOVABLE:
                await mappings.change(
                    session,
                    identity,
                    actor,
                    customer_id=winner.customer_id,
                    contact_id=winner.contact_id,
                    display_name=identity.display_name,
                    source=IdentitySource.merge,
                )
                changed.append(identity)
        return changed
    phone = next((p for p in (phones.phone_of_jid(j) for j in jids) if p), None)
    if phone is None:
        return []
    contacts = await contacts_repo.contacts_with_phone(session, account_id, phone)
    customers = await customers_repo.customers_with_phone(session, account_id, phone)
    customer_ids = {c.customer_id for c in contacts} | {c.id for c in customers}
    if len(customer_ids) != 1:
        return []
    (customer_id,) = customer_ids
    contact_id = contacts[0].id if len(contacts) == 1 else None
    for jid in jids:
        changed.append(
            await mappings.link(
                session,
                account_id,
                actor,
                channel=IdentityChannel.whatsapp,
                scope="",
                value=jid,
                customer_id=customer_id,
                contact_id=contact_id,
                source=IdentitySource.phone,
                display_name=display_name,
            )
        )
    return changed


async def link_from_message_event(session: AsyncSession, event_id: str) -> int:
    """A `wa.message.received|sent` event: the chat's person (and a group sender) in the
    event's account."""
    event = await chats_repo.event(session, event_id)
    if event is None:
        return 0
    data = event.data
    wa = await chats_repo.session_by_provider_id(session, str(data.get("providerSessionId")))
    if wa is None or wa.deleted_at is not None:
        return 0
    chat = await chats_repo.chat(session, wa.id, str(data.get("remoteJid")))
    message = await chats_repo.message_by_pk(session, uuid.UUID(str(data.get("id"))))
    if chat is None or message is None:
        return 0
    linked = 0
    if chat.type == ChatType.individual:
        sender = [message.sender_jid, message.sender_jid_resolved] if not message.from_me else []
        jids = person_jids([chat.remote_jid, chat.alt_jid, *sender])
        name = chat.name or (message.push_name if not message.from_me else None)
        linked += len(await link_person(session, event.account_id, jids, display_name=name))
    elif chat.type == ChatType.group and not message.from_me:
        jids = person_jids([message.sender_jid, message.sender_jid_resolved, message.participant])
        linked += len(
            await link_person(session, event.account_id, jids, display_name=message.push_name)
        )
    return linked


async def link_chats_of_customer(
    session: AsyncSession, account_id: uuid.UUID, customer_id: uuid.UUID
) -> int:
    """A customer got phone numbers: their chats that no one linked yet follow the rule."""
    customer = await customers_repo.customer(session, account_id, customer_id)
    if customer is None:
        return 0
    numbers = list(customer.phones)
    numbers += [
        c.phone
        for c in await contacts_repo.live_contacts_of(session, account_id, customer.id)
        if c.phone
    ]
    jids = [phones.phone_jid(number) for number in dict.fromkeys(numbers)]
    linked = 0
    for chat in await chats_repo.chats_with_jids(session, account_id, jids):
        linked += len(
            await link_person(
                session,
                account_id,
                person_jids([chat.remote_jid, chat.alt_jid]),
                display_name=chat.name,
            )
        )
    return linked


# Pages and Instagram accounts ----------------------------------------------------------------


def _display_name(thread: MetaThread) -> str | None:
    if thread.participant_name:
        return thread.participant_name
    return f"@{thread.participant_username}" if thread.participant_username else None


async def _inbox_customer(
    session: AsyncSession, account_id: uuid.UUID, channel: str, source_id: str
) -> uuid.UUID | None:
    """The live customer the account bound this Page / Instagram account to, if any."""
    link = (await inbox_links_repo.links_of_sources(session, account_id, channel, [source_id])).get(
        source_id
    )
    return link.customer_id if link is not None else None


async def follow_inbox(
    session: AsyncSession,
    account_id: uuid.UUID,
    channel: str,
    scope: str,
    value: str,
    *,
    customer_id: uuid.UUID | None,
    display_name: str | None = None,
    actor: Actor | None = None,
) -> bool:
    """The inbox rule for one person: `customer_id` is the customer their inbox is bound to
    now (None: not bound). True when a mapping was made, moved or removed."""
    actor = actor or Actor.system()
    await identities_repo.lock_person(session, account_id, f"{channel}:{scope}:{value}")
    existing = await identities_repo.identity_by_value(
        session, account_id, channel, scope, value, for_update=True
    )
    if existing is None:
        if customer_id is None:
            return False
        await mappings.link(
            session,
            account_id,
            actor,
            channel=channel,
            scope=scope,
            value=value,
            customer_id=customer_id,
            contact_id=None,
            source=IdentitySource.inbox,
            display_name=display_name,
        )
        return True
    if existing.source != IdentitySource.inbox:
        return False
    if customer_id is None:
        await mappings.unlink(session, existing, actor)
        return True
    if existing.customer_id == customer_id:
        return False
    return await mappings.change(
        session,
        existing,
        actor,
        customer_id=customer_id,
        contact_id=None,
        display_name=existing.display_name or display_name,
    )


async def link_from_thread_event(session: AsyncSession, event_id: str) -> int:
    """A `meta.thread.created` or `instagram.thread.created` event: the inbox rule for the new
    thread's person, in the event's account. (Once per person, not per message: a binding
    made or changed later reaches existing threads through `follow_inbox_link`.)"""
    event = await chats_repo.event(session, event_id)
    if event is None:
        return 0
    try:
        thread_id = uuid.UUID(str(event.data.get("id")))
    except ValueError:
        return 0
    thread = await threads_repo.thread_by_id(session, thread_id)
    if thread is None or thread.account_id != event.account_id:
        return 0
    asset = await threads_repo.asset_by_id(session, thread.asset_id)
    if asset is None or asset.deleted_at is not None:
        return 0
    channel = CHANNEL_OF_PLATFORM[Platform(asset.platform)]
    customer_id = await _inbox_customer(session, asset.account_id, channel, asset.external_id)
    changed = await follow_inbox(
        session,
        asset.account_id,
        channel,
        asset.external_id,
        thread.participant_id,
        customer_id=customer_id,
        display_name=_display_name(thread),
    )
    return int(changed)


async def follow_inbox_link(
    session: AsyncSession,
    account_id: uuid.UUID,
    channel: str,
    source_id: str,
    *,
    batch: int = INBOX_BATCH,
) -> tuple[int, bool]:
    """One batch of the inbox rule over a whole Page / Instagram account whose link was set,
    moved or cleared: the mappings it made that name another customer, then the people of
    its threads with no mapping. Returns what changed and whether more may be left."""
    if channel == InboxChannel.whatsapp:
        return 0, False
    customer_id = await _inbox_customer(session, account_id, channel, source_id)
    changed = 0
    stale = await identities_repo.stale_rule_identities(
        session, account_id, channel, source_id, IdentitySource.inbox, customer_id, batch
    )
    for identity in stale:
        changed += await follow_inbox(
            session, account_id, channel, source_id, identity.value, customer_id=customer_id
        )
    threads: list[MetaThread] = []
    if customer_id is not None:
        platform = PLATFORM_OF_CHANNEL[IdentityChannel(channel)]
        threads = await threads_repo.unlinked_threads(
            session, account_id, platform, source_id, batch
        )
        for thread in threads:
            changed += await follow_inbox(
                session,
                account_id,
                channel,
                source_id,
                thread.participant_id,
                customer_id=customer_id,
                display_name=_display_name(thread),
            )
    return changed, len(stale) == batch or len(threads) == batch
