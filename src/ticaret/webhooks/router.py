from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from ticaret.core.db import DbSession
from ticaret.core.deps import Paging
from ticaret.core.deps import PathAdmin as Admin
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.models import DeliveryStatus
from ticaret.settings import Settings, get_settings
from ticaret.webhooks import service
from ticaret.webhooks.schemas import (
    DeliveryOut,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/accounts/{accountId}/webhooks", tags=["Webhooks"])

AppSettings = Annotated[Settings, Depends(get_settings)]
WebhookId = Annotated[uuid.UUID, Path(alias="webhookId")]
DeliveryId = Annotated[uuid.UUID, Path(alias="deliveryId")]


@router.get(
    "",
    summary="List the account's webhooks",
    description="Account webhook listesini getirir.",
    response_model=Envelope[Page[WebhookOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_webhooks(ctx: Admin, session: DbSession, page: Paging) -> Envelope[Page[WebhookOut]]:
    return ok(await service.list_webhooks(session, ctx, page))


@router.post(
    "",
    summary="Create a webhook (its signing secret is shown once)",
    description="Yeni webhook olusturur. Deliveries are signed per Standard Webhooks with the "
    "returned `whsec_...` secret; store it, it is never shown again.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[WebhookWithSecret],
    responses=error_responses(401, 403, 404, 422),
)
async def create_webhook(
    body: WebhookCreate, ctx: Admin, session: DbSession, settings: AppSettings
) -> Envelope[WebhookWithSecret]:
    return ok(await service.create_webhook(session, settings, ctx, body))


@router.get(
    "/{webhookId}",
    summary="Get a webhook",
    description="Webhook detayini getirir.",
    response_model=Envelope[WebhookOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_webhook(
    webhook_id: WebhookId, ctx: Admin, session: DbSession
) -> Envelope[WebhookOut]:
    return ok(await service.get_webhook(session, ctx, webhook_id))


@router.patch(
    "/{webhookId}",
    summary="Update a webhook's URL, events or description, or rotate its secret",
    description="Webhook ayarlarini gunceller. With `rotateSecret: true` the new secret is in "
    "the response (once) and the old one keeps signing for 24 hours.",
    response_model=Envelope[WebhookWithSecret],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_webhook(
    webhook_id: WebhookId,
    body: WebhookUpdate,
    ctx: Admin,
    session: DbSession,
    settings: AppSettings,
    if_match: IfMatch = None,
) -> Envelope[WebhookWithSecret]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_webhook(session, settings, ctx, webhook_id, body, version))


@router.delete(
    "/{webhookId}",
    summary="Delete a webhook (deliveries still waiting are dropped)",
    response_model=Envelope[dict[str, bool]],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_webhook(
    webhook_id: WebhookId, ctx: Admin, session: DbSession
) -> Envelope[dict[str, bool]]:
    await service.delete_webhook(session, ctx, webhook_id)
    return ok({"deleted": True})


@router.post(
    "/{webhookId}/pause",
    summary="Pause deliveries (new ones are held, not dropped)",
    description="Webhook teslimatini duraklatir.",
    response_model=Envelope[WebhookOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def pause_webhook(
    webhook_id: WebhookId, ctx: Admin, session: DbSession
) -> Envelope[WebhookOut]:
    return ok(await service.pause_webhook(session, ctx, webhook_id))


@router.post(
    "/{webhookId}/activate",
    summary="Activate a paused or disabled webhook (held deliveries go out in event order)",
    description="Webhook teslimatini aktif eder.",
    response_model=Envelope[WebhookOut],
    responses=error_responses(401, 403, 404, 422),
)
async def activate_webhook(
    webhook_id: WebhookId, ctx: Admin, session: DbSession
) -> Envelope[WebhookOut]:
    return ok(await service.activate_webhook(session, ctx, webhook_id))


@router.get(
    "/{webhookId}/deliveries",
    summary="List deliveries with every attempt, newest first",
    description="Webhook teslimat gecmisini listeler.",
    response_model=Envelope[Page[DeliveryOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_deliveries(
    webhook_id: WebhookId,
    ctx: Admin,
    session: DbSession,
    page: Paging,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    event_type: Annotated[str | None, Query(alias="eventType", max_length=100)] = None,
    event_id: Annotated[str | None, Query(alias="eventId", max_length=40)] = None,
) -> Envelope[Page[DeliveryOut]]:
    return ok(
        await service.list_deliveries(
            session,
            ctx,
            webhook_id,
            page,
            status=delivery_status,
            event_type=event_type,
            event_id=event_id,
        )
    )


@router.get(
    "/{webhookId}/deliveries/{deliveryId}",
    summary="Get one delivery with every attempt",
    response_model=Envelope[DeliveryOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, ctx: Admin, session: DbSession
) -> Envelope[DeliveryOut]:
    return ok(await service.get_delivery(session, ctx, webhook_id, delivery_id))


@router.post(
    "/{webhookId}/test",
    summary="Send a webhook.test event to this webhook only",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Envelope[DeliveryOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def send_test_event(
    webhook_id: WebhookId, ctx: Admin, session: DbSession
) -> Envelope[DeliveryOut]:
    return ok(await service.send_test_event(session, ctx, webhook_id))


@router.post(
    "/{webhookId}/deliveries/{deliveryId}/redeliver",
    summary="Send a delivery again (a new retry series; history is kept)",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Envelope[DeliveryOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def redeliver(
    webhook_id: WebhookId, delivery_id: DeliveryId, ctx: Admin, session: DbSession
) -> Envelope[DeliveryOut]:
    return ok(await service.redeliver(session, ctx, webhook_id, delivery_id))
