"""`/crm/customers/{customerId}/audit`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ticaret.core.db import DbSession
from ticaret.core.deps import Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.crm.router.deps import CustomerId
from ticaret.crm.schemas.audit import AuditEntryOut
from ticaret.crm.service import audit as service
from ticaret.models import AuditEntity

router = APIRouter(tags=["CRM audit"])


@router.get(
    "/crm/customers/{customerId}/audit",
    summary="Who changed what on a customer, newest first",
    description="CRM customer audit kayitlarini listeler: the customer, its contacts, identity "
    "mappings and inbox links, each change with the fields before and after.",
    response_model=Envelope[Page[AuditEntryOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_audit(
    customer_id: CustomerId,
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    entity_type: Annotated[AuditEntity | None, Query(alias="entityType")] = None,
) -> Envelope[Page[AuditEntryOut]]:
    return ok(await service.list_entries(session, ctx, customer_id, page, entity_type))
