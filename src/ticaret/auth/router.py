from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from ticaret.auth import repository, service
from ticaret.auth.schemas import (
    Acknowledged,
    ApiAccountPrincipalOut,
    ForgotPasswordRequest,
    LoginRequest,
    LoginResponse,
    MembershipOut,
    MeResponse,
    RegisterRequest,
    ResetPasswordRequest,
)
from ticaret.core.auth import CurrentPrincipal, client_ip
from ticaret.core.db import DbSession
from ticaret.core.envelope import Envelope, ok
from ticaret.core.openapi import error_responses
from ticaret.core.ratelimit import limit_attempts
from ticaret.settings import Settings, get_settings

router = APIRouter(prefix="/auth", tags=["Auth"])

SettingsDep = Annotated[Settings, Depends(get_settings)]


@router.post(
    "/register",
    summary="Register a user (and their first account)",
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
    body: LoginRequest, session: DbSession, settings: SettingsDep, request: Request
) -> Envelope[LoginResponse]:
    # Per email and per address: slows password guessing without locking out the real user
    # from elsewhere.
    await limit_attempts(
        "login", f"{str(body.email).lower()}|{client_ip(request)}", limit=10, window_seconds=900
    )
    return ok(await service.login(session, settings, email=str(body.email), password=body.password))


@router.post(
    "/logout",
    summary="Log out (no-op in v1: drop the token client-side; it expires by itself)",
    response_model=Envelope[Acknowledged],
    responses=error_responses(401),
)
async def logout(_: CurrentPrincipal) -> Envelope[Acknowledged]:
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
    body: ResetPasswordRequest, session: DbSession, request: Request
) -> Envelope[Acknowledged]:
    await limit_attempts("reset", client_ip(request) or "-", limit=30, window_seconds=3600)
    await service.reset_password(session, token=body.token, password=body.password)
    return ok(Acknowledged(message="Password updated. Earlier access tokens no longer work."))


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
                accounts=await service.memberships_out(session, principal.user),
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
