"""Retry policy: schedule, jitter bounds, exhaustion, which answers retry, endpoint disabling."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ticaret.webhooks.retry_schedule import (
    DISABLE_AFTER,
    JITTER_FRACTION,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    is_retryable,
    next_attempt_delay,
    should_disable,
    should_disable_endpoint,
)

EXPECTED = [
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=30),
]


def test_schedule_constants() -> None:
    assert list(RETRY_DELAYS) == EXPECTED
    assert MAX_ATTEMPTS == 10
    assert 0.1 <= JITTER_FRACTION <= 0.2


@pytest.mark.parametrize("seed", range(50))
def test_each_delay_within_jitter_bounds(seed: int) -> None:
    rng = random.Random(seed)
    for attempt, base in enumerate(EXPECTED, start=1):
        delay = next_attempt_delay(attempt, rng)
        assert delay is not None
        low = base * (1 - JITTER_FRACTION) - timedelta(milliseconds=1)
        high = base * (1 + JITTER_FRACTION) + timedelta(milliseconds=1)
        assert low <= delay <= high


def test_total_span_of_all_retries() -> None:
    nominal = sum(EXPECTED, timedelta())
    # About three days, as the issue asks.
    assert nominal == timedelta(hours=71, minutes=35, seconds=5)
    for seed in range(200):
        rng = random.Random(seed)
        total = sum(
            (d for n in range(1, MAX_ATTEMPTS) if (d := next_attempt_delay(n, rng)) is not None),
            timedelta(),
        )
        assert nominal * (1 - JITTER_FRACTION) <= total <= nominal * (1 + JITTER_FRACTION)
        # Long enough to ride out a receiver that is down overnight, short of the disable window.
        assert timedelta(hours=55) < total < DISABLE_AFTER


def test_jitter_actually_varies_and_is_reproducible() -> None:
    a = [next_attempt_delay(4, random.Random(s)) for s in range(20)]
    assert len(set(a)) > 10
    assert next_attempt_delay(4, random.Random(7)) == next_attempt_delay(4, random.Random(7))


def test_default_rng_works() -> None:
    delay = next_attempt_delay(1)
    assert delay is not None
    assert timedelta(seconds=4) <= delay <= timedelta(seconds=6)


def test_exhaustion_after_tenth_attempt() -> None:
    assert next_attempt_delay(9, random.Random(1)) is not None
    assert next_attempt_delay(10, random.Random(1)) is None
    assert next_attempt_delay(100, random.Random(1)) is None


def test_attempt_number_starts_at_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        next_attempt_delay(0, random.Random(1))


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_success_is_not_retried(status: int) -> None:
    assert is_retryable(status, None) is False


@pytest.mark.parametrize(
    "status", [301, 302, 400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504]
)
def test_every_other_non_2xx_is_retried(status: int) -> None:
    assert is_retryable(status, None) is True
    assert should_disable_endpoint(status) is False


def test_410_gone_stops_and_disables() -> None:
    assert is_retryable(410, None) is False
    assert should_disable_endpoint(410) is True


@pytest.mark.parametrize(
    "error", ["timeout after 15.0s", "connection refused: [Errno 111]", "tls error: bad cert"]
)
def test_network_errors_are_retried(error: str) -> None:
    assert is_retryable(None, error) is True


def test_error_after_2xx_status_line_is_retried() -> None:
    assert is_retryable(200, "timeout after 15.0s while reading the response body") is True


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_disable_after_five_days_of_failures() -> None:
    assert timedelta(days=5) == DISABLE_AFTER
    assert should_disable(T0, T0 + timedelta(days=5), None) is True
    assert should_disable(T0, T0 + timedelta(days=5) - timedelta(seconds=1), None) is False


def test_success_older_than_failure_run_does_not_save_it() -> None:
    assert should_disable(T0, T0 + timedelta(days=6), T0 - timedelta(days=1)) is True


def test_success_after_first_failure_breaks_the_run() -> None:
    assert should_disable(T0, T0 + timedelta(days=6), T0 + timedelta(days=2)) is False


def test_no_failures_never_disables() -> None:
    assert should_disable(None, T0 + timedelta(days=60), None) is False
