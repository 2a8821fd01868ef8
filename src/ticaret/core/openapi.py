"""The API's documentation: error responses on every route, and the /docs and /redoc pages."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorEnvelope(BaseModel):
    status: bool = False
    error: ErrorDetail


_DESCRIPTIONS = {
    400: "Bad request (malformed input, bad cursor, missing x-account-id)",
    401: "Missing or invalid credentials",
    403: "Authenticated but not allowed (role too low)",
    404: "Not found (also another account's object)",
    409: "Conflict (duplicate, version mismatch, last owner)",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation error; details.fields lists {path, message}",
    429: "Rate limited; see Retry-After",
    502: "Upstream provider failed",
    503: "Service unavailable",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorEnvelope, "description": _DESCRIPTIONS[code]} for code in codes}


AUTHED = (401, 403)


# Swagger UI and ReDoc as shipped inside the fastapi-offline wheel: installs behind a firewall
# or without internet (common for self-hosted shops) still get working docs pages.
DOCS_ASSETS_URL = "/docs/assets"
_ASSETS = files("fastapi_offline") / "static"


def install_docs(app: FastAPI) -> None:
    """Serve /docs (Swagger UI) and /redoc with their scripts and styles from this server.

    The app is created with `docs_url=None, redoc_url=None` so FastAPI's CDN pages are not there.
    """
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=str(_ASSETS)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=oauth2_redirect_url,
            swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            # No badge that would send the document to the public online validator.
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )

    @app.get(oauth2_redirect_url, include_in_schema=False)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
