"""The Meta and Instagram apps as the tests configure them, and the faked Graph hosts."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import respx

from tests.social.helpers import APPS_ENV

os.environ.update(APPS_ENV)


@pytest.fixture
def graph() -> Iterator[respx.MockRouter]:
    """Every Meta host faked; a call nobody routed fails the test (respx raises)."""
    with respx.mock(assert_all_called=False) as router:
        yield router
