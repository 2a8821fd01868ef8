"""The WhatsApp gateways' inbox source: every gateway call lands here first.

`service.receiver` verifies a call and stores it; the source's job applies a claimed batch
with `service.ingest.apply_gateway_batch` (set-based), or one call with
`service.ingest.apply_gateway_event` (the sweeper's single items, and a batch that raised,
item by item). Its scope is the session (a gateway's ids are unique per session only).
"""

from __future__ import annotations

from ticaret.core.inbox import InboxSource
from ticaret.wa.service.ingest import apply_gateway_batch, apply_gateway_event

GATEWAY_EVENTS = InboxSource(
    "wa",
    handler=apply_gateway_event,
    # A claimed batch is applied with set-based statements; a batch that raises falls back to
    # `apply_gateway_event` item by item.
    batch_handler=apply_gateway_batch,
    job_name="process_wa_inbox_event",
    # WAHA's HMAC headers, kept for the record (never the secret or the API key).
    headers={"x-webhook-hmac-algorithm", "x-webhook-request-id", "x-webhook-timestamp"},
)
