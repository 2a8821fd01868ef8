"""Development without a Facebook app: realistic webhook bodies, signed as Meta signs them, and a
stand-in asset to receive them (`ticaret meta-inject`)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import AssetFeature, AssetStatus, MetaAsset
from ticaret.social.repository import assets as repository

DEV_PAGE_ID = "100000000000001"
DEV_INSTAGRAM_ID = "17841400000000001"


def message_body(platform: str, account_id: str, sender: str, text: str) -> dict[str, Any]:
    """A `messages` webhook as Meta sends it for a Page (Messenger) or an Instagram account."""
    now = int(time.time() * 1000)
    return {
        "object": "page" if platform == "facebook" else "instagram",
        "entry": [
            {
                "id": account_id,
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": sender},
                        "recipient": {"id": account_id},
                        "timestamp": now,
                        "message": {"mid": f"m_dev_{uuid.uuid4().hex}", "text": text},
                    }
                ],
            }
        ],
    }


def comment_body(platform: str, account_id: str, sender: str, text: str) -> dict[str, Any]:
    """A comment on a post: a Page `feed` change, or an Instagram `comments` change."""
    now = int(time.time())
    comment_id = str(uuid.uuid4().int)[:17]
    if platform == "facebook":
        post_id = f"{account_id}_{str(uuid.uuid4().int)[:15]}"
        value: dict[str, Any] = {
            "from": {"id": sender, "name": "Dev Customer"},
            "post_id": post_id,
            "comment_id": f"{post_id.split('_')[1]}_{comment_id}",
            "parent_id": post_id,
            "created_time": now,
            "item": "comment",
            "verb": "add",
            "message": text,
        }
        field = "feed"
    else:
        value = {
            "from": {"id": sender, "username": "dev.customer"},
            "media": {"id": "17900000000000001", "media_product_type": "FEED"},
            "id": comment_id,
            "text": text,
        }
        field = "comments"
    return {
        "object": "page" if platform == "facebook" else "instagram",
        "entry": [{"id": account_id, "time": now, "changes": [{"field": field, "value": value}]}],
    }


async def ensure_dev_asset(
    session: AsyncSession, account_id: uuid.UUID, platform: str, external_id: str
) -> MetaAsset:
    """The account's asset for this id, or a stand-in without a token (receives webhooks;
    anything that calls Meta answers `asset_needs_reauth` until a real onboarding)."""
    asset = await repository.asset_by_external(session, account_id, platform, external_id)
    if asset is not None:
        return asset
    asset = MetaAsset(
        account_id=account_id,
        platform=platform,
        external_id=external_id,
        name="Dev Page" if platform == "facebook" else "Dev Instagram",
        username=None if platform == "facebook" else "dev.shop",
        status=AssetStatus.active,
        features=[f.value for f in AssetFeature],
        scopes=[],
        subscribed_fields=[],
        connected_by_type="system",
    )
    session.add(asset)
    await session.flush()
    return asset
