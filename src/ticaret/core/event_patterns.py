"""Event type patterns: which subscriptions (webhooks, outbox consumers) receive an event type.

A subscription pattern is one of:

* an exact type, ``wa.message.received``;
* a prefix wildcard, ``wa.*`` (every ``wa.`` type at any depth) or ``wa.message.*``;
* ``*``, every event.

Types follow ``domain.object.verb`` with lowercase snake_case segments (some have two segments,
such as ``order.created``). Patterns are validated when a webhook is saved, so matching can stay
a simple string test.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_PATTERN_LENGTH = 200

_SEGMENT = r"[a-z][a-z0-9_]*"
# At least two segments: a one-segment exact pattern ("wa") could never match a real type.
_EXACT = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})+$")
_PREFIX = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*\.\*$")


def validate_subscription(pattern: str) -> None:
    """Raise ValueError with a readable reason if ``pattern`` is not a valid subscription."""
    if not pattern:
        raise ValueError("event pattern must not be empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"event pattern is longer than {MAX_PATTERN_LENGTH} characters")
    if pattern == "*" or _EXACT.match(pattern) or _PREFIX.match(pattern):
        return
    if pattern != pattern.strip() or any(ch.isspace() for ch in pattern):
        raise ValueError(f"event pattern {pattern!r} must not contain spaces")
    if pattern != pattern.lower():
        raise ValueError(f"event pattern {pattern!r} must be lowercase")
    if "*" in pattern:
        raise ValueError(
            f"event pattern {pattern!r} may only use '*' alone or as a last segment, "
            "as in 'wa.*' or 'wa.message.*'"
        )
    raise ValueError(
        f"event pattern {pattern!r} must look like 'domain.object.verb': dot-separated "
        "lowercase segments of letters, digits and '_', each starting with a letter"
    )


def pattern_matches(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        # Keep the dot: "wa.*" must not match "wallet.created".
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def event_matches(subscriptions: Sequence[str], event_type: str) -> bool:
    """True when any pattern in ``subscriptions`` covers ``event_type``."""
    return any(pattern_matches(pattern, event_type) for pattern in subscriptions)
