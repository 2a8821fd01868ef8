"""Inbox links: a whole inbox bound to a customer, so every conversation in it is the
customer's (a dealer's own line, a customer's dedicated session or Page).

The inboxes are the WhatsApp sessions the account sees (`whatsapp`, by providerSessionId) and
its connected Pages (`messenger`) and Instagram accounts (`instagram`), by Meta's id. Binding
or clearing a Page or an Instagram account also runs the inbox rule over its people
(`autolink.follow_inbox_link`, a job).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.core.versioning import check_version
from ticaret.crm.errors import InboxSourceNotFound
from ticaret.crm.repository import chats as chats_repo
from ticaret.crm.repository import customers as customers_repo
from ticaret.crm.repository import inbox_links as repository
from ticaret.crm.repository import threads as threads_repo
from ticaret.crm.repository.threads import CHANNEL_OF_PLATFORM, PLATFORM_OF_CHANNEL
from ticaret.crm.schemas.inbox_links import Access, InboxLinkCleared, InboxLinkOut, InboxLinkSet
from ticaret.crm.service.common import record
from ticaret.crm.service.customers import customer_or_404, unlink_inbox
from ticaret.crm.service.views import customer_brief
from ticaret.crm.tasks import link_inbox_threads
from ticaret.models import (
    AuditAction,
    AuditEntity,
    CrmCustomer,
    CrmInboxLink,
    IdentityChannel,
    InboxChannel,
    MetaAsset,
    Platform,
    WaSession,
)


@dataclass(frozen=True)
class Inbox:
    """An inbox the account sees: a WhatsApp session or a connected Page / Instagram account."""

    id: uuid.UUID  # our row's id: the sources list's order and cursor
    channel: InboxChannel
    source_id: str
    name: str
    access: Access
    session_id: uuid.UUID | None = None
    asset_id: uuid.UUID | None = None


def _of_session(account_id: uuid.UUID, wa: WaSession) -> Inbox:
    return Inbox(
        id=wa.id,
        channel=InboxChannel.whatsapp,
        source_id=wa.provider_session_id,
        name=wa.name,
        access="owner" if wa.account_id == account_id else "shared",
        session_id=wa.id,
    )


def _of_asset(asset: MetaAsset) -> Inbox:
    return Inbox(
        id=asset.id,
        channel=InboxChannel(CHANNEL_OF_PLATFORM[Platform(asset.platform)]),
        source_id=asset.external_id,
        name=asset.name,
        access="owner",
        asset_id=asset.id,
    )


def _out(
    inbox: Inbox, link: CrmInboxLink | None, customers: dict[uuid.UUID, CrmCustomer]
) -> InboxLinkOut:
    customer = customers.get(link.customer_id) if link is not None else None
    return InboxLinkOut(
        channel=inbox.channel,
        source_id=inbox.source_id,
        name=inbox.name,
        access=inbox.access,
        asset_id=inbox.asset_id,
        customer=customer_brief(customer) if customer is not None else None,
        linked_at=link.updated_at if link is not None and customer is not None else None,
        entity_version=link.entity_version if link is not None else "0",
    )


async def _source(
    session: AsyncSession, ctx: AccountContext, channel: InboxChannel, source_id: str
) -> Inbox:
    if channel == InboxChannel.whatsapp:
        wa = await chats_repo.visible_session(session, ctx.account_id, source_id)
        if wa is not None:
            return _of_session(ctx.account_id, wa)
    else:
        platform = PLATFORM_OF_CHANNEL[IdentityChannel(channel)]
        asset = await threads_repo.live_asset(session, ctx.account_id, platform, source_id)
        if asset is not None:
            return _of_asset(asset)
    raise InboxSourceNotFound()


async def _links_of(
    session: AsyncSession, account_id: uuid.UUID, inboxes: list[Inbox]
) -> dict[tuple[str, str], CrmInboxLink]:
    found: dict[tuple[str, str], CrmInboxLink] = {}
    for channel in InboxChannel:
        sources = [i.source_id for i in inboxes if i.channel == channel]
        for source_id, link in (
            await repository.links_of_sources(session, account_id, channel, sources)
        ).items():
            found[(channel, source_id)] = link
    return found


async def list_sources(
    session: AsyncSession, ctx: AccountContext, page: PageParams
) -> Page[InboxLinkOut]:
    """WhatsApp sessions, Pages and Instagram accounts, newest first, one cursor."""
    after = page.after_id()
    sessions = await chats_repo.visible_sessions(
        session, ctx.account_id, after=after, limit=page.limit
    )
    assets = await threads_repo.live_assets(session, ctx.account_id, after=after, limit=page.limit)
    inboxes = sorted(
        [_of_session(ctx.account_id, s) for s in sessions] + [_of_asset(a) for a in assets],
        key=lambda i: i.id,
        reverse=True,
    )
    kept, cursor, more = build_page(inboxes, page.limit, lambda i: [i.id])
    links = await _links_of(session, ctx.account_id, kept)
    customers = await customers_repo.customers_by_id(
        session, ctx.account_id, [link.customer_id for link in links.values()]
    )
    return Page[InboxLinkOut](
        rows=[_out(i, links.get((i.channel, i.source_id)), customers) for i in kept],
        next_cursor=cursor,
        has_more=more,
    )


async def get_link(
    session: AsyncSession, ctx: AccountContext, channel: InboxChannel, source_id: str
) -> InboxLinkOut:
    inbox = await _source(session, ctx, channel, source_id)
    link = await repository.link(session, ctx.account_id, channel, source_id)
    customers = await customers_repo.customers_by_id(
        session, ctx.account_id, [link.customer_id] if link else []
    )
    return _out(inbox, link, customers)


def _follow(
    session: AsyncSession, ctx: AccountContext, channel: InboxChannel, source_id: str
) -> None:
    if channel != InboxChannel.whatsapp:
        link_inbox_threads.after_commit(session, str(ctx.account_id), channel.value, source_id)


async def set_link(
    session: AsyncSession,
    ctx: AccountContext,
    channel: InboxChannel,
    source_id: str,
    body: InboxLinkSet,
    expected_version: str | None,
) -> InboxLinkOut:
    inbox = await _source(session, ctx, channel, source_id)
    link = await repository.link(session, ctx.account_id, channel, source_id, for_update=True)
    if expected_version is not None:
        check_version(link or _NoLink(), expected_version)
    if body.customer_id is None:
        if link is not None:
            await unlink_inbox(session, ctx.actor, channel, source_id, link, link.customer_id)
            _follow(session, ctx, channel, source_id)
        return await get_link(session, ctx, channel, source_id)
    customer = await customer_or_404(session, ctx.account_id, body.customer_id)
    if link is None:
        link = CrmInboxLink(
            account_id=ctx.account_id,
            channel=channel,
            source_id=source_id,
            session_id=inbox.session_id,
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
        _follow(session, ctx, channel, source_id)
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
        _follow(session, ctx, channel, source_id)
    return _out(inbox, link, {customer.id: customer})


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
    _follow(session, ctx, channel, source_id)
    return InboxLinkCleared(cleared=True)


async def customer_links(
    session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID, page: PageParams
) -> Page[InboxLinkOut]:
    customer = await customer_or_404(session, ctx.account_id, customer_id)
    rows = await repository.links_page_of_customer(
        session, ctx.account_id, customer.id, after=page.after_id(), limit=page.limit
    )
    kept, cursor, more = build_page(rows, page.limit, lambda link: [link.id])
    # Only inboxes the account still sees (a share may have ended, a Page been disconnected).
    sessions = {s.id: s for s in await chats_repo.visible_sessions(session, ctx.account_id)}
    assets = {
        (CHANNEL_OF_PLATFORM[Platform(a.platform)].value, a.external_id): a
        for a in await threads_repo.live_assets(session, ctx.account_id)
    }
    out = []
    for link in kept:
        if link.session_id is not None and link.session_id in sessions:
            inbox = _of_session(ctx.account_id, sessions[link.session_id])
        elif (link.channel, link.source_id) in assets:
            inbox = _of_asset(assets[(link.channel, link.source_id)])
        else:
            continue
        out.append(_out(inbox, link, {customer.id: customer}))
    return Page[InboxLinkOut](rows=out, next_cursor=cursor, has_more=more)
