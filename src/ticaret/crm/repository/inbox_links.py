"""Inbox links: a whole inbox (a WhatsApp session) bound to a customer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import CrmCustomer, CrmInboxLink


def _live_customer() -> object:
    return (
        select(CrmCustomer.id)
        .where(CrmCustomer.id == CrmInboxLink.customer_id, CrmCustomer.deleted_at.is_(None))
        .exists()
    )


async def link(
    session: AsyncSession,
    account_id: uuid.UUID,
    channel: str,
    source_id: str,
    *,
    for_update: bool = False,
) -> CrmInboxLink | None:
    stmt = select(CrmInboxLink).where(
        CrmInboxLink.account_id == account_id,
        CrmInboxLink.channel == channel,
        CrmInboxLink.source_id == source_id,
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def links_of_sources(
    session: AsyncSession, account_id: uuid.UUID, channel: str, source_ids: Sequence[str]
) -> dict[str, CrmInboxLink]:
    if not source_ids:
        return {}
    rows = await session.scalars(
        select(CrmInboxLink).where(
            CrmInboxLink.account_id == account_id,
            CrmInboxLink.channel == channel,
            CrmInboxLink.source_id.in_(list(source_ids)),
            _live_customer(),  # type: ignore[arg-type]
        )
    )
    return {row.source_id: row for row in rows}


async def links_of_sessions(
    session: AsyncSession, account_id: uuid.UUID, session_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CrmInboxLink]:
    if not session_ids:
        return {}
    rows = await session.scalars(
        select(CrmInboxLink).where(
            CrmInboxLink.account_id == account_id,
            CrmInboxLink.session_id.in_(list(set(session_ids))),
            _live_customer(),  # type: ignore[arg-type]
        )
    )
    return {row.session_id: row for row in rows if row.session_id is not None}


async def links_of_customer(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> list[CrmInboxLink]:
    stmt = (
        select(CrmInboxLink)
        .where(CrmInboxLink.account_id == account_id, CrmInboxLink.customer_id == customer_id)
        .order_by(CrmInboxLink.id)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return list(await session.scalars(stmt))


async def delete_link(session: AsyncSession, row: CrmInboxLink) -> None:
    await session.delete(row)


async def links_page_of_customer(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    after: uuid.UUID | None,
    limit: int,
) -> list[CrmInboxLink]:
    stmt = select(CrmInboxLink).where(
        CrmInboxLink.account_id == account_id, CrmInboxLink.customer_id == customer_id
    )
    if after is not None:
        stmt = stmt.where(CrmInboxLink.id < after)
    return list(await session.scalars(stmt.order_by(CrmInboxLink.id.desc()).limit(limit + 1)))


def add(session: AsyncSession, row: CrmInboxLink) -> None:
    session.add(row)
