from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status
from fastapi.responses import JSONResponse

from ticaret.auth import repository, service
from ticaret.auth.errors import RefreshTokenReused
from ticaret.auth.schemas import (
    Acknowledged,
    ApiAccountPrincipalOut,
    ForgotPasswordRequest,
    InvitationOut,
    LoginRequest,
    LoginResponse,
    LogoutRequest,
    MembershipOut,
    MeResponse,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    TokenPair,
    VerifyEmailRequest,
)
from ticaret.core.auth import CurrentPrincipal, CurrentUser, client_ip
from ticaret.core.db import DbSession
from ticaret.core.envelope import Envelope, ok
from ticaret.core.errors import error_body
from ticaret.core.openapi import error_responses
from ticaret.core.ratelimit import limit_attempts
from ticaret.settings import Settings, get_settings

router = APIRouter(prefix="/auth", tags=["Auth"])

SettingsDep = Annotated[Settings, Depends(get_settings)]
InvitationId = Annotated[uuid.UUID, Path(alias="invitationId")]


@router.post(
    "/register",
    summary="Register a user (and their first account)",
    description="Yeni kullanici kaydi olusturur. An address that was invited but never signed in "
    "can register too: the login works at once, a confirmation link is mailed, and the "
    "invitations stay offers (`GET /auth/invitations`) until the address is confirmed.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[LoginResponse],
    responses=error_responses(400, 409, 422, 429),
)
async def register(
    body: RegisterRequest, session: DbSession, settings: SettingsDep, request: Request
) -> Envelope[LoginResponse]:
    await limit_attempts("register", client_ip(request) or "-", limit=20, window_seconds=3600)
    return ok(
        await service.register(
            session,
            settings,
            email=str(body.email),
            password=body.password,
            name=body.name,
            account_name=body.account_name,
        )
    )


@router.post(
    "/login",
    summary="Log in with email and password",
    response_model=Envelope[LoginResponse],
    responses=error_responses(401, 422, 429),
)
async def login(
    body: LoginRequest, session: DbSession, settings: SettingsDep
) -> Envelope[LoginResponse]:
    # Limited per email inside (progressive delay), never per client address: behind a shared
    # proxy address one guesser would lock everyone out, and rotating addresses buys nothing.
    return ok(await service.login(session, settings, email=str(body.email), password=body.password))


@router.post(
    "/refresh",
    summary="New access token from a refresh token (rotating, single use)",
    description="The refresh token is spent and a new pair returned. Presenting a spent refresh "
    "token again ends the whole login session (every token of it): only one party can hold a "
    "family, so a second one means it was stolen.",
    response_model=Envelope[TokenPair],
    responses=error_responses(401, 422),
)
async def refresh(
    body: RefreshRequest, session: DbSession, settings: SettingsDep
) -> Envelope[TokenPair] | JSONResponse:
    pair = await service.refresh(session, settings, body.refresh_token)
    if pair is None:
        # Answered, not raised: the revocation of the session must be committed.
        return JSONResponse(
            error_body(RefreshTokenReused.code, RefreshTokenReused.default_message),
            status_code=RefreshTokenReused.status_code,
        )
    return ok(pair)


@router.post(
    "/logout",
    summary="Log out: end this login session (and the one of `refreshToken`, if given)",
    description="Cikis. The session's refresh tokens stop working, and so do its access tokens.",
    response_model=Envelope[Acknowledged],
    responses=error_responses(401, 422),
)
async def logout(
    principal: CurrentPrincipal, session: DbSession, body: LogoutRequest | None = None
) -> Envelope[Acknowledged]:
    if principal.user is not None:
        await service.logout(
            session, principal.user.id, principal.session_id, body.refresh_token if body else None
        )
    return ok(Acknowledged(message="Logged out."))


@router.post(
    "/forgot-password",
    summary="Email a password reset token (always answers 200)",
    response_model=Envelope[Acknowledged],
    responses=error_responses(422, 429),
)
async def forgot_password(
    body: ForgotPasswordRequest, session: DbSession, settings: SettingsDep, request: Request
) -> Envelope[Acknowledged]:
    await limit_attempts("forgot", client_ip(request) or "-", limit=20, window_seconds=3600)
    await service.forgot_password(session, settings, email=str(body.email))
    return ok(Acknowledged(message="If this email has an account, a reset link is on its way."))


@router.post(
    "/reset-password",
    summary="Set a new password with a reset or invitation token",
    response_model=Envelope[Acknowledged],
    responses=error_responses(400, 422, 429),
)
async def reset_password(
    body: ResetPasswordRequest, session: DbSession, settings: SettingsDep, request: Request
) -> Envelope[Acknowledged]:
    await limit_attempts("reset", client_ip(request) or "-", limit=30, window_seconds=3600)
    await service.reset_password(session, settings, token=body.token, password=body.password)
    return ok(
        Acknowledged(message="Password updated. Earlier access and refresh tokens no longer work.")
    )


@router.post(
    "/verify-email",
    summary="Confirm the email address with the mailed token",
    response_model=Envelope[Acknowledged],
    responses=error_responses(400, 422, 429),
)
async def verify_email(
    body: VerifyEmailRequest, session: DbSession, request: Request
) -> Envelope[Acknowledged]:
    await limit_attempts("verify", client_ip(request) or "-", limit=30, window_seconds=3600)
    await service.verify_email(session, token=body.token)
    return ok(Acknowledged(message="Email address confirmed."))


@router.get(
    "/invitations",
    summary="Invitations waiting for the caller (accounts that added their email)",
    response_model=Envelope[list[InvitationOut]],
    responses=error_responses(401, 403),
)
async def list_invitations(user: CurrentUser, session: DbSession) -> Envelope[list[InvitationOut]]:
    return ok(await service.list_invitations(session, user))


@router.post(
    "/invitations/{invitationId}/accept",
    summary="Accept an invitation: become a member of that account",
    description="Needs a confirmed email address (403 `email_unverified` otherwise).",
    response_model=Envelope[MembershipOut],
    responses=error_responses(401, 403, 404),
)
async def accept_invitation(
    invitation_id: InvitationId, user: CurrentUser, session: DbSession
) -> Envelope[MembershipOut]:
    return ok(await service.accept_invitation(session, user, invitation_id))


@router.post(
    "/invitations/{invitationId}/decline",
    summary="Decline an invitation",
    response_model=Envelope[Acknowledged],
    responses=error_responses(401, 403, 404),
)
async def decline_invitation(
    invitation_id: InvitationId, user: CurrentUser, session: DbSession
) -> Envelope[Acknowledged]:
    await service.decline_invitation(session, user, invitation_id)
    return ok(Acknowledged(message="Invitation declined."))


@router.get(
    "/me",
    summary="The caller: user or API account, and the accounts it can act in",
    response_model=Envelope[MeResponse],
    responses=error_responses(401),
)
async def me(principal: CurrentPrincipal, session: DbSession) -> Envelope[MeResponse]:
    if principal.user is not None:
        return ok(
            MeResponse(
                principal_type="user",
                user=service.user_out(principal.user),
                accounts=await service.memberships_out(session, principal.user.id),
            )
        )
    api_account = principal.api_account
    assert api_account is not None
    account = await repository.account_by_id(session, api_account.account_id)
    assert account is not None
    return ok(
        MeResponse(
            principal_type="api_account",
            api_account=ApiAccountPrincipalOut.model_validate(api_account),
            accounts=[
                MembershipOut(
                    account_id=account.id, account_name=account.name, role=api_account.role
                )
            ],
        )
    )
