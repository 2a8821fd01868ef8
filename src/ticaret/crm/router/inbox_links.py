"""`/crm/inbox-links`: whole inboxes bound to customers (admins set them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from ticaret.core.db import DbSession
from ticaret.core.deps import Admin, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.crm.router.deps import CustomerId
from ticaret.crm.schemas.inbox_links import InboxLinkCleared, InboxLinkOut, InboxLinkSet
from ticaret.crm.service import inbox_links as service
from ticaret.models import InboxChannel

router = APIRouter(tags=["CRM inbox links"])

Channel = Annotated[InboxChannel, Path(description="whatsapp, messenger (a Page) or instagram")]
SourceId = Annotated[
    str,
    Path(
        alias="sourceId",
        max_length=100,
        description="WhatsApp: the providerSessionId; messenger: the Page id; instagram: the "
        "Instagram account id.",
    ),
]


@router.get(
    "/crm/inbox-links/sources",
    summary="Inboxes the account sees (WhatsApp sessions, Pages, Instagram accounts), with the "
    "customer each is bound to",
    description="CRM inbox link kaynaklarini listeler.",
    response_model=Envelope[Page[InboxLinkOut]],
    responses=error_responses(400, 401, 403, 422),
)
async def list_sources(
    ctx: Viewer, session: DbSession, page: Paging
) -> Envelope[Page[InboxLinkOut]]:
    return ok(await service.list_sources(session, ctx, page))


@router.get(
    "/crm/inbox-links/{channel}/{sourceId}",
    summary="The customer an inbox is bound to",
    description="CRM inbox link bilgisini getirir.",
    response_model=Envelope[InboxLinkOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_link(
    channel: Channel, source_id: SourceId, ctx: Viewer, session: DbSession
) -> Envelope[InboxLinkOut]:
    return ok(await service.get_link(session, ctx, channel, source_id))


@router.put(
    "/crm/inbox-links/{channel}/{sourceId}",
    summary="Bind an inbox to a customer, or clear it with null (admin)",
    description="CRM inbox link set eder veya temizler. Every chat of the inbox then belongs "
    "to the customer (unless one of its JIDs is mapped to another). For a Page or an Instagram "
    "account, a job also maps each person of its threads to the customer (mapping source "
    "`inbox`); those mappings follow the link when it moves or is cleared.",
    response_model=Envelope[InboxLinkOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def set_link(
    channel: Channel,
    source_id: SourceId,
    body: InboxLinkSet,
    ctx: Admin,
    session: DbSession,
    if_match: IfMatch = None,
) -> Envelope[InboxLinkOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.set_link(session, ctx, channel, source_id, body, version))


@router.delete(
    "/crm/inbox-links/{channel}/{sourceId}",
    summary="Clear an inbox's link (admin)",
    description="CRM inbox link temizler.",
    response_model=Envelope[InboxLinkCleared],
    responses=error_responses(401, 403, 404, 422),
)
async def clear_link(
    channel: Channel, source_id: SourceId, ctx: Admin, session: DbSession
) -> Envelope[InboxLinkCleared]:
    return ok(await service.clear_link(session, ctx, channel, source_id))


@router.get(
    "/crm/customers/{customerId}/inbox-links",
    summary="The inboxes bound to a customer",
    description="CRM firmaya bagli gelen kutularini listeler.",
    response_model=Envelope[Page[InboxLinkOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def customer_links(
    customer_id: CustomerId, ctx: Viewer, session: DbSession, page: Paging
) -> Envelope[Page[InboxLinkOut]]:
    return ok(await service.customer_links(session, ctx, customer_id, page))
