"""CRM tests inject customer messages through the sandbox: acks and retries without waiting."""

from __future__ import annotations

import os

# Read when the settings are first built, which happens after collection.
os.environ.setdefault("TICARET_WA__SANDBOX_ACK_DELAY_SCALE", "0")
os.environ.setdefault("TICARET_WA__OPERATION_RETRY_BASE_SECONDS", "0")
