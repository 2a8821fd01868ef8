"""Connected assets: list, settings, soft delete, sync, and the operations behind them."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from ticaret.core.db import DbSession
from ticaret.core.deps import Admin, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.settings import Settings, get_settings
from ticaret.social.router.flavor import Flavor
from ticaret.social.schemas import AssetOut, AssetRemoved, AssetUpdate, OperationOut, SyncStarted
from ticaret.social.service import assets as service

AppSettings = Annotated[Settings, Depends(get_settings)]


def add_routes(router: APIRouter, f: Flavor) -> None:
    what = "Meta asset" if f.platform == "facebook" else "Instagram hesap"
    asset_id_param = Path(alias=f.asset_param, description=f"The {f.asset_word}'s id (ours).")

    async def list_assets(
        ctx: Viewer, session: DbSession, page: Paging
    ) -> Envelope[Page[AssetOut]]:
        return ok(await service.list_assets(session, ctx, f.platform, page))

    router.add_api_route(
        f.assets_path,
        list_assets,
        methods=["GET"],
        summary=f"List the account's connected {f.asset_word}s",
        description=(
            "Account Meta asset listesini getirir."
            if f.platform == "facebook"
            else "Account Instagram hesap listesini getirir."
        ),
        response_model=Envelope[Page[AssetOut]],
        responses=error_responses(400, 401, 403, 422),
        tags=[f.tag],
        name=f"{f.platform}_list_assets",
    )

    async def update_asset(
        body: AssetUpdate,
        ctx: Admin,
        session: DbSession,
        if_match: IfMatch = None,
        asset_id: uuid.UUID = asset_id_param,
    ) -> Envelope[AssetOut]:
        version = expected_version(body.entity_version, if_match)
        return ok(await service.update_asset(session, ctx, f.platform, asset_id, body, version))

    router.add_api_route(
        f.asset_path,
        update_asset,
        methods=["PATCH"],
        summary=f"Update a {f.asset_word}'s name, enabled features or default assignee",
        description=f"{what} ayarlarini gunceller.",
        response_model=Envelope[AssetOut],
        responses=error_responses(401, 403, 404, 409, 422),
        tags=[f.tag],
        name=f"{f.platform}_update_asset",
    )

    async def delete_asset(
        ctx: Admin,
        session: DbSession,
        settings: AppSettings,
        asset_id: uuid.UUID = asset_id_param,
    ) -> Envelope[AssetRemoved]:
        return ok(await service.delete_asset(session, settings, ctx, f.platform, asset_id))

    router.add_api_route(
        f.asset_path,
        delete_asset,
        methods=["DELETE"],
        summary=f"Disconnect a {f.asset_word}: unsubscribe its webhooks, forget its token",
        description=f"{what} erisimini soft-delete eder. Its threads, posts and comments "
        "stay readable no longer: the asset answers 404 from now on.",
        response_model=Envelope[AssetRemoved],
        responses=error_responses(401, 403, 404, 422),
        tags=[f.tag],
        name=f"{f.platform}_delete_asset",
    )

    async def sync_asset(
        ctx: Admin, session: DbSession, asset_id: uuid.UUID = asset_id_param
    ) -> Envelope[SyncStarted]:
        return ok(
            SyncStarted(operation=await service.start_sync(session, ctx, f.platform, asset_id))
        )

    router.add_api_route(
        f"{f.asset_path}/sync",
        sync_asset,
        methods=["POST"],
        status_code=status.HTTP_202_ACCEPTED,
        summary="Backfill conversations, messages, "
        + ("posts" if f.platform == "facebook" else "media")
        + " and comments (a job; watch its operation)",
        description=(
            "Meta asset inbox/post sync calistirir."
            if f.platform == "facebook"
            else "Instagram hesap inbox/media sync calistirir."
        )
        + " Returns the sync operation (an existing queued or running one if any); its "
        "`progress` shows the phase, counts and rate-limit waits.",
        response_model=Envelope[SyncStarted],
        responses=error_responses(401, 403, 404, 409, 422),
        tags=[f.tag],
        name=f"{f.platform}_sync_asset",
    )

    async def get_operation(
        ctx: Viewer,
        session: DbSession,
        asset_id: uuid.UUID = asset_id_param,
        operation_id: uuid.UUID = Path(alias="operationId"),
    ) -> Envelope[OperationOut]:
        return ok(await service.get_operation(session, ctx, f.platform, asset_id, operation_id))

    router.add_api_route(
        f"{f.asset_path}/operations/{{operationId}}",
        get_operation,
        methods=["GET"],
        summary="One operation (send, reply, publication, sync) with its status and progress",
        response_model=Envelope[OperationOut],
        responses=error_responses(401, 403, 404, 422),
        tags=[f.tag],
        name=f"{f.platform}_get_operation",
    )
