"""What every area of the domain needs: the asset a call acts on, its token, and what happens
when Meta refuses that token."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.db import unit_of_work
from ticaret.core.events import Actor, emit
from ticaret.core.security import secret_box
from ticaret.models import AssetFeature, AssetStatus, MetaAsset
from ticaret.settings import get_settings
from ticaret.social.errors import (
    AssetNeedsReauth,
    AssetNotFound,
    FeatureDisabled,
    InstagramAccountNotFound,
)
from ticaret.social.events import AssetChanged, events_of
from ticaret.social.graph.errors import GraphError
from ticaret.social.repository import assets as repository

logger = logging.getLogger("ticaret.social")


def not_found(platform: str) -> AssetNotFound | InstagramAccountNotFound:
    return AssetNotFound() if platform == "facebook" else InstagramAccountNotFound()


async def asset_or_404(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> MetaAsset:
    asset = await repository.asset(
        session, ctx.account_id, asset_id, platform, for_update=for_update
    )
    if asset is None:
        raise not_found(platform)
    return asset


def require_usable(asset: MetaAsset, feature: AssetFeature | None = None) -> None:
    """Calls that reach Meta need a live token, and the feature turned on."""
    if asset.status == AssetStatus.needs_reauth or asset.token_encrypted is None:
        raise AssetNeedsReauth()
    if feature is not None and feature.value not in asset.features:
        raise FeatureDisabled(f"The {feature.value} feature is turned off for this asset.")


def encrypt_token(token: str) -> str:
    return secret_box(get_settings()).encrypt(token)


def token_of(asset: MetaAsset) -> str:
    if asset.token_encrypted is None:
        raise AssetNeedsReauth()
    return secret_box(get_settings()).decrypt(asset.token_encrypted)


def asset_changed(asset: MetaAsset, reason: str | None) -> AssetChanged:
    return AssetChanged(
        asset_id=asset.id,
        platform=asset.platform,
        external_id=asset.external_id,
        name=asset.name,
        status=asset.status,
        reason=reason,
    )


async def mark_needs_reauth(session: AsyncSession, asset: MetaAsset, error: GraphError) -> None:
    """Meta refused the token: the asset waits for a new onboarding, and its account hears of
    it once (not on every refused call)."""
    asset.last_error = str(error)[:1000]
    if asset.status == AssetStatus.needs_reauth:
        return
    asset.status = AssetStatus.needs_reauth
    await session.flush()
    logger.warning("%s asset %s needs a new onboarding: %s", asset.platform, asset.id, error)
    emit(
        session,
        events_of(asset.platform).asset_needs_reauth,
        asset_changed(asset, str(error)[:500]),
        account_id=asset.account_id,
        actor=Actor.system(),
    )


async def record_auth_failure(asset_id: uuid.UUID, error: GraphError) -> None:
    """`mark_needs_reauth` in a transaction of its own (for jobs outside one)."""
    async with unit_of_work() as session:
        asset = await repository.asset_for_job(session, asset_id, for_update=True)
        if asset is not None:
            await mark_needs_reauth(session, asset, error)


def now() -> datetime:
    return datetime.now(UTC)
