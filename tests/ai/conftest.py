"""AI tests run retries and held runs without waiting (a test that needs a wait says so)."""

from __future__ import annotations

import os

# Read when the settings are first built, which happens after collection.
os.environ.setdefault("TICARET_AI__RETRY_BASE_SECONDS", "0")
os.environ.setdefault("TICARET_AI__HOLD_SECONDS", "0.05")
os.environ.setdefault("TICARET_WA__SANDBOX_ACK_DELAY_SCALE", "0")
