"""Keeping Instagram's 60-day tokens alive: refreshed by a scheduled job before they expire.

Facebook Page tokens obtained from a long-lived user token do not expire; they only stop
working when the person changes their password or removes the app, which a refused call
(code 190) reports and `mark_needs_reauth` handles.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from ticaret.core.db import unit_of_work
from ticaret.settings import get_settings
from ticaret.social.config import instagram_graph
from ticaret.social.errors import MetaNotConfigured
from ticaret.social.graph.errors import GraphError
from ticaret.social.repository import assets as repository
from ticaret.social.service.common import encrypt_token, mark_needs_reauth, now, token_of

logger = logging.getLogger("ticaret.social.tokens")

# Meta refreshes a long-lived token only once it is at least this old.
MIN_TOKEN_AGE = timedelta(hours=24)


async def tokens_to_refresh() -> list[uuid.UUID]:
    days = get_settings().instagram.token_refresh_days_before
    moment = now()
    async with unit_of_work() as session:
        return await repository.instagram_tokens_expiring(
            session, moment + timedelta(days=days), moment - MIN_TOKEN_AGE
        )


async def refresh_instagram_token(asset_id: uuid.UUID) -> str:
    settings = get_settings()
    async with unit_of_work() as session:
        asset = await repository.asset_for_job(session, asset_id)
        if asset is None or asset.token_encrypted is None or asset.platform != "instagram":
            return "skipped"
        token = token_of(asset)
    try:
        grant = await instagram_graph(settings).refresh(token)
    except MetaNotConfigured:
        return "not configured"
    except GraphError as exc:
        async with unit_of_work() as session:
            asset = await repository.asset_for_job(session, asset_id, for_update=True)
            if asset is None:
                return "skipped"
            if exc.needs_reauth:
                await mark_needs_reauth(session, asset, exc)
                return "needs_reauth"
            # Tried again at the next run: the token still has days left.
            asset.last_error = f"token refresh failed: {exc}"[:1000]
        logger.warning("refreshing instagram token of %s failed: %s", asset_id, exc)
        return "failed"
    async with unit_of_work() as session:
        asset = await repository.asset_for_job(session, asset_id, for_update=True)
        if asset is None:
            return "skipped"
        moment = now()
        asset.token_encrypted = encrypt_token(grant.access_token)
        asset.token_refreshed_at = moment
        if grant.expires_in:
            asset.token_expires_at = moment + timedelta(seconds=grant.expires_in)
        asset.last_error = None
    return "refreshed"
