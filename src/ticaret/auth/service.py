"""Registration, login and password resets."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.accounts.events import ACCOUNT_CREATED, AccountCreated
from ticaret.auth import repository
from ticaret.auth.errors import EmailTaken, InvalidCredentials, InvalidPasswordToken
from ticaret.auth.schemas import LoginResponse, MembershipOut, UserOut
from ticaret.core.events import Actor, emit
from ticaret.core.ids import random_token
from ticaret.core.security import hash_password, hash_token, issue_access_token, verify_password
from ticaret.models import Account, Membership, PasswordToken, Role, TokenPurpose, User
from ticaret.notifications.service import queue_email
from ticaret.settings import Settings

logger = logging.getLogger("ticaret.auth")

INVITATION_TTL = timedelta(days=7)


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(user)


async def memberships_out(session: AsyncSession, user: User) -> list[MembershipOut]:
    return [
        MembershipOut(account_id=account.id, account_name=account.name, role=membership.role)
        for account, membership in await repository.memberships_of(session, user.id)
    ]


async def _login_response(session: AsyncSession, settings: Settings, user: User) -> LoginResponse:
    token = issue_access_token(settings, user.id, user.token_version)
    return LoginResponse(
        access_token=token.token,
        expires_in=token.expires_in,
        user=user_out(user),
        accounts=await memberships_out(session, user),
    )


async def create_account_with_owner(session: AsyncSession, user: User, name: str) -> Account:
    account = Account(name=name)
    session.add(account)
    await session.flush()
    session.add(Membership(account_id=account.id, user_id=user.id, role=Role.owner))
    await session.flush()
    emit(
        session,
        ACCOUNT_CREATED,
        AccountCreated(account_id=account.id, name=account.name),
        account_id=account.id,
        actor=Actor("user", str(user.id)),
    )
    return account


async def register(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    name: str,
    account_name: str | None,
) -> LoginResponse:
    if await repository.user_by_email(session, email) is not None:
        raise EmailTaken()
    user = User(email=email, name=name, password_hash=await hash_password(password))
    session.add(user)
    await session.flush()
    await create_account_with_owner(session, user, account_name or f"{name}'s account")
    return await _login_response(session, settings, user)


async def login(
    session: AsyncSession, settings: Settings, *, email: str, password: str
) -> LoginResponse:
    user = await repository.user_by_email(session, email)
    # One answer for an unknown email, a user without a password yet, and a wrong password.
    if not await verify_password(password, user.password_hash if user else None) or user is None:
        raise InvalidCredentials()
    await repository.touch_last_login(session, user.id, datetime.now(UTC))
    return await _login_response(session, settings, user)


async def issue_password_token(
    session: AsyncSession, user: User, purpose: TokenPurpose, ttl: timedelta
) -> str:
    token = random_token(32)
    session.add(
        PasswordToken(
            user_id=user.id,
            purpose=purpose.value,
            token_hash=hash_token(token),
            expires_at=datetime.now(UTC) + ttl,
        )
    )
    await session.flush()
    return token


def _reset_instructions(settings: Settings, token: str) -> str:
    base = settings.public_base_url.rstrip("/")
    return (
        f"Reset link: {base}/reset-password?token={token}\n\n"
        "Or call the API directly:\n"
        f"  curl -X POST {base}/auth/reset-password -H 'content-type: application/json' \\\n"
        f'       -d \'{{"token": "{token}", "password": "<new password>"}}\'\n'
    )


async def forgot_password(session: AsyncSession, settings: Settings, *, email: str) -> None:
    user = await repository.user_by_email(session, email)
    if user is None:
        return
    ttl = timedelta(seconds=settings.auth.reset_token_ttl_seconds)
    token = await issue_password_token(session, user, TokenPurpose.password_reset, ttl)
    minutes = settings.auth.reset_token_ttl_seconds // 60
    await queue_email(
        session,
        to=user.email,
        subject="Reset your Ticaret password",
        body=(
            f"Hello {user.name or user.email},\n\n"
            "Someone asked to reset your Ticaret password. "
            f"The token works once, for {minutes} minutes.\n\n"
            f"{_reset_instructions(settings, token)}\n"
            "If it was not you, ignore this email: your password is unchanged.\n"
        ),
        kind="password_reset",
    )


async def send_invitation(
    session: AsyncSession, settings: Settings, *, user: User, account: Account, inviter: str
) -> None:
    token = await issue_password_token(session, user, TokenPurpose.invitation, INVITATION_TTL)
    await queue_email(
        session,
        to=user.email,
        subject=f"You have been invited to {account.name} on Ticaret",
        body=(
            f"Hello {user.name or user.email},\n\n"
            f"{inviter} added you to {account.name} on Ticaret. Choose a password to sign in "
            "(the token works once, for 7 days).\n\n"
            f"{_reset_instructions(settings, token)}"
        ),
        kind="invitation",
    )


async def reset_password(session: AsyncSession, *, token: str, password: str) -> None:
    now = datetime.now(UTC)
    stored = await repository.usable_token(session, hash_token(token), now)
    if stored is None:
        raise InvalidPasswordToken()
    user = await session.get(User, stored.user_id, with_for_update=True)
    if user is None:
        raise InvalidPasswordToken()
    user.password_hash = await hash_password(password)
    # Every access token issued before the reset carries the old version and stops working.
    user.token_version += 1
    await repository.spend_open_tokens(session, user.id, now)
    logger.info("password reset for user %s", user.id)
