"""Conversation tests drive WhatsApp's sandbox (acks and gateway retries without waiting) and
connect Pages and Instagram accounts through the faked Graph."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import respx

from tests.social.helpers import APPS_ENV

# Read when the settings are first built, which happens after collection.
os.environ.setdefault("TICARET_WA__SANDBOX_ACK_DELAY_SCALE", "0")
os.environ.setdefault("TICARET_WA__OPERATION_RETRY_BASE_SECONDS", "0")
os.environ.setdefault("TICARET_AI__RETRY_BASE_SECONDS", "0")
os.environ.update(APPS_ENV)


@pytest.fixture
def graph() -> Iterator[respx.MockRouter]:
    """Every Meta host faked; a call nobody routed fails the test (respx raises)."""
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def openai_api() -> Iterator[respx.MockRouter]:
    """The OpenAI API faked (and any other host: a call nobody routed fails the test)."""
    with respx.mock(assert_all_called=False) as router:
        yield router
