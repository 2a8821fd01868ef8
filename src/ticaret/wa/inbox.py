"""Gateway webhooks in: verified here, then stored in the core inbox as source "wa".

Nothing here interprets the event beyond its dedup key: the inbox's job does
(`ticaret.wa.ingest.apply_gateway_event`), so the receiver answers fast and a parser bug never
loses a webhook. A gateway's event ids are unique per session only, so the inbox scope is the
session's id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.inbox import Inbound, InboxSource, body_digest, decode_json
from ticaret.models import WaSession
from ticaret.wa.errors import InvalidSignature, UnknownProviderSession
from ticaret.wa.gateways import WhatsAppGateway
from ticaret.wa.gateways.factory import session_gateway
from ticaret.wa.ingest import apply_gateway_event
from ticaret.wa.schemas import ReceiverResult

logger = logging.getLogger("ticaret.wa.inbox")

# Every gateway call lands here first; its job applies it with `apply_gateway_event`.
GATEWAY_EVENTS = InboxSource(
    "wa",
    handler=apply_gateway_event,
    job_name="process_wa_inbox_event",
    # WAHA's HMAC headers, kept for the record (never the secret or the API key).
    headers={"x-webhook-hmac-algorithm", "x-webhook-request-id", "x-webhook-timestamp"},
)


async def session_by_provider_id(session: AsyncSession, provider_session_id: str) -> WaSession:
    wa = await session.scalar(
        select(WaSession).where(
            WaSession.provider_session_id == provider_session_id, WaSession.deleted_at.is_(None)
        )
    )
    if wa is None:
        raise UnknownProviderSession()
    return wa


def _event_type(payload: Any) -> str | None:
    if isinstance(payload, dict):
        event = payload.get("event")
        if isinstance(event, str):
            return event
    return None


async def store_event(
    session: AsyncSession,
    wa: WaSession,
    gateway: WhatsAppGateway,
    raw_body: bytes,
    headers: Mapping[str, str],
) -> ReceiverResult:
    scope = str(wa.id)
    decoded = decode_json(raw_body)
    if not decoded.usable:
        stored = await GATEWAY_EVENTS.store_unreadable(
            session, raw_body, decoded, headers=headers, scope=scope
        )
        return ReceiverResult(received=True, duplicate=stored.duplicate, event_id=stored.id)
    payload = decoded.payload
    try:
        key = gateway.webhook_event_key(payload, raw_body)
        kept = gateway.sanitize_payload(payload)
    except Exception:  # an adapter bug must not lose the webhook
        logger.exception("webhook_event_key failed for %s", wa.provider_session_id)
        key, kept = body_digest(raw_body), payload
    [stored] = await GATEWAY_EVENTS.store(
        session, [Inbound(key, kept, _event_type(payload))], headers=headers, scope=scope
    )
    return ReceiverResult(received=True, duplicate=stored.duplicate, event_id=stored.id)


async def receive(
    session: AsyncSession, provider_session_id: str, raw_body: bytes, headers: Mapping[str, str]
) -> ReceiverResult:
    wa = await session_by_provider_id(session, provider_session_id)
    gateway = session_gateway(wa)
    if not gateway.verify_webhook(headers, raw_body, gateway.config.webhook_secret):
        raise InvalidSignature()
    return await store_event(session, wa, gateway, raw_body, headers)


async def inject(session: AsyncSession, wa: WaSession, payload: dict[str, Any]) -> ReceiverResult:
    """Feed a body the sandbox gateway 'sent' into the inbox, as if it came over HTTP."""
    gateway = session_gateway(wa)
    body = json.dumps(payload, separators=(",", ":")).encode()
    return await store_event(session, wa, gateway, body, {"content-type": "application/json"})
