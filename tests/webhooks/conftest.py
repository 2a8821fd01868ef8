"""Fixtures for the webhook tests: a real receiver on 127.0.0.1, fast retries, no sweep grace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.local_server import serve
from tests.webhooks.helpers import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook_receiver = Receiver()
    async with serve(hook_receiver) as base:
        hook_receiver.url = f"{base}/hooks"
        yield hook_receiver


@pytest.fixture
def no_sweep_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sweepers treat anything not done as lost at once (no waiting for the grace period)."""
    from datetime import timedelta

    from ticaret.core import events
    from ticaret.webhooks import tasks

    monkeypatch.setattr(tasks, "SWEEP_GRACE", timedelta(0))
    monkeypatch.setattr(events, "SWEEP_GRACE", timedelta(0))


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrink the 5 s ... 30 h schedule to milliseconds; the real worker still schedules it."""
    from ticaret.settings import get_settings

    monkeypatch.setattr(get_settings().webhooks, "retry_delay_scale", 0.00001)
