"""Inbox links: a whole inbox bound to a customer, so every chat in it is the customer's
(a dealer's own line, a customer's dedicated session). WhatsApp sessions today; Pages and
Instagram accounts join as more `InboxChannel`s."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.core.versioning import check_version
from ticaret.crm.errors import InboxSourceNotFound
from ticaret.crm.repository import chats as chats_repo
from ticaret.crm.repository import customers as customers_repo
from ticaret.crm.repository import inbox_links as repository
from ticaret.crm.schemas.inbox_links import InboxLinkCleared, InboxLinkOut, InboxLinkSet
from ticaret.crm.service.common import record
from ticaret.crm.service.customers import customer_or_404, unlink_inbox
from ticaret.crm.service.views import customer_brief
from ticaret.models import (
    AuditAction,
    AuditEntity,
    CrmCustomer,
    CrmInboxLink,
    InboxChannel,
    WaSession,
)


def _out(
    account_id: uuid.UUID,
    wa: WaSession,
    link: CrmInboxLink | None,
    customers: dict[uuid.UUID, CrmCustomer],
) -> InboxLinkOut:
    customer = customers.get(link.customer_id) if link is not None else None
    return InboxLinkOut(
        channel=InboxChannel.whatsapp,
        source_id=wa.provider_session_id,
        name=wa.name,
        access="owner" if wa.account_id == account_id else "shared",
        customer=customer_brief(customer) if customer is not None else None,
        linked_at=link.updated_at if link is not None and customer is not None else None,
        entity_version=link.entity_version if link is not None else "0",
    )


async def _source(
    session: AsyncSession, ctx: AccountContext, channel: InboxChannel, source_id: str
) -> WaSession:
    wa = await chats_repo.visible_session(session, ctx.account_id, source_id)
    if wa is None or channel != InboxChannel.whatsapp:
        raise InboxSourceNotFound()
    return wa


async def list_sources(
    session: AsyncSession, ctx: AccountContext, page: PageParams
) -> Page[InboxLinkOut]:
    rows = await chats_repo.visible_sessions(
        session, ctx.account_id, after=page.after_id(), limit=page.limit
    )
    kept, cursor, more = build_page(rows, page.limit, lambda s: [s.id])
    links = await repository.links_of_sources(
        session, ctx.account_id, InboxChannel.whatsapp, [s.provider_session_id for s in kept]
    )
    customers = await customers_repo.customers_by_id(
        session, ctx.account_id, [link.customer_id for link in links.values()]
    )
    return Page[InboxLinkOut](
        rows=[_out(ctx.account_id, s, links.get(s.provider_session_id), customers) for s in kept],
        next_cursor=cursor,
        has_more=more,
    )


async def get_link(
    session: AsyncSession, ctx: AccountContext, channel: InboxChannel, source_id: str
) -> InboxLinkOut:
    wa = await _source(session, ctx, channel, source_id)
    link = await repository.link(session, ctx.account_id, channel, source_id)
    customers = await customers_repo.customers_by_id(
        session, ctx.account_id, [link.customer_id] if link else []
    )
    return _out(ctx.account_id, wa, link, customers)


async def set_link(
    session: AsyncSession,
    ctx: AccountContext,
    channel: InboxChannel,
    source_id: str,
    body: InboxLinkSet,
    expected_version: str | None,
) -> InboxLinkOut:
    wa = await _source(session, ctx, channel, source_id)
    link = await repository.link(session, ctx.account_id, channel, source_id, for_update=True)
    if expected_version is not None:
        check_version(link or _NoLink(), expected_version)
    if body.customer_id is None:
        if link is not None:
            await unlink_inbox(session, ctx.actor, channel, source_id, link, link.customer_id)
        return await get_link(session, ctx, channel, source_id)
    customer = await customer_or_404(session, ctx.account_id, body.customer_id)
    if link is None:
        link = CrmInboxLink(
            account_id=ctx.account_id,
            channel=channel,
            source_id=source_id,
            session_id=wa.id,
            customer_id=customer.id,
        )
        repository.add(session, link)
        await session.flush()
        record(
            session,
            account_id=ctx.account_id,
            customer_id=customer.id,
            entity=AuditEntity.inbox_link,
            entity_id=link.id,
            action=AuditAction.created,
            changes={
                "channel": {"before": None, "after": channel},
                "sourceId": {"before": None, "after": source_id},
            },
            actor=ctx.actor,
        )
    elif link.customer_id != customer.id:
        previous = link.customer_id
        link.customer_id = customer.id
        await session.flush()
        for audited in (previous, customer.id):
            record(
                session,
                account_id=ctx.account_id,
                customer_id=audited,
                entity=AuditEntity.inbox_link,
                entity_id=link.id,
                action=AuditAction.updated,
                changes={"customerId": {"before": str(previous), "after": str(customer.id)}},
                actor=ctx.actor,
            )
    return _out(ctx.account_id, wa, link, {customer.id: customer})


class _NoLink:
    entity_version = "0"


async def clear_link(
    session: AsyncSession, ctx: AccountContext, channel: InboxChannel, source_id: str
) -> InboxLinkCleared:
    await _source(session, ctx, channel, source_id)
    link = await repository.link(session, ctx.account_id, channel, source_id, for_update=True)
    if link is None:
        return InboxLinkCleared(cleared=False)
    await unlink_inbox(session, ctx.actor, channel, source_id, link, link.customer_id)
    return InboxLinkCleared(cleared=True)


async def customer_links(
    session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID, page: PageParams
) -> Page[InboxLinkOut]:
    customer = await customer_or_404(session, ctx.account_id, customer_id)
    rows = await repository.links_page_of_customer(
        session, ctx.account_id, customer.id, after=page.after_id(), limit=page.limit
    )
    kept, cursor, more = build_page(rows, page.limit, lambda link: [link.id])
    # Only inboxes the account still sees (a share may have ended since).
    sessions = {s.id: s for s in await chats_repo.visible_sessions(session, ctx.account_id)}
    out = [
        _out(ctx.account_id, sessions[link.session_id], link, {customer.id: customer})
        for link in kept
        if link.session_id in sessions
    ]
    return Page[InboxLinkOut](rows=out, next_cursor=cursor, has_more=more)
