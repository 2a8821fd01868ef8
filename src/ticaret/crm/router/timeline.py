"""`/crm/customers/{customerId}/timeline`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ticaret.core.db import DbSession
from ticaret.core.deps import Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.crm.router.deps import CustomerId
from ticaret.crm.schemas.timeline import TimelineItem, TimelineKind
from ticaret.crm.service import timeline as service

router = APIRouter(tags=["CRM timeline"])


@router.get(
    "/crm/customers/{customerId}/timeline",
    summary="Everything about a customer in one feed, newest first",
    description="Customer activity timeline getirir. Messages of every chat and inbox linked "
    "to the customer, notes, comments, tasks, assignment changes of its chats and audit "
    "entries; `kind` (repeatable) narrows it. One cursor pages through all of them.",
    response_model=Envelope[Page[TimelineItem]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def customer_timeline(
    customer_id: CustomerId,
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    kind: Annotated[list[TimelineKind] | None, Query()] = None,
) -> Envelope[Page[TimelineItem]]:
    return ok(await service.customer_timeline(session, ctx, customer_id, page, kind))
