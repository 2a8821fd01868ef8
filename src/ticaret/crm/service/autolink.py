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
from ticaret.crm.service import mappings
from ticaret.models import ChatType, CrmIdentity, IdentityChannel, IdentitySource

# Which identity decides when a person's identities name different customers.
_AUTHORITY = {
    IdentitySource.manual: 0,
    IdentitySource.integration: 1,
    IdentitySource.phone: 2,
    IdentitySource.merge: 3,
}
_MOVABLE = (IdentitySource.phone, IdentitySource.merge)


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
