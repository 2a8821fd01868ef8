"""People and groups a session has seen."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.wa.errors import ContactNotFound
from ticaret.wa.gateways._jid import canonical_jid
from ticaret.wa.repository import contacts as repository
from ticaret.wa.schemas import ContactOut
from ticaret.wa.service.access import WaContext
from ticaret.wa.service.views import contact_out


async def get_contact(session: AsyncSession, wa_ctx: WaContext, jid: str) -> ContactOut:
    contact = await repository.contact(session, wa_ctx.wa.id, canonical_jid(jid))
    if contact is None:
        raise ContactNotFound()
    return contact_out(contact, wa_ctx.wa.provider_session_id)


async def list_contacts(
    session: AsyncSession,
    wa_ctx: WaContext,
    page: PageParams,
    *,
    q: str | None,
    is_group: bool | None,
) -> Page[ContactOut]:
    rows = await repository.contacts_page(
        session, wa_ctx.wa.id, after=page.after_id(), limit=page.limit, q=q, is_group=is_group
    )
    kept, cursor, more = build_page(rows, page.limit, lambda c: [c.id])
    psid = wa_ctx.wa.provider_session_id
    return Page[ContactOut](
        rows=[contact_out(c, psid) for c in kept], next_cursor=cursor, has_more=more
    )
