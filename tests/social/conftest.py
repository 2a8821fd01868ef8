"""The Meta and Instagram apps as the tests configure them, and the faked Graph hosts."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
import respx

os.environ.update(
    {
        "TICARET_META__APP_ID": "1122334455",
        "TICARET_META__APP_SECRET": "meta-app-secret-for-tests",
        "TICARET_META__VERIFY_TOKEN": "meta-verify-token",
        "TICARET_META__REDIRECT_ORIGINS": json.dumps(["https://app.example.com"]),
        "TICARET_META__OPERATION_RETRY_BASE_SECONDS": "0",
        "TICARET_META__PUBLISH_POLL_SECONDS": "0",
        "TICARET_META__USAGE_BACKOFF_MAX_SECONDS": "1",
        # Instagram's own app; its verify token falls back to the Meta one.
        "TICARET_INSTAGRAM__APP_ID": "990602627938098",
        "TICARET_INSTAGRAM__APP_SECRET": "instagram-app-secret-for-tests",
    }
)


@pytest.fixture
def graph() -> Iterator[respx.MockRouter]:
    """Every Meta host faked; a call nobody routed fails the test (respx raises)."""
    with respx.mock(assert_all_called=False) as router:
        yield router
