"""Redis: the arq pool that jobs are queued on (see `core.jobs`) and live events travel through."""

from __future__ import annotations

from arq.connections import ArqRedis, RedisSettings, create_pool

QUEUE_NAME = "ticaret:queue"

_redis: ArqRedis | None = None


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    # Fail fast when Redis is away: the sweepers catch up later.
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
