"""`/accounts/{accountId}/wa-session-shares`: sessions other accounts offered to this one.

A share is an offer: nothing of the session reaches this account (no access, no events) until
one of its admins accepts it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from ticaret.core.db import DbSession
from ticaret.core.deps import Paging, PathAdmin, PathViewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.models import ShareStatus
from ticaret.wa.schemas import ShareOfferOut
from ticaret.wa.service import sessions as service

router = APIRouter(prefix="/accounts/{accountId}/wa-session-shares", tags=["WhatsApp sessions"])

ShareId = Annotated[uuid.UUID, Path(alias="shareId")]


@router.get(
    "",
    summary="Share offers made to this account (pending, accepted and declined)",
    response_model=Envelope[Page[ShareOfferOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_share_offers(
    ctx: PathViewer,
    session: DbSession,
    page: Paging,
    status: Annotated[ShareStatus | None, Query(description="Only offers in this state")] = None,
) -> Envelope[Page[ShareOfferOut]]:
    return ok(await service.list_offers(session, ctx, status, page))


@router.post(
    "/{shareId}/accept",
    summary="Accept a share offer: the session's conversation becomes visible here",
    response_model=Envelope[ShareOfferOut],
    responses=error_responses(401, 403, 404, 409),
)
async def accept_share_offer(
    share_id: ShareId, ctx: PathAdmin, session: DbSession
) -> Envelope[ShareOfferOut]:
    return ok(await service.answer_offer(session, ctx, share_id, accept=True))


@router.post(
    "/{shareId}/decline",
    summary="Decline a share offer",
    response_model=Envelope[ShareOfferOut],
    responses=error_responses(401, 403, 404, 409),
)
async def decline_share_offer(
    share_id: ShareId, ctx: PathAdmin, session: DbSession
) -> Envelope[ShareOfferOut]:
    return ok(await service.answer_offer(session, ctx, share_id, accept=False))
