"""AI tests run retries and held runs without waiting (a test that needs a wait says so)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
import respx

# Read when the settings are first built, which happens after collection.
os.environ.setdefault("TICARET_AI__RETRY_BASE_SECONDS", "0")
os.environ.setdefault("TICARET_AI__HOLD_SECONDS", "0.05")
os.environ.setdefault("TICARET_WA__SANDBOX_ACK_DELAY_SCALE", "0")


@pytest.fixture
def openai_api() -> Iterator[respx.MockRouter]:
    """The OpenAI API faked (and any other host: a call nobody routed fails the test)."""
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def no_sweep_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweepers treat anything not done as lost at once."""
    from ticaret.ai.service import pipeline
    from ticaret.conversations.service import mirror
    from ticaret.core import events

    monkeypatch.setattr(pipeline, "SWEEP_GRACE", timedelta(0))
    monkeypatch.setattr(mirror, "SWEEP_GRACE", timedelta(0))
    monkeypatch.setattr(events, "SWEEP_GRACE", timedelta(0))
