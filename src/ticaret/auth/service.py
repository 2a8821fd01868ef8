"""Registration, login sessions (rotating refresh tokens), password resets, email verification
and the invitations a user can accept."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.accounts.events import (
    ACCOUNT_CREATED,
    MEMBER_ADDED,
    MEMBER_REMOVED,
    AccountCreated,
    MemberAdded,
    MemberRemoved,
)
from ticaret.auth import repository
from ticaret.auth.errors import (
    EmailTaken,
    EmailUnverified,
    InvalidCredentials,
    InvalidPasswordToken,
    InvalidRefreshToken,
    InvitationNotFound,
)
from ticaret.auth.schemas import (
    InvitationOut,
    LoginResponse,
    MembershipOut,
    TokenPair,
    UserOut,
)
from ticaret.core.auth import UserRef
from ticaret.core.events import Actor, emit
from ticaret.core.ids import random_token
from ticaret.core.ratelimit import clear_attempts, progressive_attempt
from ticaret.core.security import hash_password, hash_token, issue_access_token, verify_password
from ticaret.models import (
    Account,
    AuthSession,
    Membership,
    MembershipStatus,
    PasswordToken,
    RefreshToken,
    Role,
    SessionEndReason,
    TokenPurpose,
    User,
)
from ticaret.notifications.service import SECRET_PLACEHOLDER, queue_email
from ticaret.settings import Settings

logger = logging.getLogger("ticaret.auth")

INVITATION_TTL = timedelta(days=7)
LOGIN_SCOPE = "login"
# Tokens that set a password (and so prove the mailbox); a verification token only verifies.
PASSWORD_TOKENS = (TokenPurpose.password_reset.value, TokenPurpose.invitation.value)


def user_out(user: User | UserRef) -> UserOut:
    return UserOut.model_validate(user)


async def memberships_out(session: AsyncSession, user_id: uuid.UUID) -> list[MembershipOut]:
    return [
        MembershipOut(account_id=account.id, account_name=account.name, role=membership.role)
        for account, membership in await repository.memberships_of(session, user_id)
    ]


# Login sessions ---------------------------------------------------------------------------


async def _new_refresh_token(
    session: AsyncSession, settings: Settings, auth_session: AuthSession, now: datetime
) -> tuple[str, int]:
    ttl = timedelta(seconds=settings.auth.refresh_token_ttl_seconds)
    expires_at = min(now + ttl, auth_session.expires_at)
    token = random_token(32)
    session.add(
        RefreshToken(
            session_id=auth_session.id, token_hash=hash_token(token), expires_at=expires_at
        )
    )
    await session.flush()
    return token, max(int((expires_at - now).total_seconds()), 0)


async def _token_pair(
    session: AsyncSession, settings: Settings, user: User, auth_session: AuthSession
) -> TokenPair:
    now = datetime.now(UTC)
    refresh, refresh_expires_in = await _new_refresh_token(session, settings, auth_session, now)
    access = issue_access_token(settings, user.id, user.token_version, auth_session.id)
    return TokenPair(
        access_token=access.token,
        expires_in=access.expires_in,
        refresh_token=refresh,
        refresh_expires_in=refresh_expires_in,
    )


async def _login_response(session: AsyncSession, settings: Settings, user: User) -> LoginResponse:
    now = datetime.now(UTC)
    auth_session = AuthSession(
        user_id=user.id,
        expires_at=now + timedelta(seconds=settings.auth.session_max_age_seconds),
    )
    session.add(auth_session)
    await session.flush()
    pair = await _token_pair(session, settings, user, auth_session)
    return LoginResponse(
        **pair.model_dump(),
        user=user_out(user),
        accounts=await memberships_out(session, user.id),
    )


async def refresh(session: AsyncSession, settings: Settings, token: str) -> TokenPair | None:
    """A new pair for a refresh token, which is spent; None when the token was already spent.

    A spent token coming back means two parties hold the family (one of them stole it): the whole
    session is revoked, and that must be committed, so it is reported by return, not raised.
    """
    now = datetime.now(UTC)
    found = await repository.refresh_token_with_session(session, hash_token(token))
    if found is None:
        raise InvalidRefreshToken()
    stored, auth_session = found
    if auth_session.revoked_at is not None:
        raise InvalidRefreshToken("The session has ended; log in again.")
    if stored.used_at is not None:
        auth_session.revoked_at = now
        auth_session.revoked_reason = SessionEndReason.reuse
        logger.warning(
            "refresh token reused: session %s of user %s revoked",
            auth_session.id,
            auth_session.user_id,
        )
        return None
    if stored.expires_at <= now or auth_session.expires_at <= now:
        raise InvalidRefreshToken("The refresh token has expired; log in again.")
    user = await session.get(User, auth_session.user_id)
    if user is None:
        raise InvalidRefreshToken()
    stored.used_at = now
    auth_session.refreshed_at = now
    return await _token_pair(session, settings, user, auth_session)


async def logout(
    session: AsyncSession,
    user_id: uuid.UUID,
    session_id: uuid.UUID | None,
    refresh_token: str | None,
) -> None:
    ended = {session_id} if session_id is not None else set()
    if refresh_token:
        found = await repository.refresh_token_with_session(session, hash_token(refresh_token))
        # Someone else's token is not ours to end; say nothing about it.
        if found is not None and found[1].user_id == user_id:
            ended.add(found[1].id)
    if ended:
        await repository.revoke_sessions(
            session, user_id, datetime.now(UTC), SessionEndReason.logout, session_ids=ended
        )


# Registration and login ---------------------------------------------------------------------


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
    user = await repository.user_by_email(session, email, for_update=True)
    if user is not None and user.password_hash is not None:
        raise EmailTaken()
    password_hash = await hash_password(password)
    if user is None:
        user = User(email=email, name=name, password_hash=password_hash)
        session.add(user)
        await session.flush()
    else:
        # Invited but never activated: an invitation must not keep the address from its owner.
        # The account is theirs to use at once; the invitations stay offers until the address
        # is confirmed, since anyone can type anyone's address here.
        user.password_hash = password_hash
        user.name = name
        await session.flush()
        await send_verification(session, settings, user)
    await create_account_with_owner(session, user, account_name or f"{name}'s account")
    return await _login_response(session, settings, user)


async def login(
    session: AsyncSession, settings: Settings, *, email: str, password: str
) -> LoginResponse:
    limits = settings.auth
    # Per email, whatever address the guesses come from, counted before anything is looked up:
    # the answer is the same for an email that has an account and one that has not.
    await progressive_attempt(
        LOGIN_SCOPE,
        email.lower(),
        free_attempts=limits.login_free_attempts,
        base_delay_seconds=limits.login_delay_base_seconds,
        max_delay_seconds=limits.login_delay_max_seconds,
        window_seconds=limits.login_attempt_window_seconds,
    )
    user = await repository.user_by_email(session, email)
    # One answer for an unknown email, a user without a password yet, and a wrong password.
    if not await verify_password(password, user.password_hash if user else None) or user is None:
        raise InvalidCredentials()
    await clear_attempts(LOGIN_SCOPE, email.lower())
    await repository.touch_last_login(session, user.id, datetime.now(UTC))
    return await _login_response(session, settings, user)


# Mailed tokens ----------------------------------------------------------------------------------


async def issue_password_token(
    session: AsyncSession,
    user: User,
    purpose: TokenPurpose,
    ttl: timedelta,
    *,
    membership_id: uuid.UUID | None = None,
) -> str:
    token = random_token(32)
    session.add(
        PasswordToken(
            user_id=user.id,
            purpose=purpose.value,
            token_hash=hash_token(token),
            expires_at=datetime.now(UTC) + ttl,
            membership_id=membership_id,
        )
    )
    await session.flush()
    return token


def _reset_instructions(settings: Settings) -> str:
    base = settings.public_base_url.rstrip("/")
    return (
        f"Reset link: {base}/reset-password?token={SECRET_PLACEHOLDER}\n\n"
        "Or call the API directly:\n"
        f"  curl -X POST {base}/auth/reset-password -H 'content-type: application/json' \\\n"
        f'       -d \'{{"token": "{SECRET_PLACEHOLDER}", "password": "<new password>"}}\'\n'
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
            f"{_reset_instructions(settings)}\n"
            "If it was not you, ignore this email: your password is unchanged.\n"
        ),
        kind="password_reset",
        secret=token,
    )


async def send_invitation(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User,
    account: Account,
    membership: Membership,
    inviter: str,
) -> None:
    token = await issue_password_token(
        session, user, TokenPurpose.invitation, INVITATION_TTL, membership_id=membership.id
    )
    await queue_email(
        session,
        to=user.email,
        subject=f"You have been invited to {account.name} on Ticaret",
        body=(
            f"Hello {user.name or user.email},\n\n"
            f"{inviter} invited you to {account.name} on Ticaret. Choose a password to sign in "
            "and join (the token works once, for 7 days).\n\n"
            f"{_reset_instructions(settings)}\n"
            "Already have a Ticaret login with this address? Sign in and accept the invitation "
            "from GET /auth/invitations instead.\n"
        ),
        kind="invitation",
        secret=token,
    )


async def send_verification(session: AsyncSession, settings: Settings, user: User) -> None:
    ttl = timedelta(seconds=settings.auth.verification_token_ttl_seconds)
    token = await issue_password_token(session, user, TokenPurpose.email_verification, ttl)
    base = settings.public_base_url.rstrip("/")
    await queue_email(
        session,
        to=user.email,
        subject="Confirm your email address for Ticaret",
        body=(
            f"Hello {user.name or user.email},\n\n"
            "A Ticaret login was created with this address. Confirm that it is yours to accept "
            "the invitations waiting for it.\n\n"
            f"Confirmation link: {base}/verify-email?token={SECRET_PLACEHOLDER}\n\n"
            "Or call the API directly:\n"
            f"  curl -X POST {base}/auth/verify-email -H 'content-type: application/json' \\\n"
            f'       -d \'{{"token": "{SECRET_PLACEHOLDER}"}}\'\n\n'
            "If it was not you, reset the password with POST /auth/forgot-password: the login "
            "becomes yours and whoever created it is signed out.\n"
        ),
        kind="email_verification",
        secret=token,
    )


async def _accept(
    session: AsyncSession, user: User, account_id: uuid.UUID, membership: Membership
) -> None:
    membership.status = MembershipStatus.active
    await session.flush()
    # The member list gains an active user: the same event as a direct add, by the user.
    emit(
        session,
        MEMBER_ADDED,
        MemberAdded(user_id=user.id, email=user.email, role=membership.role, invited=False),
        account_id=account_id,
        actor=Actor("user", str(user.id)),
    )


async def reset_password(
    session: AsyncSession, settings: Settings, *, token: str, password: str
) -> None:
    now = datetime.now(UTC)
    stored = await repository.usable_token(session, hash_token(token), PASSWORD_TOKENS, now)
    if stored is None:
        raise InvalidPasswordToken()
    user = await session.get(User, stored.user_id, with_for_update=True)
    if user is None:
        raise InvalidPasswordToken()
    user.password_hash = await hash_password(password)
    # The token came to this mailbox, so the address is theirs.
    user.email_verified_at = user.email_verified_at or now
    # Every access token issued before the reset carries the old version and stops working,
    # and every login session (refresh tokens) ends.
    user.token_version += 1
    await repository.spend_open_tokens(session, user.id, now, PASSWORD_TOKENS)
    await repository.revoke_sessions(session, user.id, now, SessionEndReason.password_reset)
    if stored.purpose == TokenPurpose.invitation and stored.membership_id is not None:
        found = await repository.invitation(session, user.id, stored.membership_id)
        if found is not None:
            await _accept(session, user, found[0].id, found[1])
    await clear_attempts(LOGIN_SCOPE, user.email.lower())
    logger.info("password reset for user %s", user.id)


async def verify_email(session: AsyncSession, *, token: str) -> None:
    now = datetime.now(UTC)
    stored = await repository.usable_token(
        session, hash_token(token), (TokenPurpose.email_verification.value,), now
    )
    if stored is None:
        raise InvalidPasswordToken()
    user = await session.get(User, stored.user_id, with_for_update=True)
    if user is None:
        raise InvalidPasswordToken()
    stored.used_at = now
    user.email_verified_at = user.email_verified_at or now


# Invitations ------------------------------------------------------------------------------------


async def list_invitations(session: AsyncSession, user: User) -> list[InvitationOut]:
    return [
        InvitationOut(
            id=membership.id,
            account_id=account.id,
            account_name=account.name,
            role=membership.role,
            invited_at=membership.created_at,
        )
        for account, membership in await repository.invitations_of(session, user.id)
    ]


async def _invitation_or_404(
    session: AsyncSession, user: User, invitation_id: uuid.UUID
) -> tuple[Account, Membership]:
    found = await repository.invitation(session, user.id, invitation_id)
    if found is None:
        raise InvitationNotFound()
    return found


async def accept_invitation(
    session: AsyncSession, user: User, invitation_id: uuid.UUID
) -> MembershipOut:
    account, membership = await _invitation_or_404(session, user, invitation_id)
    if user.email_verified_at is None:
        raise EmailUnverified()
    await _accept(session, user, account.id, membership)
    return MembershipOut(account_id=account.id, account_name=account.name, role=membership.role)


async def decline_invitation(session: AsyncSession, user: User, invitation_id: uuid.UUID) -> None:
    account, membership = await _invitation_or_404(session, user, invitation_id)
    role = membership.role
    await session.delete(membership)
    await session.flush()
    # The pending member leaves the member list, by their own hand.
    emit(
        session,
        MEMBER_REMOVED,
        MemberRemoved(user_id=user.id, role=role),
        account_id=account.id,
        actor=Actor("user", str(user.id)),
    )
