"""The CRM audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import CrmAuditEntry


def add(session: AsyncSession, entry: CrmAuditEntry) -> None:
    session.add(entry)


async def entries_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
    entity_type: str | None = None,
) -> list[CrmAuditEntry]:
    stmt = select(CrmAuditEntry).where(
        CrmAuditEntry.account_id == account_id, CrmAuditEntry.customer_id == customer_id
    )
    if entity_type is not None:
        stmt = stmt.where(CrmAuditEntry.entity_type == entity_type)
    if before is not None:
        stmt = stmt.where(
            tuple_(CrmAuditEntry.created_at, CrmAuditEntry.id)
            < tuple_(literal(before[0]), literal(before[1]))
        )
    stmt = stmt.order_by(CrmAuditEntry.created_at.desc(), CrmAuditEntry.id.desc())
    return list(await session.scalars(stmt.limit(limit + 1)))
