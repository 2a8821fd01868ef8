"""Private notes on a customer: the team's memory. They never leave in an event or webhook."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.core.versioning import check_version
from ticaret.crm.errors import NoteNotFound
from ticaret.crm.repository import notes as repository
from ticaret.crm.schemas.notes import NoteCreate, NoteOut, NoteUpdate
from ticaret.crm.service.common import actor_out
from ticaret.crm.service.customers import customer_or_404
from ticaret.models import CrmNote


def note_out(note: CrmNote) -> NoteOut:
    return from_row(NoteOut, note, author=actor_out(note.author_type, note.author_id))


async def _note_or_404(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID,
    note_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> CrmNote:
    await customer_or_404(session, ctx.account_id, customer_id)
    note = await repository.note(
        session, ctx.account_id, customer_id, note_id, for_update=for_update
    )
    if note is None:
        raise NoteNotFound()
    return note


async def list_notes(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID,
    page: PageParams,
    pinned: bool | None,
) -> Page[NoteOut]:
    await customer_or_404(session, ctx.account_id, customer_id)
    rows = await repository.notes_page(
        session,
        ctx.account_id,
        customer_id,
        before=page.after_time_and_id(),
        limit=page.limit,
        pinned=pinned,
    )
    kept, cursor, more = build_page(rows, page.limit, lambda n: [n.created_at, n.id])
    return Page[NoteOut](rows=[note_out(n) for n in kept], next_cursor=cursor, has_more=more)


async def create_note(
    session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID, body: NoteCreate
) -> NoteOut:
    customer = await customer_or_404(session, ctx.account_id, customer_id)
    note = CrmNote(
        account_id=ctx.account_id,
        customer_id=customer.id,
        body=body.body,
        pinned=body.pinned,
        author_type=ctx.actor.type,
        author_id=ctx.actor.id,
    )
    session.add(note)
    await session.flush()
    return note_out(note)


async def update_note(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID,
    note_id: uuid.UUID,
    body: NoteUpdate,
    expected_version: str | None,
) -> NoteOut:
    note = await _note_or_404(session, ctx, customer_id, note_id, for_update=True)
    check_version(note, expected_version)
    if body.body is not None:
        note.body = body.body
    if body.pinned is not None:
        note.pinned = body.pinned
    await session.flush()
    return note_out(note)


async def delete_note(
    session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID, note_id: uuid.UUID
) -> None:
    note = await _note_or_404(session, ctx, customer_id, note_id, for_update=True)
    note.deleted_at = datetime.now(UTC)
    await session.flush()
