"""Meta -> us: the verification challenge and the signed event receiver."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from ticaret.core.body_limit import declare_body_limit
from ticaret.core.db import DbSession
from ticaret.core.envelope import Envelope, ok
from ticaret.core.openapi import error_responses
from ticaret.settings import Settings, get_settings
from ticaret.social import inbox
from ticaret.social.router.flavor import Flavor
from ticaret.social.schemas import WebhookReceipt
from ticaret.social.service import ingest
from ticaret.social.service.verification import verify_subscription

AppSettings = Annotated[Settings, Depends(get_settings)]

# Meta batches up to 1,000 changes in one webhook POST.
declare_body_limit("/meta/webhook", lambda s: s.meta.webhook_max_bytes)
declare_body_limit("/instagram/webhook", lambda s: s.meta.webhook_max_bytes)


def add_routes(router: APIRouter, f: Flavor) -> None:
    name = "Meta" if f.platform == "facebook" else "Instagram"

    async def verify(
        settings: AppSettings,
        mode: Annotated[str | None, Query(alias="hub.mode", max_length=50)] = None,
        verify_token: Annotated[str | None, Query(alias="hub.verify_token", max_length=500)] = None,
        challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=500)] = None,
    ) -> PlainTextResponse:
        return PlainTextResponse(
            verify_subscription(settings, f.platform, mode, verify_token, challenge)
        )

    router.add_api_route(
        "/webhook",
        verify,
        methods=["GET"],
        summary="Webhook verification: echo hub.challenge when hub.verify_token matches",
        description=f"{name} webhook verification challenge.",
        response_class=PlainTextResponse,
        responses={
            200: {"content": {"text/plain": {}}, "description": "The challenge"},
            **error_responses(403, 503),
        },
        tags=[f.tag],
        name=f"{f.platform}_webhook_verify",
    )

    async def receive(
        request: Request, session: DbSession, settings: AppSettings
    ) -> Envelope[WebhookReceipt]:
        raw_body = await request.body()
        return ok(
            await ingest.receive(
                session,
                settings,
                inbox.source_for(f.platform),
                f.platform,
                raw_body,
                request.headers,
            )
        )

    router.add_api_route(
        "/webhook",
        receive,
        methods=["POST"],
        summary="Receive signed webhook events (X-Hub-Signature-256); stored, then processed",
        description=f"{name} webhook event ingest. Every messaging item and change is stored "
        "under its natural id (redeliveries are duplicates) and applied by a job.",
        response_model=Envelope[WebhookReceipt],
        responses=error_responses(401, 403, 413, 503),
        tags=[f.tag],
        name=f"{f.platform}_webhook_receive",
    )
