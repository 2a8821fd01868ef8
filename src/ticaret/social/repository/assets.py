"""SQL for connected assets and onboarding states; every statement scoped by account, except
the few the webhook and the jobs use, which say so."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import (
    AssetStatus,
    Membership,
    MembershipStatus,
    MetaAsset,
    MetaOAuthState,
)


async def asset(
    session: AsyncSession,
    account_id: uuid.UUID,
    asset_id: uuid.UUID,
    platform: str,
    *,
    for_update: bool = False,
) -> MetaAsset | None:
    stmt = select(MetaAsset).where(
        MetaAsset.account_id == account_id,
        MetaAsset.id == asset_id,
        MetaAsset.platform == platform,
        MetaAsset.deleted_at.is_(None),
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def assets_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    platform: str,
    after: uuid.UUID | None,
    limit: int,
) -> list[MetaAsset]:
    stmt = select(MetaAsset).where(
        MetaAsset.account_id == account_id,
        MetaAsset.platform == platform,
        MetaAsset.deleted_at.is_(None),
    )
    if after is not None:
        stmt = stmt.where(MetaAsset.id < after)
    return list(await session.scalars(stmt.order_by(MetaAsset.id.desc()).limit(limit + 1)))


async def asset_by_external(
    session: AsyncSession, account_id: uuid.UUID, platform: str, external_id: str
) -> MetaAsset | None:
    """The account's live asset for this Page / Instagram account (onboarding reconnects it)."""
    return await session.scalar(
        select(MetaAsset)
        .where(
            MetaAsset.account_id == account_id,
            MetaAsset.platform == platform,
            MetaAsset.external_id == external_id,
            MetaAsset.deleted_at.is_(None),
        )
        .with_for_update()
    )


async def owners_of(session: AsyncSession, platform: str, external_id: str) -> list[MetaAsset]:
    """Every account's live asset for a Page / Instagram account: a webhook item names the
    Page, not the account, so this one is not scoped by account."""
    return list(
        await session.scalars(
            select(MetaAsset)
            .where(
                MetaAsset.platform == platform,
                MetaAsset.external_id == external_id,
                MetaAsset.deleted_at.is_(None),
            )
            .order_by(MetaAsset.id)
        )
    )


async def others_connected(
    session: AsyncSession, platform: str, external_id: str, but: uuid.UUID
) -> bool:
    """Whether another account still has this Page connected (the app subscription is shared)."""
    found = await session.scalar(
        select(MetaAsset.id)
        .where(
            MetaAsset.platform == platform,
            MetaAsset.external_id == external_id,
            MetaAsset.deleted_at.is_(None),
            MetaAsset.id != but,
        )
        .limit(1)
    )
    return found is not None


async def asset_by_id(session: AsyncSession, asset_id: uuid.UUID) -> MetaAsset | None:
    """By primary key alone: for jobs that hold the id of an asset we wrote."""
    return await session.get(MetaAsset, asset_id)


async def asset_for_job(
    session: AsyncSession, asset_id: uuid.UUID, *, for_update: bool = False
) -> MetaAsset | None:
    """By primary key alone (jobs), live assets only."""
    stmt = select(MetaAsset).where(MetaAsset.id == asset_id, MetaAsset.deleted_at.is_(None))
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def is_active_member(
    session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID
) -> bool:
    found = await session.scalar(
        select(Membership.id).where(
            Membership.account_id == account_id,
            Membership.user_id == user_id,
            Membership.status == MembershipStatus.active,
        )
    )
    return found is not None


async def instagram_tokens_expiring(
    session: AsyncSession, before: datetime, issued_before: datetime, limit: int = 200
) -> list[uuid.UUID]:
    """Instagram assets whose token runs out before `before` and is old enough to refresh
    (Meta refreshes tokens at least 24 hours old). Across accounts: a sweeper's query."""
    rows = await session.scalars(
        select(MetaAsset.id)
        .where(
            MetaAsset.platform == "instagram",
            MetaAsset.deleted_at.is_(None),
            MetaAsset.status == AssetStatus.active,
            MetaAsset.token_encrypted.is_not(None),
            MetaAsset.token_expires_at < before,
            MetaAsset.token_refreshed_at < issued_before,
        )
        .order_by(MetaAsset.token_expires_at)
        .limit(limit)
    )
    return list(rows)


# Onboarding states -----------------------------------------------------------------------


def add_state(session: AsyncSession, **values: Any) -> MetaOAuthState:
    state = MetaOAuthState(**values)
    session.add(state)
    return state


async def consume_state(
    session: AsyncSession, nonce_hash: str, platform: str, now: datetime
) -> MetaOAuthState | None:
    """Mark the state used and return it; None when unknown, used, expired or for the other
    platform. One UPDATE, so two callbacks racing with the same state cannot both win."""
    return await session.scalar(
        update(MetaOAuthState)
        .where(
            MetaOAuthState.nonce_hash == nonce_hash,
            MetaOAuthState.platform == platform,
            MetaOAuthState.consumed_at.is_(None),
            MetaOAuthState.expires_at > now,
        )
        .values(consumed_at=now)
        .returning(MetaOAuthState)
    )


async def purge_states(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(
        delete(MetaOAuthState)
        .where(MetaOAuthState.expires_at < before)
        .returning(MetaOAuthState.id)
    )
    return len(result.all())
