"""Contacts: the people under customers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.crm.repository import plan_for_these_values, search_distance, search_matches
from ticaret.models import CrmContact, CrmCustomer


@dataclass(frozen=True)
class ContactFilter:
    tokens: list[str] = field(default_factory=list)
    rank_text: str | None = None
    customer_id: uuid.UUID | None = None
    status: str | None = None


async def contact(
    session: AsyncSession,
    account_id: uuid.UUID,
    contact_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> CrmContact | None:
    """A live contact of a live customer."""
    stmt = (
        select(CrmContact)
        .join(CrmCustomer, CrmCustomer.id == CrmContact.customer_id)
        .where(
            CrmContact.account_id == account_id,
            CrmContact.id == contact_id,
            CrmContact.deleted_at.is_(None),
            CrmCustomer.deleted_at.is_(None),
        )
    )
    if for_update:
        stmt = stmt.with_for_update(of=CrmContact)
    return await session.scalar(stmt)


async def contacts_by_id(
    session: AsyncSession, account_id: uuid.UUID, contact_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CrmContact]:
    if not contact_ids:
        return {}
    rows = await session.scalars(
        select(CrmContact).where(
            CrmContact.account_id == account_id,
            CrmContact.id.in_(list(set(contact_ids))),
            CrmContact.deleted_at.is_(None),
        )
    )
    return {row.id: row for row in rows}


async def contacts_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    filters: ContactFilter,
    *,
    after: tuple[float, uuid.UUID] | uuid.UUID | None,
    limit: int,
) -> list[tuple[CrmContact, float | None]]:
    score = (
        search_distance(CrmContact.search_text, filters.rank_text)
        if filters.rank_text is not None
        else None
    )
    columns = [CrmContact] if score is None else [CrmContact, score.label("score")]
    stmt = (
        select(*columns)
        .join(CrmCustomer, CrmCustomer.id == CrmContact.customer_id)
        .where(
            CrmContact.account_id == account_id,
            CrmContact.deleted_at.is_(None),
            CrmCustomer.deleted_at.is_(None),
        )
    )
    if filters.customer_id is not None:
        stmt = stmt.where(CrmContact.customer_id == filters.customer_id)
    if filters.status is not None:
        stmt = stmt.where(CrmContact.status == filters.status)
    if filters.tokens:
        await plan_for_these_values(session)
        stmt = stmt.where(search_matches(CrmContact.search_text, filters.tokens))
    if score is None:
        if isinstance(after, uuid.UUID):
            stmt = stmt.where(CrmContact.id < after)
        rows = await session.scalars(stmt.order_by(CrmContact.id.desc()).limit(limit + 1))
        return [(row, None) for row in rows]
    if isinstance(after, tuple):
        stmt = stmt.where(or_(score > after[0], and_(score == after[0], CrmContact.id < after[1])))
    result = await session.execute(stmt.order_by(score, CrmContact.id.desc()).limit(limit + 1))
    return [(row[0], float(row[1])) for row in result]


async def live_contacts_of(
    session: AsyncSession, account_id: uuid.UUID, customer_id: uuid.UUID
) -> list[CrmContact]:
    return list(
        await session.scalars(
            select(CrmContact).where(
                CrmContact.account_id == account_id,
                CrmContact.customer_id == customer_id,
                CrmContact.deleted_at.is_(None),
            )
        )
    )


async def contacts_with_phone(
    session: AsyncSession, account_id: uuid.UUID, e164: str
) -> list[CrmContact]:
    """Live contacts of live customers with this phone."""
    return list(
        await session.scalars(
            select(CrmContact)
            .join(CrmCustomer, CrmCustomer.id == CrmContact.customer_id)
            .where(
                CrmContact.account_id == account_id,
                CrmContact.phone == e164,
                CrmContact.deleted_at.is_(None),
                CrmCustomer.deleted_at.is_(None),
            )
        )
    )


async def contacts_with_any_phone(
    session: AsyncSession, account_id: uuid.UUID, numbers: Sequence[str]
) -> list[CrmContact]:
    if not numbers:
        return []
    return list(
        await session.scalars(
            select(CrmContact)
            .join(CrmCustomer, CrmCustomer.id == CrmContact.customer_id)
            .where(
                CrmContact.account_id == account_id,
                CrmContact.phone.in_(list(numbers)),
                CrmContact.deleted_at.is_(None),
                CrmCustomer.deleted_at.is_(None),
            )
        )
    )
