from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import (
    Account,
    AuthSession,
    Membership,
    MembershipStatus,
    PasswordToken,
    RefreshToken,
    User,
)


async def account_by_id(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def user_by_email(
    session: AsyncSession, email: str, *, for_update: bool = False
) -> User | None:
    stmt = select(User).where(func.lower(User.email) == email.lower())
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def memberships_of(
    session: AsyncSession, user_id: uuid.UUID
) -> list[tuple[Account, Membership]]:
    rows = await session.execute(
        select(Account, Membership)
        .join(Membership, Membership.account_id == Account.id)
        .where(
            Membership.user_id == user_id,
            Membership.status == MembershipStatus.active,
            Account.deleted_at.is_(None),
        )
        .order_by(Membership.created_at)
    )
    return [(account, membership) for account, membership in rows.tuples()]


async def invitations_of(
    session: AsyncSession, user_id: uuid.UUID
) -> list[tuple[Account, Membership]]:
    rows = await session.execute(
        select(Account, Membership)
        .join(Membership, Membership.account_id == Account.id)
        .where(
            Membership.user_id == user_id,
            Membership.status == MembershipStatus.invited,
            Account.deleted_at.is_(None),
        )
        .order_by(Membership.created_at.desc())
    )
    return [(account, membership) for account, membership in rows.tuples()]


async def invitation(
    session: AsyncSession, user_id: uuid.UUID, membership_id: uuid.UUID
) -> tuple[Account, Membership] | None:
    row = (
        await session.execute(
            select(Account, Membership)
            .join(Membership, Membership.account_id == Account.id)
            .where(
                Membership.id == membership_id,
                Membership.user_id == user_id,
                Membership.status == MembershipStatus.invited,
                Account.deleted_at.is_(None),
            )
            .with_for_update(of=Membership)
        )
    ).first()
    return row.tuple() if row is not None else None


async def touch_last_login(session: AsyncSession, user_id: uuid.UUID, when: datetime) -> None:
    # Not a user edit: bypass the version counter so logins never cause version conflicts.
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(last_login_at=when)
        .execution_options(synchronize_session=False)
    )


async def usable_token(
    session: AsyncSession, token_hash: str, purposes: Collection[str], now: datetime
) -> PasswordToken | None:
    return await session.scalar(
        select(PasswordToken)
        .where(
            PasswordToken.token_hash == token_hash,
            PasswordToken.purpose.in_(list(purposes)),
            PasswordToken.used_at.is_(None),
            PasswordToken.expires_at > now,
        )
        .with_for_update()
    )


async def spend_open_tokens(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, purposes: Collection[str]
) -> None:
    await session.execute(
        update(PasswordToken)
        .where(
            PasswordToken.user_id == user_id,
            PasswordToken.used_at.is_(None),
            PasswordToken.purpose.in_(list(purposes)),
        )
        .values(used_at=now)
    )


async def refresh_token_with_session(
    session: AsyncSession, token_hash: str
) -> tuple[RefreshToken, AuthSession] | None:
    """The token and its session, both locked: two refreshes with one token run one at a time."""
    row = (
        await session.execute(
            select(RefreshToken, AuthSession)
            .join(AuthSession, AuthSession.id == RefreshToken.session_id)
            .where(RefreshToken.token_hash == token_hash)
            .with_for_update()
        )
    ).first()
    return row.tuple() if row is not None else None


async def auth_session(
    session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID
) -> AuthSession | None:
    return await session.scalar(
        select(AuthSession).where(AuthSession.id == session_id, AuthSession.user_id == user_id)
    )


async def revoke_sessions(
    session: AsyncSession,
    user_id: uuid.UUID,
    now: datetime,
    reason: str,
    *,
    session_ids: Collection[uuid.UUID] | None = None,
) -> None:
    """End the user's open login sessions (or only `session_ids` among them)."""
    stmt = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if session_ids is not None:
        stmt = stmt.where(AuthSession.id.in_(list(session_ids)))
    await session.execute(stmt)
