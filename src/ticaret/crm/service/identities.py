"""Identity mappings, chat and thread links and the unmatched list; and what other domains
call: `link_identity`, `find_customer_by_identity`, `find_customers_by_phone`.

A chat belongs to a customer when one of its JIDs (the chat's own, or the phone JID behind a
`@lid`) is mapped in the account, or when its whole session is (an inbox link). Links are the
account's: two accounts sharing a session link the same chat to their own customers.

A Page or Instagram DM thread belongs to a customer when its person (the PSID / IGSID, scoped
to the Page / Instagram account id) is mapped in the account, or when the whole Page /
Instagram account is bound to the customer (an inbox link).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core import phones
from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.core.events import Actor
from ticaret.core.versioning import check_version
from ticaret.crm.errors import (
    ContactOfAnotherCustomer,
    IdentityTaken,
    InvalidIdentity,
    MappingNotFound,
    field_error,
)
from ticaret.crm.repository import chats as chats_repo
from ticaret.crm.repository import contacts as contacts_repo
from ticaret.crm.repository import customers as customers_repo
from ticaret.crm.repository import identities as repository
from ticaret.crm.repository import inbox_links as inbox_links_repo
from ticaret.crm.repository import threads as threads_repo
from ticaret.crm.repository.identities import MappingFilter
from ticaret.crm.repository.threads import CHANNEL_OF_PLATFORM, PLATFORM_OF_CHANNEL
from ticaret.crm.schemas.identities import (
    Candidate,
    ChatLink,
    MappingCreate,
    MappingOut,
    MappingUpdate,
    UnmatchedChatOut,
)
from ticaret.crm.service import autolink, mappings
from ticaret.crm.service.common import region
from ticaret.crm.service.contacts import contact_or_404
from ticaret.crm.service.customers import customer_or_404
from ticaret.crm.service.views import contact_brief, customer_brief, mapping_out
from ticaret.models import (
    ChatType,
    CrmContact,
    CrmIdentity,
    IdentityChannel,
    IdentitySource,
    MetaAsset,
    MetaThread,
    Platform,
    WaChat,
    WaMessage,
)
from ticaret.wa.errors import SessionNotFound

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def mapping_or_404(
    session: AsyncSession, account_id: uuid.UUID, mapping_id: uuid.UUID, *, for_update: bool = False
) -> CrmIdentity:
    identity = await repository.identity(session, account_id, mapping_id, for_update=for_update)
    if identity is None:
        raise MappingNotFound()
    return identity


async def contact_of(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
) -> CrmContact | None:
    if contact_id is None:
        return None
    contact = await contact_or_404(session, account_id, contact_id)
    if contact.customer_id != customer_id:
        raise ContactOfAnotherCustomer(
            details=field_error("contactId", "a contact of another customer")
        )
    return contact


async def identity_value(
    session: AsyncSession, account_id: uuid.UUID, channel: IdentityChannel, raw: str
) -> str:
    """The stored form of an identity: a WhatsApp JID (phone numbers become phone JIDs),
    other channels' ids as given."""
    value = raw.strip()
    if channel != IdentityChannel.whatsapp:
        if not value:
            raise InvalidIdentity(details=field_error("value", "empty"))
        return value
    if "@" in value:
        jid = phones.normalize_jid(value)
        if (
            phones.server_of(jid) in ("lid", "g.us")
            and jid.split("@")[0].replace("-", "").isdigit()
        ):
            return jid
        if phones.phone_of_jid(jid):
            return jid
        raise InvalidIdentity(
            "Not a WhatsApp JID (phone, @lid or group).",
            details=field_error("value", "not a WhatsApp JID"),
        )
    e164 = phones.normalize_phone(value, await region(session, account_id))
    if e164 is None:
        raise InvalidIdentity(
            "Neither a WhatsApp JID nor a phone number.",
            details=field_error("value", "not a JID or phone number"),
        )
    return phones.phone_jid(e164)


# Mappings ------------------------------------------------------------------------------------


async def list_mappings(
    session: AsyncSession,
    ctx: AccountContext,
    page: PageParams,
    *,
    customer_id: uuid.UUID | None,
    contact_id: uuid.UUID | None,
    channel: IdentityChannel | None,
    value: str | None,
    source: IdentitySource | None,
) -> Page[MappingOut]:
    if value is not None and channel in (None, IdentityChannel.whatsapp) and "@" in value:
        value = phones.normalize_jid(value)
    filters = MappingFilter(
        customer_id=customer_id, contact_id=contact_id, channel=channel, value=value, source=source
    )
    rows = await repository.identities_page(
        session, ctx.account_id, filters, after=page.after_id(), limit=page.limit
    )
    kept, cursor, more = build_page(rows, page.limit, lambda i: [i.id])
    return Page[MappingOut](rows=[mapping_out(i) for i in kept], next_cursor=cursor, has_more=more)


