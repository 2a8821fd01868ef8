"""WhatsApp jobs: inbox processing, gateway operations, sandbox deliveries and sweepers."""

from __future__ import annotations

import uuid
from typing import Any

from ticaret.core.db import get_sessionmaker, unit_of_work
from ticaret.core.idempotency import purge_expired
from ticaret.wa import inbox, ingest, operations


async def process_wa_inbox_event(ctx: dict[str, Any], event_id: str) -> str:
    parsed = inbox.parse_event_id(event_id)
    if parsed is None:
        return "skipped"
    return await ingest.process_inbox_event(parsed)


async def perform_wa_operation(ctx: dict[str, Any], operation_id: str) -> str:
    return await operations.perform_operation(uuid.UUID(operation_id))


async def deliver_sandbox_webhook(
    ctx: dict[str, Any], provider_session_id: str, payload: dict[str, Any]
) -> str:
    """What the sandbox 'gateway' posts to us, fed through the same inbox as real webhooks."""
    async with unit_of_work() as session:
        try:
            wa = await inbox.session_by_provider_id(session, provider_session_id)
        except Exception:
            return "session gone"
        result = await inbox.inject(session, wa, payload)
    return "duplicate" if result.duplicate else "stored"


async def sweep_wa_inbox(ctx: dict[str, Any]) -> int:
    return await inbox.sweep_stuck()


async def sweep_wa_operations(ctx: dict[str, Any]) -> int:
    return await operations.sweep_operations()


async def purge_idempotency_keys(ctx: dict[str, Any]) -> int:
    async with get_sessionmaker()() as session:
        removed = await purge_expired(session)
        await session.commit()
    return removed
