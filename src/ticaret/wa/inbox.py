"""The provider-event inbox: gateway webhooks are verified, stored raw, deduplicated and queued.

Nothing here interprets the event beyond its dedup key: the `process_wa_inbox_event` job does
(`ticaret.wa.ingest`), so the receiver answers fast and a parser bug never loses a webhook.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import get_sessionmaker
from ticaret.core.errors import NotFound, Unauthorized
from ticaret.core.ids import new_id
from ticaret.core.queue import enqueue, enqueue_after_commit
from ticaret.models import WaInboxEvent, WaSession
from ticaret.wa.gateway import session_gateway
from ticaret.wa.gateways import WhatsAppGateway
from ticaret.wa.schemas import ReceiverResult

logger = logging.getLogger("ticaret.wa.inbox")

PROCESS_JOB = "process_wa_inbox_event"
# Only these request headers are kept with the event; never the secret or the API key.
KEPT_HEADERS = frozenset(
    {
        "content-type",
        "user-agent",
        "x-webhook-hmac-algorithm",
        "x-webhook-request-id",
        "x-webhook-timestamp",
        "x-request-id",
    }
)
STUCK_AFTER = timedelta(seconds=60)


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v[:500] for k, v in headers.items() if k.lower() in KEPT_HEADERS}


async def session_by_provider_id(session: AsyncSession, provider_session_id: str) -> WaSession:
    wa = await session.scalar(
        select(WaSession).where(
            WaSession.provider_session_id == provider_session_id, WaSession.deleted_at.is_(None)
        )
    )
    if wa is None:
        raise NotFound("Unknown WhatsApp session.", code="session_not_found")
    return wa


def _decode(raw_body: bytes) -> tuple[Any | None, str | None, str | None]:
    """(JSON payload, raw text, why it could not be used as JSON)."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        text = raw_body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        return None, text, "body is not valid JSON"
    if b"\\u0000" in raw_body:
        # PostgreSQL JSONB cannot hold NUL characters; keep the body as text instead.
        text = raw_body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        return None, text, "body contains NUL characters"
    return payload, None, None


def _event_type(payload: Any) -> str | None:
    if isinstance(payload, dict):
        event = payload.get("event")
        if isinstance(event, str):
            return event[:100]
    return None


async def store_event(
    session: AsyncSession,
    wa: WaSession,
    gateway: WhatsAppGateway,
    raw_body: bytes,
    headers: Mapping[str, str],
) -> ReceiverResult:
    payload, raw_text, problem = _decode(raw_body)
    if payload is not None:
        try:
            key = gateway.webhook_event_key(payload, raw_body)
            stored = gateway.sanitize_payload(payload)
        except Exception:  # an adapter bug must not lose the webhook
            logger.exception("webhook_event_key failed for %s", wa.provider_session_id)
            key, stored = "sha256:" + hashlib.sha256(raw_body).hexdigest(), payload
    else:
        key, stored = "sha256:" + hashlib.sha256(raw_body).hexdigest(), None
    now = datetime.now(UTC)
    event_id = await session.scalar(
        insert(WaInboxEvent)
        .values(
            id=new_id(),
            session_id=wa.id,
            external_key=key[:300],
            event_type=_event_type(payload),
            payload=stored,
            raw_body=raw_text,
            headers=kept_headers(headers),
            status="failed" if problem else "received",
            error=problem,
            attempts=0,
            received_at=now,
            processed_at=now if problem else None,
        )
        .on_conflict_do_nothing(constraint="uq_wa_inbox_events_session_key")
        .returning(WaInboxEvent.id)
    )
    if event_id is None:
        return ReceiverResult(received=True, duplicate=True, event_id=None)
    if problem is None:
        enqueue_after_commit(session, PROCESS_JOB, str(event_id), job_id=f"wa-inbox:{event_id}")
    else:
        logger.warning("stored unusable webhook for %s: %s", wa.provider_session_id, problem)
    return ReceiverResult(received=True, duplicate=False, event_id=event_id)


async def receive(
    session: AsyncSession, provider_session_id: str, raw_body: bytes, headers: Mapping[str, str]
) -> ReceiverResult:
    wa = await session_by_provider_id(session, provider_session_id)
    gateway = session_gateway(wa)
    if not gateway.verify_webhook(headers, raw_body, gateway.config.webhook_secret):
        raise Unauthorized("The webhook secret or signature is wrong.", code="invalid_signature")
    return await store_event(session, wa, gateway, raw_body, headers)


async def inject(session: AsyncSession, wa: WaSession, payload: dict[str, Any]) -> ReceiverResult:
    """Feed a body the sandbox gateway 'sent' into the inbox, as if it came over HTTP."""
    gateway = session_gateway(wa)
    body = json.dumps(payload, separators=(",", ":")).encode()
    return await store_event(session, wa, gateway, body, {"content-type": "application/json"})


async def sweep_stuck(limit: int = 500) -> int:
    """Re-queue inbox rows whose processing job was lost (Redis outage, crashed worker)."""
    cutoff = datetime.now(UTC) - STUCK_AFTER
    async with get_sessionmaker()() as session:
        ids = (
            await session.scalars(
                select(WaInboxEvent.id)
                .where(WaInboxEvent.status == "received", WaInboxEvent.received_at < cutoff)
                .order_by(WaInboxEvent.received_at)
                .limit(limit)
            )
        ).all()
        if ids:
            # Push them back so the next sweep does not pick them up again at once.
            await session.execute(
                update(WaInboxEvent)
                .where(WaInboxEvent.id.in_(ids))
                .values(received_at=datetime.now(UTC))
            )
            await session.commit()
    stamp = int(datetime.now(UTC).timestamp())
    for event_id in ids:
        # A fresh job id: arq keeps the old one's result and would refuse the same id.
        await enqueue(PROCESS_JOB, str(event_id), job_id=f"wa-inbox:{event_id}:{stamp}")
    if ids:
        logger.info("re-queued %d stuck inbox event(s)", len(ids))
    return len(ids)


def parse_event_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