async def get_mapping(
    session: AsyncSession, ctx: AccountContext, mapping_id: uuid.UUID
) -> MappingOut:
    return mapping_out(await mapping_or_404(session, ctx.account_id, mapping_id))


async def create_mapping(
    session: AsyncSession, ctx: AccountContext, body: MappingCreate
) -> MappingOut:
    customer = await customer_or_404(session, ctx.account_id, body.customer_id)
    contact = await contact_of(session, ctx.account_id, customer.id, body.contact_id)
    value = await identity_value(session, ctx.account_id, body.channel, body.value)
    scope = "" if body.channel == IdentityChannel.whatsapp else body.scope.strip()
    if body.channel in (IdentityChannel.messenger, IdentityChannel.instagram) and not scope:
        # A PSID / IGSID means nothing without the Page / Instagram account it belongs to.
        raise InvalidIdentity(
            "Give the Page or Instagram account id as `scope`.",
            details=field_error("scope", "required for this channel"),
        )
    existing = await repository.identity_by_value(
        session, ctx.account_id, body.channel, scope, value
    )
    if existing is not None:
        raise IdentityTaken(details={"mappingId": str(existing.id)})
    identity = await mappings.link(
        session,
        ctx.account_id,
        ctx.actor,
        channel=body.channel,
        scope=scope,
        value=value,
        customer_id=customer.id,
        contact_id=contact.id if contact else None,
        source=IdentitySource.manual,
        display_name=body.display_name,
    )
    if body.channel == IdentityChannel.whatsapp:
        await _merge_chats_of(session, ctx.account_id, [value], ctx.actor)
    return mapping_out(identity)


async def _merge_chats_of(
    session: AsyncSession, account_id: uuid.UUID, jids: Sequence[str], actor: Actor
) -> None:
    """The other JIDs of the chats these JIDs name (`@lid` <-> phone) follow the mapping."""
    for chat in await chats_repo.chats_with_jids(session, account_id, jids):
        await autolink.link_person(
            session, account_id, autolink.person_jids([chat.remote_jid, chat.alt_jid]), actor=actor
        )


async def update_mapping(
    session: AsyncSession,
    ctx: AccountContext,
    mapping_id: uuid.UUID,
    body: MappingUpdate,
    expected_version: str | None,
) -> MappingOut:
    identity = await mapping_or_404(session, ctx.account_id, mapping_id, for_update=True)
    check_version(identity, expected_version)
    given = body.model_fields_set
    customer_id = identity.customer_id
    if body.customer_id is not None and body.customer_id != identity.customer_id:
        customer_id = (await customer_or_404(session, ctx.account_id, body.customer_id)).id
    if "contact_id" in given:
        contact_id = body.contact_id
    else:
        # Moving to another customer leaves the old customer's contact behind.
        contact_id = identity.contact_id if customer_id == identity.customer_id else None
    contact = await contact_of(session, ctx.account_id, customer_id, contact_id)
    display_name = body.display_name if "display_name" in given else identity.display_name
    await mappings.change(
        session,
        identity,
        ctx.actor,
        customer_id=customer_id,
        contact_id=contact.id if contact else None,
        display_name=display_name,
        source=IdentitySource.manual,
    )
    return mapping_out(identity)


async def delete_mapping(session: AsyncSession, ctx: AccountContext, mapping_id: uuid.UUID) -> None:
    identity = await mapping_or_404(session, ctx.account_id, mapping_id, for_update=True)
    await mappings.unlink(session, identity, ctx.actor)


# Chat links ----------------------------------------------------------------------------------


def chat_jids(chat: WaChat) -> list[str]:
    return [phones.normalize_jid(j) for j in (chat.remote_jid, chat.alt_jid) if j]


