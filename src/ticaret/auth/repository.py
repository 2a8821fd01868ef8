from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import Account, Membership, PasswordToken, User


async def account_by_id(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def memberships_of(
    session: AsyncSession, user_id: uuid.UUID
) -> list[tuple[Account, Membership]]:
    rows = await session.execute(
        select(Account, Membership)
        .join(Membership, Membership.account_id == Account.id)
        .where(Membership.user_id == user_id, Account.deleted_at.is_(None))
        .order_by(Membership.created_at)
    )
    return [(account, membership) for account, membership in rows.tuples()]


async def touch_last_login(session: AsyncSession, user_id: uuid.UUID, when: datetime) -> None:
    # Not a user edit: bypass the version counter so logins never cause version conflicts.
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(last_login_at=when)
        .execution_options(synchronize_session=False)
    )


async def usable_token(
    session: AsyncSession, token_hash: str, now: datetime
) -> PasswordToken | None:
    return await session.scalar(
        select(PasswordToken)
        .where(
            PasswordToken.token_hash == token_hash,
            PasswordToken.used_at.is_(None),
            PasswordToken.expires_at > now,
        )
        .with_for_update()
    )


async def spend_open_tokens(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(PasswordToken)
        .where(PasswordToken.user_id == user_id, PasswordToken.used_at.is_(None))
        .values(used_at=now)
    )
