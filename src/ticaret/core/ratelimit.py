"""Fixed-window attempt limits in Redis (shared by every API process)."""

from __future__ import annotations

import hashlib
import logging

from redis.exceptions import RedisError

from ticaret.core.errors import RateLimited
from ticaret.core.queue import get_redis

logger = logging.getLogger("ticaret.ratelimit")


async def limit_attempts(scope: str, key: str, *, limit: int, window_seconds: int) -> None:
    # Hash the key: emails and addresses stay out of Redis key names.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    redis_key = f"ticaret:rl:{scope}:{digest}"
    try:
        redis = get_redis()
        pipe = redis.pipeline(transaction=True)
        # SET NX EX starts the window once (EXPIRE NX needs Redis 7; this works on 6.2 too).
        pipe.set(redis_key, 0, ex=window_seconds, nx=True)
        pipe.incr(redis_key)
        pipe.ttl(redis_key)
        _, count, ttl = await pipe.execute()
    except (RedisError, OSError, RuntimeError):
        # Fail open: a Redis outage must not lock everyone out of logging in.
        logger.warning("rate limiter unavailable; allowing %s", scope)
        return
    if int(count) > limit:
        retry_after = max(int(ttl), 1)
        raise RateLimited(
            f"Too many attempts; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
