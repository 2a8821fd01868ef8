"""Contacts: under a customer (`/crm/customers/{customerId}/contacts`) and on their own
(`/crm/contacts`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.crm.router.deps import ContactId, CustomerId, SearchQuery
from ticaret.crm.schemas.contacts import ContactCreate, ContactOut, ContactUpdate
from ticaret.crm.schemas.customers import Deleted
from ticaret.crm.service import contacts as service
from ticaret.models import ContactStatus

router = APIRouter(tags=["CRM contacts"])

StatusQuery = Annotated[ContactStatus | None, Query(alias="status")]


@router.get(
    "/crm/customers/{customerId}/contacts",
    summary="A customer's contacts",
    description="Customer contact listesini getirir.",
    response_model=Envelope[Page[ContactOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_customer_contacts(
    customer_id: CustomerId,
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    q: SearchQuery = None,
    contact_status: StatusQuery = None,
) -> Envelope[Page[ContactOut]]:
    return ok(
        await service.list_contacts(
            session,
            ctx,
            page,
            q=q,
            customer_id=customer_id,
            status=contact_status,
            of_customer=True,
        )
    )


@router.post(
    "/crm/customers/{customerId}/contacts",
    summary="Create a contact under a customer",
    description="Customer contact olusturur.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[ContactOut],
    responses=error_responses(401, 403, 404, 422),
)
async def create_contact(
    customer_id: CustomerId, body: ContactCreate, ctx: Agent, session: DbSession
) -> Envelope[ContactOut]:
    return ok(await service.create_contact(session, ctx, customer_id, body))


@router.get(
    "/crm/contacts",
    summary="List contacts: newest first, or best match first with q",
    description="CRM contact listesini getirir. `q` matches name, title, phone (any format) "
    "and email.",
    response_model=Envelope[Page[ContactOut]],
    responses=error_responses(400, 401, 403, 422),
)
async def list_contacts(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    q: SearchQuery = None,
    customer_id: Annotated[uuid.UUID | None, Query(alias="customerId")] = None,
    contact_status: StatusQuery = None,
) -> Envelope[Page[ContactOut]]:
    return ok(
        await service.list_contacts(
            session, ctx, page, q=q, customer_id=customer_id, status=contact_status
        )
    )


@router.get(
    "/crm/contacts/{contactId}",
    summary="Get a contact",
    description="CRM contact detayini getirir.",
    response_model=Envelope[ContactOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_contact(
    contact_id: ContactId, ctx: Viewer, session: DbSession
) -> Envelope[ContactOut]:
    return ok(await service.get_contact(session, ctx, contact_id))


@router.patch(
    "/crm/contacts/{contactId}",
    summary="Update a contact or move it to another customer",
    description="CRM contact gunceller veya baska customer altina tasir. A move takes the "
    "contact's identity mappings along.",
    response_model=Envelope[ContactOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_contact(
    contact_id: ContactId,
    body: ContactUpdate,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[ContactOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_contact(session, ctx, contact_id, body, version))


@router.delete(
    "/crm/contacts/{contactId}",
    summary="Soft-delete a contact",
    description="CRM contact soft-delete yapar.",
    response_model=Envelope[Deleted],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_contact(
    contact_id: ContactId, ctx: Agent, session: DbSession
) -> Envelope[Deleted]:
    await service.delete_contact(session, ctx, contact_id)
    return ok(Deleted(deleted=True))
