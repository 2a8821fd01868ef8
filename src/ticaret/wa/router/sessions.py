"""`/accounts/{accountId}/wa-sessions`: admins manage sessions, viewers see them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from ticaret.core.db import DbSession
from ticaret.core.deps import Paging, PathAdmin, PathViewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.wa.router.deps import ProviderSessionId
from ticaret.wa.schemas import (
    PairingOut,
    Removed,
    SessionCreate,
    SessionCreated,
    SessionOut,
    ShareCreate,
    ShareOut,
)
from ticaret.wa.service import sessions as service

router = APIRouter(prefix="/accounts/{accountId}/wa-sessions", tags=["WhatsApp sessions"])

TargetAccountId = Annotated[uuid.UUID, Path(alias="targetAccountId")]


@router.get(
    "",
    summary="List the WhatsApp sessions the account can use (own and shared)",
    response_model=Envelope[Page[SessionOut]],
    responses=error_responses(400, 401, 403, 404),
)
async def list_sessions(
    ctx: PathViewer, session: DbSession, page: Paging
) -> Envelope[Page[SessionOut]]:
    return ok(await service.list_sessions(session, ctx, page))


@router.post(
    "",
    summary="Create a WhatsApp session on its gateway (the webhook secret is shown once)",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[SessionCreated],
    responses=error_responses(400, 401, 403, 404, 422, 502),
)
async def create_session(
    body: SessionCreate, ctx: PathAdmin, session: DbSession
) -> Envelope[SessionCreated]:
    return ok(await service.create_session(session, ctx, body))


@router.get(
    "/{providerSessionId}",
    summary="Session detail with its live status from the gateway",
    response_model=Envelope[SessionOut],
    responses=error_responses(401, 403, 404),
)
async def get_session(
    provider_session_id: ProviderSessionId, ctx: PathViewer, session: DbSession
) -> Envelope[SessionOut]:
    return ok(await service.get_session(session, ctx, provider_session_id))


@router.get(
    "/{providerSessionId}/qr",
    summary="Pairing QR code, or a pairing code when `phone` is given (owner only)",
    response_model=Envelope[PairingOut],
    responses=error_responses(401, 403, 404, 502),
)
async def get_pairing(
    provider_session_id: ProviderSessionId,
    ctx: PathAdmin,
    session: DbSession,
    phone: Annotated[
        str | None, Query(max_length=32, description="Phone number for a pairing code.")
    ] = None,
) -> Envelope[PairingOut]:
    return ok(await service.pairing(session, ctx, provider_session_id, phone))


@router.delete(
    "/{providerSessionId}",
    summary="Remove the account's access (the owner deletes the session; a share is dropped)",
    response_model=Envelope[Removed],
    responses=error_responses(401, 403, 404),
)
async def remove_session(
    provider_session_id: ProviderSessionId, ctx: PathAdmin, session: DbSession
) -> Envelope[Removed]:
    return ok(await service.remove_access(session, ctx, provider_session_id))


@router.post(
    "/{providerSessionId}/logout",
    summary="Log the session out of WhatsApp (unlinks the phone)",
    response_model=Envelope[SessionOut],
    responses=error_responses(401, 403, 404, 502),
)
async def logout_session(
    provider_session_id: ProviderSessionId, ctx: PathAdmin, session: DbSession
) -> Envelope[SessionOut]:
    return ok(await service.logout(session, ctx, provider_session_id))


@router.post(
    "/{providerSessionId}/shares",
    summary="Offer the session to another account (its admin accepts or declines)",
    description="The offer gives nothing until the target account accepts it "
    "(`POST /accounts/{accountId}/wa-session-shares/{shareId}/accept`). The answer is the same "
    "whether or not the account id exists; offering again after a decline renews the offer.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[ShareOut],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def share_session(
    body: ShareCreate, provider_session_id: ProviderSessionId, ctx: PathAdmin, session: DbSession
) -> Envelope[ShareOut]:
    return ok(await service.share(session, ctx, provider_session_id, body.account_id))


@router.delete(
    "/{providerSessionId}/shares/{targetAccountId}",
    summary="Stop sharing the session with an account",
    response_model=Envelope[Removed],
    responses=error_responses(401, 403, 404),
)
async def unshare_session(
    provider_session_id: ProviderSessionId,
    target_account_id: TargetAccountId,
    ctx: PathAdmin,
    session: DbSession,
) -> Envelope[Removed]:
    return ok(await service.unshare(session, ctx, provider_session_id, target_account_id))
