from __future__ import annotations

import asyncio
import hmac
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from ticaret.core.db import get_engine
from ticaret.core.envelope import Envelope, JsonBytes, ResponseModel, ok
from ticaret.core.errors import NotFound, Unauthorized
from ticaret.core.fastlane import fast_get
from ticaret.core.openapi import error_responses
from ticaret.core.queue import get_redis
from ticaret.settings import get_settings

router = APIRouter(tags=["Operations"])

CHECK_TIMEOUT_SECONDS = 2.0


class Liveness(ResponseModel):
    status: Literal["ok"] = "ok"


class Readiness(ResponseModel):
    status: Literal["ok", "degraded"]
    postgres: bool
    redis: bool


async def _postgres_ok() -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            async with get_engine().connect() as conn:
                await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def _redis_ok() -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return bool(await get_redis().ping())
    except Exception:
        return False


_ALIVE = ok(Liveness()).model_dump_json(by_alias=True).encode()


@router.get("/health", summary="Liveness: the process is up", response_model=Envelope[Liveness])
async def health() -> Response:
    # Probes call this all day: the same bytes every time, built once.
    return JsonBytes(_ALIVE)


@fast_get("/health")
async def health_fast(request: Request, _: dict[str, str]) -> Response:
    return JsonBytes(_ALIVE)


@router.get(
    "/health/ready",
    summary="Readiness: Postgres and Redis answer (503 otherwise)",
    response_model=Envelope[Readiness],
    responses={503: {"model": Envelope[Readiness], "description": "A dependency is down"}},
)
async def ready() -> Response:
    postgres, redis = await asyncio.gather(_postgres_ok(), _redis_ok())
    body = Readiness(
        status="ok" if postgres and redis else "degraded", postgres=postgres, redis=redis
    )
    return JSONResponse(
        {"status": postgres and redis, "data": body.model_dump(by_alias=True)},
        status_code=200 if postgres and redis else 503,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics of this process",
    description="With `TICARET_METRICS_TOKEN` set, send `Authorization: Bearer <token>`. "
    "Without a token it is open outside production and off (404) in production.",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        **error_responses(401, 404),
    },
)
async def metrics(request: Request) -> PlainTextResponse:
    settings = get_settings()
    if not settings.metrics_open:
        raise NotFound()
    if settings.metrics_token is not None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        expected = settings.metrics_token.get_secret_value()
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode(), expected.encode()
        ):
            raise Unauthorized(
                "Send the metrics token as a Bearer token.",
                code="invalid_metrics_token",
                headers={"WWW-Authenticate": "Bearer"},
            )
    return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)
