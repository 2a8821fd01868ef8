"""What the CRM reads of Pages and Instagram accounts: the account's live assets, their DM
threads, the threads no customer is linked to. An asset belongs to one account, so every
statement is scoped by it (jobs that hold ids of rows we wrote look them up by key and say so).

A thread's person is the identity (channel, scope, value): `messenger` or `instagram`, the
Page / Instagram account id Meta scopes the person's id to, and that PSID / IGSID."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import (
    CrmCustomer,
    CrmIdentity,
    CrmInboxLink,
    IdentityChannel,
    MetaAsset,
    MetaThread,
    Platform,
)

CHANNEL_OF_PLATFORM = {
    Platform.facebook: IdentityChannel.messenger,
    Platform.instagram: IdentityChannel.instagram,
}
PLATFORM_OF_CHANNEL = {channel: platform for platform, channel in CHANNEL_OF_PLATFORM.items()}


def _channel_of(platform: ColumnElement[str]) -> ColumnElement[str]:
    """The identity / inbox channel of an asset's platform, in SQL."""
    return case(
        (platform == literal(Platform.facebook.value), literal(IdentityChannel.messenger.value)),
        else_=literal(IdentityChannel.instagram.value),
    )


def _live(customer_id: object) -> ColumnElement[bool]:
    return exists().where(CrmCustomer.id == customer_id, CrmCustomer.deleted_at.is_(None))


# Assets ------------------------------------------------------------------------------------


async def live_asset(
    session: AsyncSession, account_id: uuid.UUID, platform: str, external_id: str
) -> MetaAsset | None:
    return await session.scalar(
        select(MetaAsset).where(
            MetaAsset.account_id == account_id,
            MetaAsset.platform == platform,
            MetaAsset.external_id == external_id,
            MetaAsset.deleted_at.is_(None),
        )
    )


async def live_assets(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    after: uuid.UUID | None = None,
    limit: int | None = None,
) -> list[MetaAsset]:
    """The account's connected Pages and Instagram accounts, newest first."""
    stmt = select(MetaAsset).where(
        MetaAsset.account_id == account_id, MetaAsset.deleted_at.is_(None)
    )
    if after is not None:
        stmt = stmt.where(MetaAsset.id < after)
    stmt = stmt.order_by(MetaAsset.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit + 1)
    return list(await session.scalars(stmt))


async def asset_by_id(session: AsyncSession, asset_id: uuid.UUID) -> MetaAsset | None:
    """By primary key alone: for jobs holding the id of an asset we wrote."""
    return await session.get(MetaAsset, asset_id)


async def thread_by_id(session: AsyncSession, thread_id: uuid.UUID) -> MetaThread | None:
    """By primary key alone: for jobs holding the id of a thread we wrote."""
    return await session.get(MetaThread, thread_id)


# Threads -----------------------------------------------------------------------------------


async def threads_of_people(
    session: AsyncSession,
    account_id: uuid.UUID,
    people: Sequence[tuple[str, str, str]],
) -> list[MetaThread]:
    """Threads of the account's live assets with these (platform, asset external id,
    participant) people."""
    if not people:
        return []
    return list(
        await session.scalars(
            select(MetaThread)
            .join(MetaAsset, MetaAsset.id == MetaThread.asset_id)
            .where(
                MetaThread.account_id == account_id,
                MetaAsset.deleted_at.is_(None),
                tuple_(MetaAsset.platform, MetaAsset.external_id, MetaThread.participant_id).in_(
                    list(set(people))
                ),
            )
        )
    )


async def threads_by_id(
    session: AsyncSession, account_id: uuid.UUID, thread_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, MetaThread]:
    if not thread_ids:
        return {}
    rows = await session.scalars(
        select(MetaThread).where(
            MetaThread.account_id == account_id, MetaThread.id.in_(list(set(thread_ids)))
        )
    )
    return {row.id: row for row in rows}


async def unlinked_threads(
    session: AsyncSession,
    account_id: uuid.UUID,
    platform: str,
    external_id: str,
    limit: int,
) -> list[MetaThread]:
    """Threads of the account's live asset for this Page / Instagram account whose person
    has no identity in the account (any customer's, live or not)."""
    channel = CHANNEL_OF_PLATFORM[Platform(platform)]
    return list(
        await session.scalars(
            select(MetaThread)
            .join(MetaAsset, MetaAsset.id == MetaThread.asset_id)
            .where(
                MetaThread.account_id == account_id,
                MetaAsset.platform == platform,
                MetaAsset.external_id == external_id,
                MetaAsset.deleted_at.is_(None),
                ~exists().where(
                    CrmIdentity.account_id == account_id,
                    CrmIdentity.channel == channel,
                    CrmIdentity.scope == external_id,
                    CrmIdentity.value == MetaThread.participant_id,
                ),
            )
            .order_by(MetaThread.id)
            .limit(limit)
        )
    )


def thread_is_linked(account_id: uuid.UUID) -> ColumnElement[bool]:
    """The thread (a `meta_threads` row joined to its `meta_assets` row in the enclosing
    query) belongs to one of the account's customers: its person is mapped, or its whole
    Page / Instagram account is bound."""
    channel = _channel_of(MetaAsset.platform.expression)
    by_identity = exists().where(
        CrmIdentity.account_id == account_id,
        CrmIdentity.channel == channel,
        CrmIdentity.scope == MetaAsset.external_id,
        CrmIdentity.value == MetaThread.participant_id,
        _live(CrmIdentity.customer_id),
    )
    by_inbox = exists().where(
        CrmInboxLink.account_id == account_id,
        CrmInboxLink.channel == channel,
        CrmInboxLink.source_id == MetaAsset.external_id,
        _live(CrmInboxLink.customer_id),
    )
    return or_(by_identity, by_inbox)


async def unmatched_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    platforms: Sequence[str],
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[MetaThread, MetaAsset]]:
    """Threads with messages and no customer in this account, latest activity first."""
    if not platforms:
        return []
    last: ColumnElement[datetime] = literal_column(
        "coalesce(meta_threads.last_message_at, 'epoch'::timestamptz)"
    )
    stmt = (
        select(MetaThread, MetaAsset)
        .join(MetaAsset, MetaAsset.id == MetaThread.asset_id)
        .where(
            MetaThread.account_id == account_id,
            MetaAsset.deleted_at.is_(None),
            MetaAsset.platform.in_(list(platforms)),
            MetaThread.last_message_at.is_not(None),
            ~thread_is_linked(account_id),
        )
    )
    if after is not None:
        stmt = stmt.where(
            and_(tuple_(last, MetaThread.id) < tuple_(literal(after[0]), literal(after[1])))
        )
    stmt = stmt.order_by(last.desc(), MetaThread.id.desc()).limit(limit + 1)
    rows = await session.execute(stmt)
    return [(thread, asset) for thread, asset in rows.tuples()]
