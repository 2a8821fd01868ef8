"""The CRM's side of one WhatsApp chat: its assignment, its messages' assignments and its
customer link (`/wa/chats/{remoteJid}/assignment|customer-link`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core import phones
from ticaret.core.auth import AccountContext
from ticaret.crm.errors import ChatAlreadyLinked, ContactOfAnotherCustomer, field_error
from ticaret.crm.repository import chats as chats_repo
from ticaret.crm.repository import identities as identities_repo
from ticaret.crm.schemas.assignments import AssignmentOut, AssignmentSet
from ticaret.crm.schemas.contacts import ContactCreate
from ticaret.crm.schemas.customers import CustomerCreate
from ticaret.crm.schemas.identities import (
    CustomerFromChat,
    CustomerFromChatOut,
    CustomerLinkOut,
    CustomerLinkSet,
)
from ticaret.crm.service import assignments, contacts, customers, identities, mappings
from ticaret.crm.service.views import mapping_out
from ticaret.models import ChatType, IdentityChannel, IdentitySource, WaChat, WaMessage
from ticaret.wa.errors import MessageNotFound
from ticaret.wa.service import chats as wa_chats
from ticaret.wa.service.access import WaContext, resolve_wa


async def _chat(session: AsyncSession, wa_ctx: WaContext, remote_jid: str) -> WaChat:
    # The WhatsApp domain's lookup: any spelling of the person's JID, or its `@lid`, names
    # the one chat they have.
    return await wa_chats.chat_row(session, wa_ctx, remote_jid)


async def _message(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str
) -> WaMessage:
    jid = await wa_chats.chat_jid(session, wa_ctx, remote_jid)
    message = await chats_repo.message(session, wa_ctx.wa.id, jid, message_id)
    if message is None:
        raise MessageNotFound()
    return message


# Assignments ---------------------------------------------------------------------------------


async def get_chat_assignment(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str
) -> AssignmentOut:
    chat = await _chat(session, wa_ctx, remote_jid)
    return await assignments.chat_assignment_out(session, wa_ctx.account_id, wa_ctx.wa, chat)


async def set_chat_assignment(
    session: AsyncSession,
    ctx: AccountContext,
    remote_jid: str,
    provider_session_id: str | None,
    body: AssignmentSet,
    expected_version: str | None,
) -> AssignmentOut:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    chat = await _chat(session, wa_ctx, remote_jid)
    target = await assignments.valid_target(
        session, ctx.account_id, body.assignee_type, body.assignee_id
    )
    return await assignments.set_chat_assignment(
        session, ctx, wa_ctx.wa, chat, target, body.reason, expected_version
    )


async def clear_chat_assignment(
    session: AsyncSession,
    ctx: AccountContext,
    remote_jid: str,
    provider_session_id: str | None,
    reason: str | None,
    expected_version: str | None,
) -> AssignmentOut:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id)
    chat = await _chat(session, wa_ctx, remote_jid)
    return await assignments.set_chat_assignment(
        session, ctx, wa_ctx.wa, chat, None, reason, expected_version
    )


async def get_message_assignment(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str
) -> AssignmentOut:
    message = await _message(session, wa_ctx, remote_jid, message_id)
    return await assignments.message_assignment_out(session, wa_ctx.account_id, wa_ctx.wa, message)


async def set_message_assignment(
    session: AsyncSession,
    ctx: AccountContext,
    remote_jid: str,
    message_id: str,
    provider_session_id: str | None,
    body: AssignmentSet,
    expected_version: str | None,
) -> AssignmentOut:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    message = await _message(session, wa_ctx, remote_jid, message_id)
    target = await assignments.valid_target(
        session, ctx.account_id, body.assignee_type, body.assignee_id
    )
    return await assignments.set_message_assignment(
        session, ctx, wa_ctx.wa, message, target, body.reason, expected_version
    )


async def clear_message_assignment(
    session: AsyncSession,
    ctx: AccountContext,
    remote_jid: str,
    message_id: str,
    provider_session_id: str | None,
    reason: str | None,
    expected_version: str | None,
) -> AssignmentOut:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id)
    message = await _message(session, wa_ctx, remote_jid, message_id)
    return await assignments.set_message_assignment(
        session, ctx, wa_ctx.wa, message, None, reason, expected_version
    )


# Customer links ------------------------------------------------------------------------------


async def _link_out(session: AsyncSession, wa_ctx: WaContext, chat: WaChat) -> CustomerLinkOut:
    link = (await identities.links_for_chats(session, wa_ctx.account_id, [chat])).get(chat.id)
    mapped = await identities.chat_mappings(session, wa_ctx.account_id, chat)
    return CustomerLinkOut(
        provider_session_id=wa_ctx.wa.provider_session_id,
        remote_jid=chat.remote_jid,
        alt_jid=chat.alt_jid,
        status="matched" if link else "unmatched",
        link=link,
        mappings=[mapping_out(m) for m in mapped],
    )


async def get_customer_link(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str
) -> CustomerLinkOut:
    return await _link_out(session, wa_ctx, await _chat(session, wa_ctx, remote_jid))


async def set_customer_link(
    session: AsyncSession,
    ctx: AccountContext,
    remote_jid: str,
    provider_session_id: str | None,
    body: CustomerLinkSet,
) -> CustomerLinkOut:
    """Every JID of the chat (its own, and the phone JID behind a `@lid`) is mapped to the
    customer (and contact): mappings of other customers move, with their audit entries."""
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    chat = await _chat(session, wa_ctx, remote_jid)
    customer = await customers.customer_or_404(session, ctx.account_id, body.customer_id)
    contact_id = None
    if body.contact_id is not None:
        contact = await contacts.contact_or_404(session, ctx.account_id, body.contact_id)
        if contact.customer_id != customer.id:
            raise ContactOfAnotherCustomer(
                details=field_error("contactId", "a contact of another customer")
            )
        contact_id = contact.id
    jids = identities.chat_jids(chat)
    existing = {
        i.value: i
        for i in await identities_repo.whatsapp_identities(
            session, ctx.account_id, jids, for_update=True
        )
    }
    for jid in jids:
        if jid in existing:
            await mappings.change(
                session,
                existing[jid],
                ctx.actor,
                customer_id=customer.id,
                contact_id=contact_id,
                display_name=existing[jid].display_name or chat.name,
                source=IdentitySource.manual,
            )
        else:
            await mappings.link(
                session,
                ctx.account_id,
                ctx.actor,
                channel=IdentityChannel.whatsapp,
                scope="",
                value=jid,
                customer_id=customer.id,
                contact_id=contact_id,
                source=IdentitySource.manual,
                display_name=chat.name,
            )
    return await _link_out(session, wa_ctx, chat)


async def clear_customer_link(
    session: AsyncSession, ctx: AccountContext, remote_jid: str, provider_session_id: str | None
) -> CustomerLinkOut:
    """The chat's JIDs are unmapped (a link through the whole inbox stays: clear it there)."""
    wa_ctx = await resolve_wa(session, ctx, provider_session_id)
    chat = await _chat(session, wa_ctx, remote_jid)
    for identity in await identities_repo.whatsapp_identities(
        session, ctx.account_id, identities.chat_jids(chat), for_update=True
    ):
        await mappings.unlink(session, identity, ctx.actor)
    return await _link_out(session, wa_ctx, chat)


