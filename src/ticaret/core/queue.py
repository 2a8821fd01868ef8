"""Redis: the arq pool for jobs, pub/sub for live events, and enqueue-after-commit."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import after_commit

logger = logging.getLogger("ticaret.queue")

QUEUE_NAME = "ticaret:queue"

_redis: ArqRedis | None = None


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    # Fail fast when Redis is away: the outbox sweeper catches up later.
    settings.conn_timeout = 2
    settings.conn_retries = 1
    settings.conn_retry_delay = 0
    return settings


async def init_redis(url: str) -> ArqRedis:
    global _redis
    _redis = await create_pool(redis_settings(url), default_queue_name=QUEUE_NAME, retry=0)
    return _redis


async def close_redis() -> None:
    global _redis
    if _redis is not None:
        await _redis.aclose()
    _redis = None


def get_redis() -> ArqRedis:
    if _redis is None:
        raise RuntimeError("redis is not initialised")
    return _redis


async def enqueue(
    function: str, *args: Any, job_id: str | None = None, defer_by: timedelta | None = None
) -> None:
    await get_redis().enqueue_job(function, *args, _job_id=job_id, _defer_by=defer_by)


def enqueue_after_commit(
    session: AsyncSession,
    function: str,
    *args: Any,
    job_id: str | None = None,
    defer_by: timedelta | None = None,
) -> None:
    """Queue `function(*args)` once the session commits; nothing is queued on rollback.

    Jobs take ids and re-read state, so a job queued for a row that a sweeper also
    re-queues runs idempotently; `job_id` stops arq from holding two copies at once.
    """

    async def _enqueue() -> None:
        await enqueue(function, *args, job_id=job_id, defer_by=defer_by)

    after_commit(session, _enqueue)
