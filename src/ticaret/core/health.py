from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from ticaret.core.db import get_engine
from ticaret.core.envelope import Envelope, ResponseModel, ok
from ticaret.core.queue import get_redis

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


@router.get("/health", summary="Liveness: the process is up", response_model=Envelope[Liveness])
async def health() -> Envelope[Liveness]:
    return ok(Liveness())


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


@router.get("/metrics", summary="Prometheus metrics of this process", include_in_schema=True)
async def metrics() -> PlainTextResponse:
    return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)
