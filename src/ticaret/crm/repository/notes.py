"""Customer notes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import CrmNote


async def note(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    note_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> CrmNote | None:
    stmt = select(CrmNote).where(
        CrmNote.account_id == account_id,
        CrmNote.customer_id == customer_id,
        CrmNote.id == note_id,
        CrmNote.deleted_at.is_(None),
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def notes_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
    pinned: bool | None = None,
) -> list[CrmNote]:
    stmt = select(CrmNote).where(
        CrmNote.account_id == account_id,
        CrmNote.customer_id == customer_id,
        CrmNote.deleted_at.is_(None),
    )
    if pinned is not None:
        stmt = stmt.where(CrmNote.pinned.is_(pinned))
    if before is not None:
        stmt = stmt.where(
            tuple_(CrmNote.created_at, CrmNote.id) < tuple_(literal(before[0]), literal(before[1]))
        )
    stmt = stmt.order_by(CrmNote.created_at.desc(), CrmNote.id.desc()).limit(limit + 1)
    return list(await session.scalars(stmt))