async def _links(
    session: AsyncSession, account_id: uuid.UUID, identities: Sequence[CrmIdentity]
) -> dict[str, ChatLink]:
    customers = await customers_repo.customers_by_id(
        session, account_id, [i.customer_id for i in identities]
    )
    contacts = await contacts_repo.contacts_by_id(
        session, account_id, [i.contact_id for i in identities if i.contact_id]
    )
    found: dict[str, ChatLink] = {}
    for identity in identities:
        customer = customers.get(identity.customer_id)
        if customer is None:
            continue
        contact = contacts.get(identity.contact_id) if identity.contact_id else None
        found[identity.value] = ChatLink(
            customer=customer_brief(customer),
            contact=contact_brief(contact) if contact else None,
            # Made by the inbox rule: the link is the inbox's, as the operator set it there.
            source="inbox" if identity.source == IdentitySource.inbox else "identity",
        )
    return found


async def links_for_chats(
    session: AsyncSession, account_id: uuid.UUID, chats: Sequence[WaChat]
) -> dict[uuid.UUID, ChatLink]:
    """The account's customer of each chat (by its JIDs, else by its session's inbox link)."""
    if not chats:
        return {}
    jids = [j for chat in chats for j in chat_jids(chat)]
    by_value = await _links(
        session, account_id, await repository.whatsapp_identities(session, account_id, jids)
    )
    inbox = await inbox_links_repo.links_of_sessions(
        session, account_id, [c.session_id for c in chats]
    )
    inbox_customers = await customers_repo.customers_by_id(
        session, account_id, [link.customer_id for link in inbox.values()]
    )
    found: dict[uuid.UUID, ChatLink] = {}
    for chat in chats:
        link = next((by_value[j] for j in chat_jids(chat) if j in by_value), None)
        if link is None and chat.session_id in inbox:
            customer = inbox_customers.get(inbox[chat.session_id].customer_id)
            if customer is not None:
                link = ChatLink(customer=customer_brief(customer), contact=None, source="inbox")
        if link is not None:
            found[chat.id] = link
    return found


async def links_for_messages(
    session: AsyncSession, account_id: uuid.UUID, chat: WaChat, messages: Sequence[WaMessage]
) -> dict[uuid.UUID, ChatLink]:
    """A message's customer is its chat's; in a group, the sender's when the sender is mapped."""
    chat_link = (await links_for_chats(session, account_id, [chat])).get(chat.id)
    found: dict[uuid.UUID, ChatLink] = {}
    if chat.type == ChatType.group:
        senders = {
            m.id: autolink.person_jids([m.sender_jid_resolved, m.sender_jid, m.participant])
            for m in messages
            if not m.from_me
        }
        all_jids = [j for jids in senders.values() for j in jids]
        by_value = await _links(
            session, account_id, await repository.whatsapp_identities(session, account_id, all_jids)
        )
        for message in messages:
            link = next((by_value[j] for j in senders.get(message.id, []) if j in by_value), None)
            if link is not None:
                found[message.id] = link
    for message in messages:
        if message.id not in found and chat_link is not None:
            found[message.id] = chat_link
    return found


async def chat_mappings(
    session: AsyncSession, account_id: uuid.UUID, chat: WaChat
) -> list[CrmIdentity]:
    return await repository.whatsapp_identities(session, account_id, chat_jids(chat))


# Thread links --------------------------------------------------------------------------------


def thread_person(asset: MetaAsset, thread: MetaThread) -> tuple[IdentityChannel, str, str]:
    """The identity of a thread's person: (channel, scope, value)."""
    return CHANNEL_OF_PLATFORM[Platform(asset.platform)], asset.external_id, thread.participant_id


async def links_for_threads(
    session: AsyncSession, account_id: uuid.UUID, asset: MetaAsset, threads: Sequence[MetaThread]
) -> dict[uuid.UUID, ChatLink]:
    """The account's customer of each thread of one asset (by its person's identity, else by
    the Page's / Instagram account's inbox link)."""
    if not threads:
        return {}
    channel = CHANNEL_OF_PLATFORM[Platform(asset.platform)]
    by_value = await _links(
        session,
        account_id,
        await repository.scoped_identities(
            session, account_id, channel, asset.external_id, [t.participant_id for t in threads]
        ),
    )
    inbox = (
        await inbox_links_repo.links_of_sources(session, account_id, channel, [asset.external_id])
    ).get(asset.external_id)
    inbox_link = None
    if inbox is not None:
        customer = await customers_repo.customer(session, account_id, inbox.customer_id)
        if customer is not None:
            inbox_link = ChatLink(customer=customer_brief(customer), contact=None, source="inbox")
    found: dict[uuid.UUID, ChatLink] = {}
    for thread in threads:
        link = by_value.get(thread.participant_id) or inbox_link
        if link is not None:
            found[thread.id] = link
    return found


