from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from ticaret.accounts import service
from ticaret.accounts.schemas import (
    AccountCreate,
    AccountOut,
    AccountSettingsOut,
    AccountSettingsUpdate,
    ApiAccountCreate,
    ApiAccountOut,
    ApiAccountWithSecret,
    MemberAdd,
    MemberOut,
    MemberUpdate,
)
from ticaret.core.auth import CurrentPrincipal, CurrentUser, principal_from
from ticaret.core.db import DbSession
from ticaret.core.deps import Paging
from ticaret.core.deps import PathAdmin as Admin
from ticaret.core.deps import PathViewer as Viewer
from ticaret.core.envelope import Envelope, Page, ok, ok_json
from ticaret.core.fastlane import fast_get, plain_page
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.settings import Settings, get_settings

router = APIRouter(prefix="/accounts", tags=["Accounts"])

UserId = Annotated[uuid.UUID, Path(alias="userId")]
ApiAccountId = Annotated[uuid.UUID, Path(alias="apiAccountId")]


@router.get(
    "",
    summary="List the caller's accounts",
    response_model=Envelope[Page[AccountOut]],
    responses=error_responses(400, 401),
)
async def list_accounts(principal: CurrentPrincipal, page: Paging) -> Response:
    return ok_json(await service.list_accounts(principal.user, principal.api_account, page))


@fast_get("/accounts")
async def list_accounts_fast(request: Request, _: dict[str, str]) -> Response | None:
    """The route above, for the common request (see core.fastlane)."""
    page = plain_page(request)
    if page is None:
        return None
    principal = await principal_from(request)
    return ok_json(await service.list_accounts(principal.user, principal.api_account, page))


@router.post(
    "",
    summary="Create an account (the caller becomes its owner)",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[AccountOut],
    responses=error_responses(401, 403, 422),
)
async def create_account(
    body: AccountCreate, user: CurrentUser, session: DbSession
) -> Envelope[AccountOut]:
    return ok(await service.create_account(session, user, body.name))


@router.get(
    "/{accountId}/users",
    summary="List the account's users",
    response_model=Envelope[Page[MemberOut]],
    responses=error_responses(400, 401, 403, 404),
)
async def list_users(ctx: Viewer, session: DbSession, page: Paging) -> Envelope[Page[MemberOut]]:
    return ok(await service.list_members(session, ctx, page))


@router.post(
    "/{accountId}/users",
    summary="Add a user by email (links an existing user or invites a new one)",
    description="Account'a kullanıcı ekler veya bağlar. A user who has signed in before is "
    "linked at once; any other address gets an invitation email and a pending membership "
    "(`invitationPending`) that grants nothing until accepted. Invitations are limited per "
    "account per hour (429).",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[MemberOut],
    responses=error_responses(401, 403, 404, 409, 422, 429),
)
async def add_user(
    body: MemberAdd,
    ctx: Admin,
    session: DbSession,
    settings: Annotated[Settings, Depends(get_settings)],
) -> Envelope[MemberOut]:
    return ok(
        await service.add_member(
            session, settings, ctx, email=str(body.email), name=body.name, role=body.role
        )
    )


@router.patch(
    "/{accountId}/users/{userId}",
    summary="Change a user's role",
    response_model=Envelope[MemberOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def change_role(
    body: MemberUpdate, user_id: UserId, ctx: Admin, session: DbSession, if_match: IfMatch = None
) -> Envelope[MemberOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.change_role(session, ctx, user_id, body.role, version))


@router.delete(
    "/{accountId}/users/{userId}",
    summary="Remove a user from the account",
    response_model=Envelope[dict[str, bool]],
    responses=error_responses(401, 403, 404, 409),
)
async def remove_user(user_id: UserId, ctx: Admin, session: DbSession) -> Envelope[dict[str, bool]]:
    await service.remove_member(session, ctx, user_id)
    return ok({"removed": True})


@router.get(
    "/{accountId}/api-accounts",
    summary="List API accounts",
    response_model=Envelope[Page[ApiAccountOut]],
    responses=error_responses(400, 401, 403, 404),
)
async def list_api_accounts(
    ctx: Admin, session: DbSession, page: Paging
) -> Envelope[Page[ApiAccountOut]]:
    return ok(await service.list_api_accounts(session, ctx, page))


@router.post(
    "/{accountId}/api-accounts",
    summary="Create an API account (the secret is shown once)",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[ApiAccountWithSecret],
    responses=error_responses(401, 403, 404, 422),
)
async def create_api_account(
    body: ApiAccountCreate, ctx: Admin, session: DbSession
) -> Envelope[ApiAccountWithSecret]:
    return ok(await service.create_api_account(session, ctx, name=body.name, role=body.role))


@router.post(
    "/{accountId}/api-accounts/{apiAccountId}/rotate-secret",
    summary="Rotate an API account's secret (the old one stops working at once)",
    response_model=Envelope[ApiAccountWithSecret],
    responses=error_responses(401, 403, 404, 409),
)
async def rotate_secret(
    api_account_id: ApiAccountId, ctx: Admin, session: DbSession
) -> Envelope[ApiAccountWithSecret]:
    return ok(await service.rotate_secret(session, ctx, api_account_id))


@router.post(
    "/{accountId}/api-accounts/{apiAccountId}/revoke",
    summary="Revoke an API account (its key stops working at once)",
    response_model=Envelope[ApiAccountOut],
    responses=error_responses(401, 403, 404),
)
async def revoke_api_account(
    api_account_id: ApiAccountId, ctx: Admin, session: DbSession
) -> Envelope[ApiAccountOut]:
    return ok(await service.revoke(session, ctx, api_account_id))


@router.get(
    "/{accountId}/settings",
    summary="The account's settings (default phone region)",
    response_model=Envelope[AccountSettingsOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_account_settings(ctx: Viewer, session: DbSession) -> Envelope[AccountSettingsOut]:
    return ok(await service.get_settings(session, ctx))


@router.patch(
    "/{accountId}/settings",
    summary="Change the account's settings",
    description="`defaultPhoneRegion`: phone numbers typed without a country code (CRM "
    "customers and contacts, search) are read in this region; TR when unset.",
    response_model=Envelope[AccountSettingsOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_account_settings(
    body: AccountSettingsUpdate, ctx: Admin, session: DbSession, if_match: IfMatch = None
) -> Envelope[AccountSettingsOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_settings(session, ctx, body, version))
