"""Rate-limit usage headers, and the backoff they ask of our sync jobs.

Meta reports how much of a limit is used on most answers
(https://developers.facebook.com/docs/graph-api/overview/rate-limiting):

* `X-App-Usage: {"call_count": 28, "total_time": 25, "total_cputime": 25}`: percentages of the
  app's platform limit.
* `X-Business-Use-Case-Usage: {"<business-object-id>": [{"type": "pages", "call_count": 100,
  "total_cputime": 25, "total_time": 25, "estimated_time_to_regain_access": 19}]}`: the same
  per Page / Instagram account, with the minutes until a throttled object may call again.

Above `usage_backoff_threshold` percent we hold the next call of sync jobs: for Meta's
`estimated_time_to_regain_access` when it gives one, otherwise for a share of
`usage_backoff_max_seconds` that grows with the usage. The hold lives in Redis so every worker
sees it. Sends and replies are not held: a customer is waiting for them, and their own retries
back off on a rate-limit error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ticaret.core.queue import get_redis

APP_USAGE = "x-app-usage"
BUC_USAGE = "x-business-use-case-usage"
_METRICS = ("call_count", "total_time", "total_cputime")
_PREFIX = "ticaret:meta:backoff:"


@dataclass(frozen=True)
class Usage:
    """The highest share of any limit a response reported, and Meta's wait if it named one."""

    percent: float
    regain_seconds: float = 0.0
    # Business objects (Pages, Instagram accounts) the BUC header named.
    objects: tuple[str, ...] = ()


def _percent(entry: Mapping[str, Any]) -> float:
    values = [entry.get(metric) for metric in _METRICS]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return max(numbers, default=0.0)


def parse_usage(headers: Mapping[str, str]) -> Usage | None:
    """None when Meta sent no usage headers (normal for some endpoints: not zero usage)."""
    percent, regain, objects, seen = 0.0, 0.0, [], False
    raw_app = headers.get(APP_USAGE)
    if raw_app:
        try:
            app = json.loads(raw_app)
        except ValueError:
            app = None
        if isinstance(app, dict):
            seen = True
            percent = max(percent, _percent(app))
    raw_buc = headers.get(BUC_USAGE)
    if raw_buc:
        try:
            buc = json.loads(raw_buc)
        except ValueError:
            buc = None
        if isinstance(buc, dict):
            seen = True
            for object_id, entries in buc.items():
                objects.append(str(object_id))
                for entry in entries if isinstance(entries, list) else []:
                    if not isinstance(entry, dict):
                        continue
                    percent = max(percent, _percent(entry))
                    minutes = entry.get("estimated_time_to_regain_access")
                    if isinstance(minutes, int | float) and not isinstance(minutes, bool):
                        regain = max(regain, float(minutes) * 60)
    if not seen:
        return None
    return Usage(percent=percent, regain_seconds=regain, objects=tuple(objects))


def backoff_seconds(usage: Usage, threshold: int, max_seconds: float) -> float:
    """How long sync jobs should hold their next call after an answer with this usage."""
    if usage.regain_seconds > 0:
        return usage.regain_seconds
    if usage.percent < threshold:
        return 0.0
    if threshold >= 100:
        return max_seconds
    share = min(1.0, (usage.percent - threshold) / (100 - threshold))
    # Even at the threshold itself hold a little: the next page would push it further.
    return max(max_seconds * share, min(1.0, max_seconds))


def _key(platform: str, scope: str) -> str:
    return f"{_PREFIX}{platform}:{scope}"


async def hold(platform: str, scope: str, seconds: float) -> float:
    """Hold calls for `scope` (an asset's external id, or "app") until now + seconds."""
    if seconds <= 0:
        return 0.0
    until = time.time() + seconds
    redis = get_redis()
    key = _key(platform, scope)
    current = await redis.get(key)
    if current is not None and float(current) >= until:
        return float(current)
    await redis.set(key, repr(until), px=max(1, int(seconds * 1000)))
    return until


async def wait_for(platform: str, scopes: tuple[str, ...]) -> float:
    """Seconds until every hold on these scopes has passed (0 when none is set)."""
    redis = get_redis()
    now = time.time()
    longest = 0.0
    for scope in scopes:
        value = await redis.get(_key(platform, scope))
        if value is not None:
            longest = max(longest, float(value) - now)
    return max(0.0, longest)
