"""The CRM's side of a Page or Instagram DM thread: its customer link
(`/meta/assets/{assetId}/threads/{threadId}/customer-link`, and the same under
`/instagram/accounts/{igAccountId}`), as `chats.py` is for a WhatsApp chat.

The link is an identity mapping of the thread's person: the PSID (or IGSID) within its Page
(or Instagram account). Operators make it here or through `/crm/identity-mappings`; the inbox
rule (`autolink.py`) makes it for a Page bound to a customer.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.crm.errors import ChatAlreadyLinked
from ticaret.crm.repository import identities as identities_repo
from ticaret.crm.schemas.contacts import ContactCreate
from ticaret.crm.schemas.customers import CustomerCreate
from ticaret.crm.schemas.identities import (
    CustomerFromThread,
    CustomerFromThreadOut,
    ThreadLinkOut,
    ThreadLinkSet,
)
from ticaret.crm.service import contacts, customers, identities, mappings
from ticaret.crm.service.views import mapping_out
from ticaret.models import IdentitySource, MetaAsset, MetaThread
from ticaret.social.service.common import asset_or_404
from ticaret.social.service.messages import thread_or_404


async def _thread(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    thread_id: uuid.UUID,
) -> tuple[MetaAsset, MetaThread]:
    asset = await asset_or_404(session, ctx, platform, asset_id)
    return asset, await thread_or_404(session, ctx, asset, thread_id)


def thread_name(thread: MetaThread) -> str | None:
    if thread.participant_name:
        return thread.participant_name
    return f"@{thread.participant_username}" if thread.participant_username else None


async def _link_out(
    session: AsyncSession, account_id: uuid.UUID, asset: MetaAsset, thread: MetaThread
) -> ThreadLinkOut:
    link = (await identities.links_for_threads(session, account_id, asset, [thread])).get(thread.id)
    mapping = await identities.thread_mapping(session, account_id, asset, thread)
    channel, scope, value = identities.thread_person(asset, thread)
    return ThreadLinkOut(
        asset_id=asset.id,
        thread_id=thread.id,
        channel=channel,
        scope=scope,
        participant_id=value,
        status="matched" if link else "unmatched",
        link=link,
        mapping=mapping_out(mapping) if mapping else None,
    )


async def get_customer_link(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    thread_id: uuid.UUID,
) -> ThreadLinkOut:
    asset, thread = await _thread(session, ctx, platform, asset_id, thread_id)
    return await _link_out(session, ctx.account_id, asset, thread)


async def set_customer_link(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    thread_id: uuid.UUID,
    body: ThreadLinkSet,
) -> ThreadLinkOut:
    """The thread's person is mapped to the customer (and contact): a mapping of another
    customer moves (audited); one the inbox rule made becomes the operator's."""
    asset, thread = await _thread(session, ctx, platform, asset_id, thread_id)
    customer = await customers.customer_or_404(session, ctx.account_id, body.customer_id)
    contact_id = None
    if body.contact_id is not None:
        contact = await identities.contact_of(session, ctx.account_id, customer.id, body.contact_id)
        contact_id = contact.id if contact else None
    channel, scope, value = identities.thread_person(asset, thread)
    await identities_repo.lock_person(session, ctx.account_id, f"{channel}:{scope}:{value}")
    existing = await identities_repo.identity_by_value(
        session, ctx.account_id, channel, scope, value, for_update=True
    )
    if existing is not None:
        await mappings.change(
            session,
            existing,
            ctx.actor,
            customer_id=customer.id,
            contact_id=contact_id,
            display_name=existing.display_name or thread_name(thread),
            source=IdentitySource.manual,
        )
    else:
        await mappings.link(
            session,
            ctx.account_id,
            ctx.actor,
            channel=channel,
            scope=scope,
            value=value,
            customer_id=customer.id,
            contact_id=contact_id,
            source=IdentitySource.manual,
            display_name=thread_name(thread),
        )
    return await _link_out(session, ctx.account_id, asset, thread)


async def clear_customer_link(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    thread_id: uuid.UUID,
) -> ThreadLinkOut:
    """The person is unmapped (a Page bound to a customer keeps the thread its: clear that
    inbox link at `/crm/inbox-links`)."""
    asset, thread = await _thread(session, ctx, platform, asset_id, thread_id)
    channel, scope, value = identities.thread_person(asset, thread)
    existing = await identities_repo.identity_by_value(
        session, ctx.account_id, channel, scope, value, for_update=True
    )
    if existing is not None:
        await mappings.unlink(session, existing, ctx.actor)
    return await _link_out(session, ctx.account_id, asset, thread)


async def create_customer_from_thread(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    thread_id: uuid.UUID,
    body: CustomerFromThread,
) -> CustomerFromThreadOut:
    """A new customer (and contact) named after the thread's person, linked to the thread."""
    asset, thread = await _thread(session, ctx, platform, asset_id, thread_id)
    if await identities.thread_mapping(session, ctx.account_id, asset, thread) is not None:
        raise ChatAlreadyLinked("This thread is linked to a customer already; PUT changes it.")
    title = body.title or thread_name(thread) or thread.participant_id
    customer = await customers.create_customer(
        session,
        ctx,
        CustomerCreate(title=title, type=body.type, status=body.status, tags=body.tags),
    )
    contact_id = None
    if body.create_contact:
        given = body.contact
        contact = await contacts.create_contact(
            session,
            ctx,
            customer.id,
            ContactCreate(
                display_name=(given.display_name if given and given.display_name else None)
                or thread_name(thread)
                or title,
                email=given.email if given else None,
                title=given.title if given else None,
            ),
        )
        contact_id = contact.id
    link = await set_customer_link(
        session,
        ctx,
        platform,
        asset_id,
        thread_id,
        ThreadLinkSet(customer_id=customer.id, contact_id=contact_id),
    )
    return CustomerFromThreadOut(link=link, customer_id=customer.id, contact_id=contact_id)
