"""`/crm/customers`: customers, their representatives and teams."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.crm.router.deps import CustomerId, SearchQuery
from ticaret.crm.schemas.customers import (
    CustomerCreate,
    CustomerOut,
    CustomerUpdate,
    Deleted,
    RepresentativesOut,
    RepresentativesSet,
    TeamsOut,
    TeamsSet,
)
from ticaret.crm.service import customers as service
from ticaret.models import CustomerStatus, CustomerType

router = APIRouter(prefix="/crm/customers", tags=["CRM customers"])


@router.get(
    "",
    summary="List customers: newest first, or best match first with q",
    description="CRM customer listesini getirir. `q` matches title, short name, phone (any "
    "format), email and tax number; the filters combine.",
    response_model=Envelope[Page[CustomerOut]],
    responses=error_responses(400, 401, 403, 422),
)
async def list_customers(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    q: SearchQuery = None,
    customer_status: Annotated[CustomerStatus | None, Query(alias="status")] = None,
    customer_type: Annotated[CustomerType | None, Query(alias="type")] = None,
    tag: Annotated[
        list[str] | None, Query(max_length=50, description="Repeat: every tag must be present.")
    ] = None,
    city: Annotated[str | None, Query(max_length=100)] = None,
    representative_id: Annotated[uuid.UUID | None, Query(alias="representativeId")] = None,
    team_id: Annotated[uuid.UUID | None, Query(alias="teamId")] = None,
    has_open_tasks: Annotated[bool | None, Query(alias="hasOpenTasks")] = None,
) -> Envelope[Page[CustomerOut]]:
    return ok(
        await service.list_customers(
            session,
            ctx,
            page,
            q=q,
            status=customer_status,
            customer_type=customer_type,
            tags=tag or [],
            city=city,
            representative_id=representative_id,
            team_id=team_id,
            has_open_tasks=has_open_tasks,
        )
    )


@router.post(
    "",
    summary="Create a customer",
    description="CRM customer olusturur. Phones are stored as E.164; a chat with one of them "
    "is linked to the customer automatically.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[CustomerOut],
    responses=error_responses(401, 403, 404, 422),
)
async def create_customer(
    body: CustomerCreate, ctx: Agent, session: DbSession
) -> Envelope[CustomerOut]:
    return ok(await service.create_customer(session, ctx, body))


@router.get(
    "/{customerId}",
    summary="Get a customer",
    description="CRM customer detayini getirir.",
    response_model=Envelope[CustomerOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_customer(
    customer_id: CustomerId, ctx: Viewer, session: DbSession
) -> Envelope[CustomerOut]:
    return ok(await service.get_customer(session, ctx, customer_id))


@router.patch(
    "/{customerId}",
    summary="Update a customer (only the fields sent; null clears a nullable one)",
    description="CRM customer gunceller. Every change is in the customer's audit trail.",
    response_model=Envelope[CustomerOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_customer(
    customer_id: CustomerId,
    body: CustomerUpdate,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[CustomerOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_customer(session, ctx, customer_id, body, version))


@router.delete(
    "/{customerId}",
    summary="Soft-delete a customer",
    description="CRM customer soft-delete yapar. It disappears from lists and links (its "
    "contacts, identity mappings and inbox links go too); tasks and notes stay stored.",
    response_model=Envelope[Deleted],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_customer(
    customer_id: CustomerId, ctx: Agent, session: DbSession
) -> Envelope[Deleted]:
    await service.delete_customer(session, ctx, customer_id)
    return ok(Deleted(deleted=True))


@router.get(
    "/{customerId}/representatives",
    summary="The customer's representatives (users), primary first",
    description="Customer temsilcilerini getirir.",
    response_model=Envelope[RepresentativesOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_representatives(
    customer_id: CustomerId, ctx: Viewer, session: DbSession
) -> Envelope[RepresentativesOut]:
    return ok(await service.get_representatives(session, ctx, customer_id))


@router.put(
    "/{customerId}/representatives",
    summary="Set the customer's representatives and the primary one",
    description="Customer temsilci listesini set eder. `entityVersion` is the customer's.",
    response_model=Envelope[RepresentativesOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def set_representatives(
    customer_id: CustomerId,
    body: RepresentativesSet,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[RepresentativesOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.set_representatives(session, ctx, customer_id, body, version))


@router.get(
    "/{customerId}/teams",
    summary="The customer's teams (CRM groups), primary first",
    description="Customer ekiplerini getirir.",
    response_model=Envelope[TeamsOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_teams(customer_id: CustomerId, ctx: Viewer, session: DbSession) -> Envelope[TeamsOut]:
    return ok(await service.get_teams(session, ctx, customer_id))


@router.put(
    "/{customerId}/teams",
    summary="Set the customer's teams and the primary one",
    description="Customer ekip listesini set eder. `entityVersion` is the customer's.",
    response_model=Envelope[TeamsOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def set_teams(
    customer_id: CustomerId,
    body: TeamsSet,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[TeamsOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.set_teams(session, ctx, customer_id, body, version))
