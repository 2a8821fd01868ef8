"""`/crm/identity-mappings` and `/crm/identities/unmatched`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ticaret.core.db import DbSession
from ticaret.core.deps import Agent, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.crm.router.deps import MappingId
from ticaret.crm.schemas.customers import Deleted
from ticaret.crm.schemas.identities import (
    MappingCreate,
    MappingOut,
    MappingUpdate,
    UnmatchedChatOut,
)
from ticaret.crm.service import identities as service
from ticaret.models import IdentityChannel, IdentitySource

router = APIRouter(tags=["CRM identities"])


@router.get(
    "/crm/identities/unmatched",
    summary="Chats and Page / Instagram threads no customer is linked to, latest activity "
    "first (triage)",
    description="Eslestirilmemis WhatsApp chat kimliklerini listeler. `candidates` lists "
    "customers or contacts with the chat's phone when the automatic link could not choose. "
    "Page (`messenger`) and Instagram threads are listed too, with the PSID / IGSID to map "
    "(`channel`, `scope`, `value`); `providerSessionId` narrows the list to one WhatsApp "
    "session.",
    response_model=Envelope[Page[UnmatchedChatOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_unmatched(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    provider_session_id: Annotated[
        str | None, Query(alias="providerSessionId", max_length=100)
    ] = None,
    include_groups: Annotated[
        bool, Query(alias="includeGroups", description="Group chats too")
    ] = False,
    channel: Annotated[
        IdentityChannel | None, Query(description="Only this channel's chats or threads")
    ] = None,
) -> Envelope[Page[UnmatchedChatOut]]:
    return ok(
        await service.list_unmatched(
            session,
            ctx,
            page,
            provider_session_id=provider_session_id,
            include_groups=include_groups,
            channel=channel,
        )
    )


@router.get(
    "/crm/identity-mappings",
    summary="List identity mappings, newest first",
    description="CRM identity mapping listesini getirir.",
    response_model=Envelope[Page[MappingOut]],
    responses=error_responses(400, 401, 403, 422),
)
async def list_mappings(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    customer_id: Annotated[uuid.UUID | None, Query(alias="customerId")] = None,
    contact_id: Annotated[uuid.UUID | None, Query(alias="contactId")] = None,
    channel: Annotated[IdentityChannel | None, Query()] = None,
    value: Annotated[str | None, Query(max_length=300, description="Exact value (JID, id)")] = None,
    source: Annotated[IdentitySource | None, Query()] = None,
) -> Envelope[Page[MappingOut]]:
    return ok(
        await service.list_mappings(
            session,
            ctx,
            page,
            customer_id=customer_id,
            contact_id=contact_id,
            channel=channel,
            value=value,
            source=source,
        )
    )


@router.post(
    "/crm/identity-mappings",
    summary="Link an identity (a WhatsApp JID or phone, ...) to a customer or contact",
    description="WhatsApp kimligini customer/contact ile eslestirir. Mapping a `@lid` or a "
    "phone JID also maps the other JID of chats it names (the same person).",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[MappingOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def create_mapping(
    body: MappingCreate, ctx: Agent, session: DbSession
) -> Envelope[MappingOut]:
    return ok(await service.create_mapping(session, ctx, body))


@router.patch(
    "/crm/identity-mappings/{mappingId}",
    summary="Move a mapping to another customer or contact",
    description="CRM identity mapping gunceller.",
    response_model=Envelope[MappingOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_mapping(
    mapping_id: MappingId,
    body: MappingUpdate,
    ctx: Agent,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[MappingOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_mapping(session, ctx, mapping_id, body, version))


@router.delete(
    "/crm/identity-mappings/{mappingId}",
    summary="Remove a mapping",
    description="CRM identity mapping kaldirir.",
    response_model=Envelope[Deleted],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_mapping(
    mapping_id: MappingId, ctx: Agent, session: DbSession
) -> Envelope[Deleted]:
    await service.delete_mapping(session, ctx, mapping_id)
    return ok(Deleted(deleted=True))
