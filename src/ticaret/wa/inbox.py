"""The WhatsApp gateways' inbox source: every gateway call lands here first.

`service.receiver` verifies a call and stores it; the source's job applies it with
`service.ingest.apply_gateway_event`. Its scope is the session (a gateway's ids are unique per
session only).
"""

from __future__ import annotations

from ticaret.core.inbox import InboxSource
from ticaret.wa.service.ingest import apply_gateway_event

GATEWAY_EVENTS = InboxSource(
    "wa",
    handler=apply_gateway_event,
    job_name="process_wa_inbox_event",
    # WAHA's HMAC headers, kept for the record (never the secret or the API key).
    headers={"x-webhook-hmac-algorithm", "x-webhook-request-id", "x-webhook-timestamp"},
)
