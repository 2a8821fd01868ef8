"""Agent tests retry provider failures without waiting; the OpenAI API is faked with respx."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import respx

os.environ.setdefault("TICARET_AI__RETRY_BASE_SECONDS", "0")


@pytest.fixture
def openai_api() -> Iterator[respx.MockRouter]:
    """The OpenAI API faked (and any other host: a call nobody routed fails the test)."""
    with respx.mock(assert_all_called=False) as router:
        yield router