async def thread_mapping(
    session: AsyncSession, account_id: uuid.UUID, asset: MetaAsset, thread: MetaThread
) -> CrmIdentity | None:
    channel, scope, value = thread_person(asset, thread)
    found = await repository.scoped_identities(session, account_id, channel, scope, [value])
    return found[0] if found else None


# Unmatched -----------------------------------------------------------------------------------


# A row of the unmatched list with its place in the list: (last activity, our row's id).
Keyed = tuple[tuple[datetime, uuid.UUID], UnmatchedChatOut]


async def list_unmatched(
    session: AsyncSession,
    ctx: AccountContext,
    page: PageParams,
    *,
    provider_session_id: str | None,
    include_groups: bool,
    channel: IdentityChannel | None = None,
) -> Page[UnmatchedChatOut]:
    """WhatsApp chats, Page and Instagram threads with messages and no customer, in one list
    (latest activity first, one cursor): each source is read from the cursor and the pages
    merged, as the timeline does."""
    after = page.after_time_and_id()
    chats: list[Keyed] = []
    if channel in (None, IdentityChannel.whatsapp):
        chats = await _unmatched_chats(
            session, ctx, provider_session_id, include_groups, after, page.limit
        )
    threads: list[Keyed] = []
    platforms = [
        PLATFORM_OF_CHANNEL[c]
        for c in (IdentityChannel.messenger, IdentityChannel.instagram)
        if channel in (None, c)
    ]
    if provider_session_id is None and platforms:
        threads = await _unmatched_threads(session, ctx, platforms, after, page.limit)
    rows = sorted(chats + threads, key=lambda keyed: keyed[0], reverse=True)
    kept, cursor, more = build_page(rows, page.limit, lambda keyed: list(keyed[0]))
    return Page[UnmatchedChatOut](rows=[row for _, row in kept], next_cursor=cursor, has_more=more)


async def _unmatched_chats(
    session: AsyncSession,
    ctx: AccountContext,
    provider_session_id: str | None,
    include_groups: bool,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Keyed]:
    session_id = None
    if provider_session_id is not None:
        wa = await chats_repo.visible_session(session, ctx.account_id, provider_session_id)
        if wa is None:
            raise SessionNotFound()
        session_id = wa.id
    types = [ChatType.individual, ChatType.group] if include_groups else [ChatType.individual]
    rows = await chats_repo.unmatched_page(
        session,
        ctx.account_id,
        session_id=session_id,
        chat_types=types,
        after=after,
        limit=limit,
    )
    chat_phones = {
        chat.id: next((p for p in map(phones.phone_of_jid, chat_jids(chat)) if p), None)
        for chat, _ in rows
    }
    numbers = [p for p in chat_phones.values() if p]
    customers = await customers_repo.customers_with_any_phone(session, ctx.account_id, numbers)
    contacts = await contacts_repo.contacts_with_any_phone(session, ctx.account_id, numbers)
    parents = await customers_repo.customers_by_id(
        session, ctx.account_id, [c.customer_id for c in contacts]
    )
    out = []
    for chat, wa in rows:
        phone = chat_phones[chat.id]
        candidates = [
            Candidate(customer=customer_brief(parents[c.customer_id]), contact=contact_brief(c))
            for c in contacts
            if phone and c.phone == phone and c.customer_id in parents
        ]
        with_contact = {c.customer.id for c in candidates}
        candidates += [
            Candidate(customer=customer_brief(c), contact=None)
            for c in customers
            if phone and phone in c.phones and c.id not in with_contact
        ]
        key = (chat.last_message_at or EPOCH, chat.id)
        out.append(
            (
                key,
                UnmatchedChatOut(
                    channel=IdentityChannel.whatsapp,
                    scope="",
                    value=phones.normalize_jid(chat.remote_jid),
                    provider_session_id=wa.provider_session_id,
                    remote_jid=chat.remote_jid,
                    alt_jid=chat.alt_jid,
                    asset_id=None,
                    thread_id=None,
                    type=ChatType(chat.type),
                    name=chat.name,
                    phone=phone,
                    last_message_at=chat.last_message_at,
                    last_message_preview=chat.last_message_preview,
                    unread_count=chat.unread_count,
                    candidates=candidates,
                ),
            )
        )
    return out


