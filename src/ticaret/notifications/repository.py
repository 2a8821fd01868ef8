"""SQL for outgoing emails (not tenant data: an email belongs to its recipient)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import written_in
from ticaret.models import EmailStatus, OutgoingEmail

# Written into the SQL (not bound): `ix_outgoing_emails_pending` is partial (see `written_in`).
_PENDING = written_in(OutgoingEmail.status, EmailStatus.pending)


async def email_to_send(session: AsyncSession, email_id: uuid.UUID) -> OutgoingEmail | None:
    return await session.get(OutgoingEmail, email_id, with_for_update=True)


async def stale_pending_ids(
    session: AsyncSession, updated_before: datetime, limit: int
) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(OutgoingEmail.id)
        .where(_PENDING, OutgoingEmail.updated_at < updated_before)
        .limit(limit)
    )
    return list(rows)
