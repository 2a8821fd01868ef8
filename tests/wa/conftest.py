"""WhatsApp tests run the sandbox without waiting: acks at once, gateway retries at once."""

from __future__ import annotations

import os

import pytest

# Read when the settings are first built, which happens after collection.
os.environ.setdefault("TICARET_WA__SANDBOX_ACK_DELAY_SCALE", "0")
os.environ.setdefault("TICARET_WA__OPERATION_RETRY_BASE_SECONDS", "0")


# The respx-faked gateways live on example.com names that do not resolve here; the base URL
# check at session creation resolves them, so they answer a public address (respx answers
# the calls before any connection is made).
FAKED_GATEWAY_HOSTS = ("evo.example.com", "waha.example.com")


@pytest.fixture(autouse=True)
async def faked_gateway_hosts_resolve(request: pytest.FixtureRequest) -> None:
    if "app" not in request.fixturenames:
        return
    install = request.getfixturevalue("dns")
    install({host: [["93.184.216.34"]] for host in FAKED_GATEWAY_HOSTS})