async def _unmatched_threads(
    session: AsyncSession,
    ctx: AccountContext,
    platforms: Sequence[str],
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Keyed]:
    rows = await threads_repo.unmatched_page(
        session, ctx.account_id, platforms=platforms, after=after, limit=limit
    )
    out = []
    for thread, asset in rows:
        channel, scope, value = thread_person(asset, thread)
        key = (thread.last_message_at or EPOCH, thread.id)
        out.append(
            (
                key,
                UnmatchedChatOut(
                    channel=channel,
                    scope=scope,
                    value=value,
                    provider_session_id=None,
                    remote_jid=None,
                    alt_jid=None,
                    asset_id=asset.id,
                    thread_id=thread.id,
                    type=ChatType.individual,
                    name=thread.participant_name or thread.participant_username,
                    phone=None,
                    last_message_at=thread.last_message_at,
                    last_message_preview=thread.last_message_preview,
                    unread_count=thread.unread_count,
                    # Meta tells us no phone or e-mail of the person: nothing to suggest.
                    candidates=[],
                ),
            )
        )
    return out


# For other domains ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityMatch:
    customer_id: uuid.UUID
    contact_id: uuid.UUID | None
    mapping_id: uuid.UUID | None


async def find_customer_by_identity(
    session: AsyncSession,
    account_id: uuid.UUID,
    channel: IdentityChannel,
    value: str,
    *,
    scope: str = "",
) -> IdentityMatch | None:
    """The live customer (and contact) an identity of the account names, if any."""
    if channel == IdentityChannel.whatsapp:
        value, scope = phones.normalize_jid(value), ""
    identity = await repository.identity_by_value(session, account_id, channel, scope, value)
    if (
        identity is None
        or await customers_repo.customer(session, account_id, identity.customer_id) is None
    ):
        return None
    return IdentityMatch(identity.customer_id, identity.contact_id, identity.id)


async def accounts_with_customers(
    session: AsyncSession, account_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these accounts have a live customer (only those can match a person)."""
    return await customers_repo.accounts_with_live_customers(session, list(account_ids))


async def find_customers_by_phone(
    session: AsyncSession, account_id: uuid.UUID, raw_phone: str
) -> list[IdentityMatch]:
    """Customers (and contacts) with this phone number, in any format."""
    e164 = phones.normalize_phone(raw_phone, await region(session, account_id))
    if e164 is None:
        return []
    contacts = await contacts_repo.contacts_with_phone(session, account_id, e164)
    customers = await customers_repo.customers_with_phone(session, account_id, e164)
    matches = [IdentityMatch(c.customer_id, c.id, None) for c in contacts]
    seen = {m.customer_id for m in matches}
    return matches + [IdentityMatch(c.id, None, None) for c in customers if c.id not in seen]


async def find_customers_by_email(
    session: AsyncSession, account_id: uuid.UUID, email: str
) -> list[IdentityMatch]:
    """Customers (and contacts) with this e-mail address, in any case."""
    contacts = await contacts_repo.contacts_with_email(session, account_id, email)
    customers = await customers_repo.customers_with_email(session, account_id, email)
    matches = [IdentityMatch(c.customer_id, c.id, None) for c in contacts]
    seen = {m.customer_id for m in matches}
    return matches + [IdentityMatch(c.id, None, None) for c in customers if c.id not in seen]


async def link_identity(
    session: AsyncSession,
    account_id: uuid.UUID,
    channel: IdentityChannel,
    value: str,
    *,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None = None,
    scope: str = "",
    display_name: str | None = None,
    actor: Actor | None = None,
) -> IdentityMatch:
    """Link (or move) an identity to a live customer of the account, as an integration does
    (a Page- or Instagram-scoped id, an external id). Idempotent; audited; emits
    `crm.identity.linked` when something changed. Raises CustomerNotFound/ContactNotFound."""
    actor = actor or Actor.system()
    customer = await customer_or_404(session, account_id, customer_id)
    contact = await contact_of(session, account_id, customer.id, contact_id)
    stored = await identity_value(session, account_id, channel, value)
    scope = "" if channel == IdentityChannel.whatsapp else scope
    existing = await repository.identity_by_value(
        session, account_id, channel, scope, stored, for_update=True
    )
    if existing is None:
        existing = await mappings.link(
            session,
            account_id,
            actor,
            channel=channel,
            scope=scope,
            value=stored,
            customer_id=customer.id,
            contact_id=contact.id if contact else None,
            source=IdentitySource.integration,
            display_name=display_name,
        )
    else:
        await mappings.change(
            session,
            existing,
            actor,
            customer_id=customer.id,
            contact_id=contact.id if contact else None,
            display_name=display_name or existing.display_name,
        )
    return IdentityMatch(existing.customer_id, existing.contact_id, existing.id)
