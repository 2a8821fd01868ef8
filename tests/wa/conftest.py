"""WhatsApp tests run the sandbox without waiting: acks at once, gateway retries at once."""

from __future__ import annotations

import os

# Read when the settings are first built, which happens after collection.
os.environ.setdefault("TICARET_WA__SANDBOX_ACK_DELAY_SCALE", "0")
os.environ.setdefault("TICARET_WA__OPERATION_RETRY_BASE_SECONDS", "0")
