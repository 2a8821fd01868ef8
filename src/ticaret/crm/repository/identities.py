"""Identity mappings: channel identities of customers and contacts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from asyncpg import Connection
from sqlalchemy import String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.models import CrmCustomer, CrmIdentity, IdentityChannel


@dataclass(frozen=True)
class MappingFilter:
    customer_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    channel: str | None = None
    value: str | None = None
    source: str | None = None


def _live_customer() -> object:
    return (
        select(CrmCustomer.id)
        .where(CrmCustomer.id == CrmIdentity.customer_id, CrmCustomer.deleted_at.is_(None))
        .exists()
    )


async def identity(
    session: AsyncSession,
    account_id: uuid.UUID,
    identity_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> CrmIdentity | None:
    stmt = select(CrmIdentity).where(
        CrmIdentity.account_id == account_id,
        CrmIdentity.id == identity_id,
        _live_customer(),  # type: ignore[arg-type]
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def identity_by_value(
    session: AsyncSession,
    account_id: uuid.UUID,
    channel: str,
    scope: str,
    value: str,
    *,
    for_update: bool = False,
) -> CrmIdentity | None:
    """Whatever customer it names, deleted or not (the value is unique per account)."""
    stmt = select(CrmIdentity).where(
        CrmIdentity.account_id == account_id,
        CrmIdentity.channel == channel,
        CrmIdentity.scope == scope,
        CrmIdentity.value == value,
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def whatsapp_identities(
    session: AsyncSession,
    account_id: uuid.UUID,
    jids: Sequence[str],
    *,
    for_update: bool = False,
) -> list[CrmIdentity]:
    """This account's mappings of these WhatsApp JIDs (to live customers), oldest first."""
    if not jids:
        return []
    stmt = (
        select(CrmIdentity)
        .where(
            CrmIdentity.account_id == account_id,
            CrmIdentity.channel == IdentityChannel.whatsapp,
            CrmIdentity.scope == "",
            CrmIdentity.value.in_(list(set(jids))),
            _live_customer(),  # type: ignore[arg-type]
        )
        .order_by(CrmIdentity.created_at, CrmIdentity.id)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return list(await session.scalars(stmt))


async def scoped_identities(
    session: AsyncSession,
    account_id: uuid.UUID,
    channel: str,
    scope: str,
    values: Sequence[str],
) -> list[CrmIdentity]:
    """This account's mappings of these ids within one scope (a Page's PSIDs, an Instagram
    account's IGSIDs), to live customers."""
    if not values:
        return []
    return list(
        await session.scalars(
            select(CrmIdentity).where(
                CrmIdentity.account_id == account_id,
                CrmIdentity.channel == channel,
                CrmIdentity.scope == scope,
                CrmIdentity.value.in_(list(set(values))),
                _live_customer(),  # type: ignore[arg-type]
            )
        )
    )


async def stale_rule_identities(
    session: AsyncSession,
    account_id: uuid.UUID,
    channel: str,
    scope: str,
    source: str,
    customer_id: uuid.UUID | None,
    limit: int,
) -> list[CrmIdentity]:
    """Identities a rule made in this scope that no longer name the customer the rule gives
    now (all of them when it gives none)."""
    stmt = select(CrmIdentity).where(
        CrmIdentity.account_id == account_id,
        CrmIdentity.channel == channel,
        CrmIdentity.scope == scope,
        CrmIdentity.source == source,
    )
    if customer_id is not None:
        stmt = stmt.where(CrmIdentity.customer_id != customer_id)
    return list(await session.scalars(stmt.order_by(CrmIdentity.id).limit(limit)))


async def identities_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    filters: MappingFilter,
    *,
    after: uuid.UUID | None,
    limit: int,
) -> list[CrmIdentity]:
    stmt = select(CrmIdentity).where(
        CrmIdentity.account_id == account_id,
        _live_customer(),  # type: ignore[arg-type]
    )
    if filters.customer_id is not None:
        stmt = stmt.where(CrmIdentity.customer_id == filters.customer_id)
    if filters.contact_id is not None:
        stmt = stmt.where(CrmIdentity.contact_id == filters.contact_id)
    if filters.channel is not None:
        stmt = stmt.where(CrmIdentity.channel == filters.channel)
    if filters.value is not None:
        stmt = stmt.where(CrmIdentity.value == filters.value)
    if filters.source is not None:
        stmt = stmt.where(CrmIdentity.source == filters.source)
    if after is not None:
        stmt = stmt.where(CrmIdentity.id < after)
    return list(await session.scalars(stmt.order_by(CrmIdentity.id.desc()).limit(limit + 1)))


async def identities_of(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    customer_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    lock: bool = True,
) -> list[CrmIdentity]:
    stmt = select(CrmIdentity).where(CrmIdentity.account_id == account_id)
    if customer_id is not None:
        stmt = stmt.where(CrmIdentity.customer_id == customer_id)
    if contact_id is not None:
        stmt = stmt.where(CrmIdentity.contact_id == contact_id)
    stmt = stmt.order_by(CrmIdentity.id)
    if lock:
        stmt = stmt.with_for_update()
    return list(await session.scalars(stmt))


async def delete_identity(session: AsyncSession, row: CrmIdentity) -> None:
    await session.delete(row)


async def lock_person(session: AsyncSession, account_id: uuid.UUID, key: str) -> None:
    """Serialize automatic links of one person in one account (two messages of a new chat
    are handled by two jobs at once); held until the transaction ends."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"crm:{account_id}:{key}", 0)))
    )


_ANY_MAPPED_RAW = RawQuery(
    select(CrmIdentity.id)
    .where(
        CrmIdentity.account_id == bindparam("account_id"),
        CrmIdentity.channel == IdentityChannel.whatsapp,
        CrmIdentity.scope == "",
        CrmIdentity.value == any_(bindparam("jids", type_=ARRAY(String()))),
        _live_customer(),  # type: ignore[arg-type]
    )
    .limit(1)
)


async def any_whatsapp_identity_raw(
    conn: Connection, account_id: uuid.UUID, jids: Sequence[str]
) -> bool:
    """Whether `whatsapp_identities` would find anything, outside a transaction."""
    if not jids:
        return False
    return bool(await _ANY_MAPPED_RAW.fetch(conn, account_id=account_id, jids=list(set(jids))))
