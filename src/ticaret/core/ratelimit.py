"""Fixed-window attempt limits in Redis (shared by every API process)."""

from __future__ import annotations

import hashlib
import logging
import math
import time

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


# One attempt at a key: refuse while the key waits; otherwise count it and, past the free ones,
# make the next attempt wait base * 2**(extra - 1) ms (capped). Atomic, so a burst of parallel
# attempts cannot all slip in before the first one is counted.
_PROGRESSIVE = """
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local waits_until = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if waits_until > now then
  return {0, waits_until - now}
end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local delay = 0
if n > free then
  delay = math.floor(math.min(base * 2 ^ (n - free - 1), cap))
  redis.call('HSET', KEYS[1], 'until', now + delay)
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return {1, delay}
"""


def _progressive_key(scope: str, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"ticaret:rl:{scope}:{digest}"


async def progressive_attempt(
    scope: str,
    key: str,
    *,
    free_attempts: int,
    base_delay_seconds: float,
    max_delay_seconds: float,
    window_seconds: int,
) -> None:
    """Count one attempt at ``key``; raise :class:`RateLimited` while the key has to wait.

    The answer depends only on the key's own history, never on whether the key names something
    that exists, so the same attempts at a known and an unknown email get the same answer.
    """
    try:
        redis = get_redis()
        allowed, wait_ms = await redis.eval(  # type: ignore[misc]
            _PROGRESSIVE,
            1,
            _progressive_key(scope, key),
            str(int(time.time() * 1000)),
            str(free_attempts),
            str(int(base_delay_seconds * 1000)),
            str(int(max_delay_seconds * 1000)),
            str(window_seconds),
        )
    except (RedisError, OSError, RuntimeError):
        logger.warning("rate limiter unavailable; allowing %s", scope)
        return
    if not int(allowed):
        retry_after = max(math.ceil(int(wait_ms) / 1000), 1)
        raise RateLimited(
            f"Too many attempts; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


async def clear_attempts(scope: str, key: str) -> None:
    """Forget the key's history (after a success)."""
    try:
        await get_redis().delete(_progressive_key(scope, key))
    except (RedisError, OSError, RuntimeError):
        logger.warning("rate limiter unavailable; %s not cleared", scope)
