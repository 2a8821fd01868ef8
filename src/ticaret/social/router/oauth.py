"""Onboarding: the authorize URL and the callback Meta redirects the browser to."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import RedirectResponse

from ticaret.core.db import DbSession
from ticaret.core.deps import Admin
from ticaret.core.envelope import Envelope, ok
from ticaret.core.openapi import error_responses
from ticaret.settings import Settings, get_settings
from ticaret.social.router.flavor import Flavor
from ticaret.social.schemas import OAuthStart, OAuthUrl
from ticaret.social.service import oauth as service

AppSettings = Annotated[Settings, Depends(get_settings)]
QueryText = Annotated[str | None, Query(max_length=4000)]


def add_routes(router: APIRouter, f: Flavor) -> None:
    who = "Pages" if f.platform == "facebook" else "Instagram professional accounts"

    async def oauth_url(
        body: OAuthStart, ctx: Admin, session: DbSession, settings: AppSettings
    ) -> Envelope[OAuthUrl]:
        return ok(await service.start(session, settings, ctx, f.platform, body))

    router.add_api_route(
        "/oauth/url",
        oauth_url,
        methods=["POST"],
        summary=f"Start connecting {who}: the authorize URL with a signed, single-use state",
        description=(
            "Meta OAuth onboarding URL olusturur."
            if f.platform == "facebook"
            else "Instagram Business Login OAuth onboarding URL olusturur."
        )
        + " Open `url` in the user's browser; the callback stores the assets and sends the "
        "browser to `redirectUrl` with `status=connected|denied|error`.",
        response_model=Envelope[OAuthUrl],
        responses=error_responses(401, 403, 422, 503),
        tags=[f.tag],
        name=f"{f.platform}_oauth_url",
    )

    async def oauth_callback(
        session: DbSession,
        settings: AppSettings,
        code: QueryText = None,
        state: QueryText = None,
        error: QueryText = None,
        error_reason: Annotated[str | None, Query(max_length=200)] = None,
        error_description: Annotated[str | None, Query(max_length=1000)] = None,
    ) -> RedirectResponse:
        location = await service.callback(
            session,
            settings,
            f.platform,
            service.CallbackQuery(code, state, error, error_reason, error_description),
        )
        return RedirectResponse(location, status_code=status.HTTP_303_SEE_OTHER)

    router.add_api_route(
        "/oauth/callback",
        oauth_callback,
        methods=["GET"],
        summary="OAuth callback (Meta redirects the browser here)",
        description=(
            "Meta OAuth callback isler."
            if f.platform == "facebook"
            else "Instagram OAuth callback isler."
        )
        + " Verifies and spends the state, exchanges the code for long-lived tokens, stores "
        f"the {who} with encrypted tokens, subscribes the app to their webhooks and redirects "
        "(303) to the onboarding's `redirectUrl` with `status`, `platform`, `assets` and "
        "`assetIds`, or `error` (`access_denied`, `graph_error`, `no_assets`, ...).",
        status_code=status.HTTP_303_SEE_OTHER,
        response_class=RedirectResponse,
        responses={
            303: {"description": "Back to the onboarding's redirectUrl"},
            **error_responses(400, 503),
        },
        tags=[f.tag],
        name=f"{f.platform}_oauth_callback",
    )
