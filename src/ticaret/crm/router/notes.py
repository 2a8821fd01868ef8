"""`/crm/customers/{customerId}/notes`: private notes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.crm.router.deps import CustomerId, NoteId
from ticaret.crm.schemas.customers import Deleted
from ticaret.crm.schemas.notes import NoteCreate, NoteOut, NoteUpdate
from ticaret.crm.service import notes as service

router = APIRouter(prefix="/crm/customers/{customerId}/notes", tags=["CRM notes"])


@router.get(
    "",
    summary="A customer's notes, newest first",
    description="Customer notlarini listeler. Notes are private to the account: they are in "
    "no event or webhook.",
    response_model=Envelope[Page[NoteOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_notes(
    customer_id: CustomerId,
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    pinned: Annotated[bool | None, Query()] = None,
) -> Envelope[Page[NoteOut]]:
    return ok(await service.list_notes(session, ctx, customer_id, page, pinned))


@router.post(
    "",
    summary="Write a note on a customer",
    description="Customer notu olusturur.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[NoteOut],
    responses=error_responses(401, 403, 404, 422),
)
async def create_note(
    customer_id: CustomerId, body: NoteCreate, ctx: Agent, session: DbSession
) -> Envelope[NoteOut]:
    return ok(await service.create_note(session, ctx, customer_id, body))


@router.patch(
    "/{noteId}",
    summary="Change a note",
    description="Customer notunu gunceller.",
    response_model=Envelope[NoteOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_note(
    customer_id: CustomerId,
    note_id: NoteId,
    body: NoteUpdate,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[NoteOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_note(session, ctx, customer_id, note_id, body, version))


@router.delete(
    "/{noteId}",
    summary="Soft-delete a note",
    description="Customer notunu soft-delete eder.",
    response_model=Envelope[Deleted],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_note(
    customer_id: CustomerId, note_id: NoteId, ctx: Agent, session: DbSession
) -> Envelope[Deleted]:
    await service.delete_note(session, ctx, customer_id, note_id)
    return ok(Deleted(deleted=True))
