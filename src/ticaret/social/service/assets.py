"""Connected assets: list, settings, removal, and starting a sync."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page
from ticaret.core.versioning import check_version
from ticaret.models import MetaOperationKind, MetaOperationStatus
from ticaret.settings import Settings
from ticaret.social.config import graph_for
from ticaret.social.errors import MetaNotConfigured, OperationNotFound, UnknownAssignee
from ticaret.social.graph.errors import GraphError
from ticaret.social.repository import assets as repository
from ticaret.social.repository import operations as operations_repository
from ticaret.social.schemas import AssetOut, AssetRemoved, AssetUpdate, OperationOut
from ticaret.social.service.common import asset_or_404, now, require_usable, token_of
from ticaret.social.tasks import queue_operation
from ticaret.social.views import asset_out, operation_out

logger = logging.getLogger("ticaret.social.assets")


async def list_assets(
    session: AsyncSession, ctx: AccountContext, platform: str, page: PageParams
) -> Page[AssetOut]:
    rows = await repository.assets_page(
        session, ctx.account_id, platform, page.after_id(), page.limit
    )
    kept, cursor, more = build_page(rows, page.limit, lambda a: [a.id])
    return Page[AssetOut](rows=[asset_out(a) for a in kept], next_cursor=cursor, has_more=more)


async def update_asset(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    body: AssetUpdate,
    expected_version: str | None,
) -> AssetOut:
    asset = await asset_or_404(session, ctx, platform, asset_id, for_update=True)
    check_version(asset, expected_version)
    changes = body.model_fields_set
    if "name" in changes and body.name is not None:
        asset.name = body.name
    if "enabled_features" in changes and body.enabled_features is not None:
        asset.features = sorted({f.value for f in body.enabled_features})
    if "default_assignee_id" in changes:
        assignee = body.default_assignee_id
        if assignee is not None and not await repository.is_active_member(
            session, ctx.account_id, assignee
        ):
            raise UnknownAssignee(
                details={"fields": [{"path": "defaultAssigneeId", "message": "not a member"}]}
            )
        asset.default_assignee_id = assignee
    await session.flush()
    return asset_out(asset)


async def delete_asset(
    session: AsyncSession,
    settings: Settings,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
) -> AssetRemoved:
    """Soft delete: stop the app's webhooks for it (unless another account still has it) and
    forget the token. Meta being unreachable does not keep the asset: the token is gone either
    way, and Meta drops subscriptions whose deliveries keep failing."""
    asset = await asset_or_404(session, ctx, platform, asset_id, for_update=True)
    unsubscribed = False
    shared = await repository.others_connected(session, platform, asset.external_id, asset.id)
    if not shared and asset.token_encrypted is not None:
        try:
            await graph_for(platform, settings).unsubscribe(asset.external_id, token_of(asset))
            unsubscribed = True
        except (GraphError, MetaNotConfigured) as exc:
            logger.warning("could not unsubscribe %s asset %s: %s", platform, asset.id, exc)
    asset.deleted_at = now()
    asset.token_encrypted = None
    asset.token_expires_at = None
    asset.subscribed_fields = []
    await session.flush()
    return AssetRemoved(deleted=True, unsubscribed=unsubscribed)


async def start_sync(
    session: AsyncSession, ctx: AccountContext, platform: str, asset_id: uuid.UUID
) -> OperationOut:
    """Queue a backfill; a sync already queued or running is returned instead of a second."""
    asset = await asset_or_404(session, ctx, platform, asset_id, for_update=True)
    require_usable(asset)
    running = await operations_repository.open_sync(session, asset.id)
    if running is not None:
        return operation_out(running)
    operation = operations_repository.add_operation(
        session,
        account_id=ctx.account_id,
        asset_id=asset.id,
        kind=MetaOperationKind.sync,
        status=MetaOperationStatus.queued,
        attempts=0,
        request={},
        progress={"phase": "queued"},
        actor_type=ctx.actor.type,
        actor_id=ctx.actor.id,
    )
    await session.flush()
    queue_operation(session, operation)
    return operation_out(operation)


async def get_operation(
    session: AsyncSession,
    ctx: AccountContext,
    platform: str,
    asset_id: uuid.UUID,
    operation_id: uuid.UUID,
) -> OperationOut:
    asset = await asset_or_404(session, ctx, platform, asset_id)
    operation = await operations_repository.operation(
        session, ctx.account_id, asset.id, operation_id
    )
    if operation is None:
        raise OperationNotFound()
    return operation_out(operation)
