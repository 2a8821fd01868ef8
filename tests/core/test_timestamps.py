"""Every timestamp the API and the events write: UTC, milliseconds, "Z"."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from ticaret.core.envelope import format_timestamp


def _as_isoformat_writes_it(value: datetime) -> str:
    # The definition: what `isoformat` gives in UTC, cut to milliseconds, "+00:00" as "Z".
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def test_timestamps_are_utc_milliseconds_with_z_whatever_the_value() -> None:
    chosen = random.Random(20261201)
    values = [
        datetime(2026, 12, 1, 14, 48, 3, 0, tzinfo=UTC),  # no fraction at all
        datetime(2026, 12, 1, 14, 48, 3, 999, tzinfo=UTC),  # under a millisecond: cut, not rounded
        datetime(2026, 12, 1, 14, 48, 3, 999_999, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, 0, 1000, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        # Another offset becomes UTC (Istanbul, three hours ahead).
        datetime(2026, 1, 1, 1, 30, 0, 123_456, tzinfo=timezone(timedelta(hours=3))),
        datetime(2026, 6, 1, 12, 0, 0, 500_000, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    ]
    start = datetime(1990, 1, 1, tzinfo=UTC)
    values += [start + timedelta(seconds=chosen.uniform(0, 60 * 365 * 86400)) for _ in range(2000)]
    for value in values:
        written = format_timestamp(value)
        assert written == _as_isoformat_writes_it(value), value
        assert len(written) == len("2026-12-01T14:48:03.860Z")
