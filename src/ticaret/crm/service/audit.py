"""Reading the audit trail (entries are written through `common.record`)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.crm.repository import audit as repository
from ticaret.crm.schemas.audit import AuditEntryOut
from ticaret.crm.service.common import actor_out
from ticaret.crm.service.customers import customer_or_404
from ticaret.models import AuditEntity, CrmAuditEntry


def entry_out(entry: CrmAuditEntry) -> AuditEntryOut:
    return from_row(AuditEntryOut, entry, actor=actor_out(entry.actor_type, entry.actor_id))


async def list_entries(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID,
    page: PageParams,
    entity_type: AuditEntity | None,
) -> Page[AuditEntryOut]:
    await customer_or_404(session, ctx.account_id, customer_id)
    rows = await repository.entries_page(
        session,
        ctx.account_id,
        customer_id,
        before=page.after_time_and_id(),
        limit=page.limit,
        entity_type=entity_type,
    )
    kept, cursor, more = build_page(rows, page.limit, lambda e: [e.created_at, e.id])
    return Page[AuditEntryOut](rows=[entry_out(e) for e in kept], next_cursor=cursor, has_more=more)