async def create_customer_from_chat(
    session: AsyncSession,
    ctx: AccountContext,
    remote_jid: str,
    provider_session_id: str | None,
    body: CustomerFromChat,
) -> CustomerFromChatOut:
    """A new customer (and contact) prefilled from the chat: its name and phone."""
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    chat = await _chat(session, wa_ctx, remote_jid)
    if await identities.chat_mappings(session, ctx.account_id, chat):
        raise ChatAlreadyLinked()
    phone = next((p for p in map(phones.phone_of_jid, identities.chat_jids(chat)) if p), None)
    title = body.title or chat.name or phone or chat.remote_jid
    customer = await customers.create_customer(
        session,
        ctx,
        CustomerCreate(
            title=title,
            type=body.type,
            status=body.status,
            tags=body.tags,
            phones=[phone] if phone and chat.type != ChatType.group else [],
        ),
    )
    contact_id = None
    if body.create_contact and chat.type != ChatType.group:
        given = body.contact
        contact = await contacts.create_contact(
            session,
            ctx,
            customer.id,
            ContactCreate(
                display_name=(given.display_name if given and given.display_name else None)
                or chat.name
                or title,
                phone=phone,
                email=given.email if given else None,
                title=given.title if given else None,
            ),
        )
        contact_id = contact.id
    link = await set_customer_link(
        session,
        ctx,
        remote_jid,
        wa_ctx.wa.provider_session_id,
        CustomerLinkSet(customer_id=customer.id, contact_id=contact_id),
    )
    return CustomerFromChatOut(link=link, customer_id=customer.id, contact_id=contact_id)
