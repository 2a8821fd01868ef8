"""Gateway webhooks in: verified here, then stored in the inbox (`wa.inbox.GATEWAY_EVENTS`).

Nothing here interprets the event beyond its dedup key: the inbox's job does
(`service.ingest.apply_gateway_event`), so the receiver answers fast and a parser bug never
loses a webhook. The sandbox's "gateway" posts through the same path (`inject`).
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from ticaret.core.auth import AccountContext
from ticaret.core.cache import MISSING, SharedCache
from ticaret.core.inbox import Inbound, Stored, body_digest, decode_json
from ticaret.core.security import secret_box
from ticaret.models import WaSession
from ticaret.settings import get_settings
from ticaret.wa.errors import (
    EmptyMessage,
    InvalidSignature,
    NotASandboxSession,
    SandboxRouteOff,
    UnknownProviderSession,
)
from ticaret.wa.gateways import WhatsAppGateway
from ticaret.wa.gateways.base import secret_header_matches
from ticaret.wa.gateways.factory import parser_for, session_gateway
from ticaret.wa.gateways.sandbox import inbound_message_payload
from ticaret.wa.inbox import GATEWAY_EVENTS
from ticaret.wa.repository import sessions as session_repository
from ticaret.wa.schemas import ReceiverResult, SandboxInbound, SandboxInboundResult
from ticaret.wa.service.access import resolve_wa

logger = logging.getLogger("ticaret.wa.receiver")


async def session_by_provider_id(session: AsyncSession, provider_session_id: str) -> WaSession:
    wa = await session_repository.live_session_by_provider_id(session, provider_session_id)
    if wa is None:
        raise UnknownProviderSession()
    return wa


def _event_type(payload: Any) -> str | None:
    if isinstance(payload, dict):
        event = payload.get("event")
        if isinstance(event, str):
            return event
    return None


def _inbound(
    session_id: uuid.UUID, gateway: WhatsAppGateway, raw_body: bytes, payload: Any
) -> Inbound:
    """A readable event as the inbox keeps it: its dedup key, the payload without credentials."""
    try:
        key = gateway.webhook_event_key(payload, raw_body)
        kept = gateway.sanitize_payload(payload)
    except Exception:  # an adapter bug must not lose the webhook
        logger.exception("webhook_event_key failed for session %s", session_id)
        key, kept = body_digest(raw_body), payload
    return Inbound(key, kept, _event_type(payload))


async def store_event(
    session: AsyncSession,
    session_id: uuid.UUID,
    gateway: WhatsAppGateway,
    raw_body: bytes,
    headers: Mapping[str, str],
) -> ReceiverResult:
    # A gateway's event ids are unique per session only: the session is the inbox scope.
    scope = str(session_id)
    decoded = decode_json(raw_body)
    if not decoded.usable:
        stored = await GATEWAY_EVENTS.store_unreadable(
            session, raw_body, decoded, headers=headers, scope=scope
        )
        return ReceiverResult(received=True, duplicate=stored.duplicate, event_id=stored.id)
    inbound = _inbound(session_id, gateway, raw_body, decoded.payload)
    [stored] = await GATEWAY_EVENTS.store(session, [inbound], headers=headers, scope=scope)
    return ReceiverResult(received=True, duplicate=stored.duplicate, event_id=stored.id)


async def store_event_now(
    session_id: uuid.UUID,
    gateway: WhatsAppGateway,
    raw_body: bytes,
    headers: Mapping[str, str],
) -> Stored | None:
    """`store_event` outside any unit of work, for the receiver's fast lane: the same key and
    the same row, in one autocommit statement. None for a body that is not usable JSON (rare:
    `store_event` keeps it, through the route)."""
    decoded = decode_json(raw_body)
    if not decoded.usable:
        return None
    inbound = _inbound(session_id, gateway, raw_body, decoded.payload)
    return await GATEWAY_EVENTS.store_now(inbound, headers=headers, scope=str(session_id))


@dataclass(frozen=True)
class _Receiving:
    """What checking a session's webhooks takes: kept per process for a few seconds."""

    session_id: uuid.UUID
    provider: str
    secret: str


# Every gateway call would otherwise read the session and decrypt its secret. A change to the
# session (a new secret, deletion) drops the entry in every process at once; else it lives
# RECEIVING_TTL_SECONDS.
RECEIVING_TTL_SECONDS = 5.0
_receiving: SharedCache[_Receiving | None] = SharedCache(
    "wa_receiving_sessions", ttl=lambda: RECEIVING_TTL_SECONDS
)


@event.listens_for(Session, "after_flush")
def _sessions_changed(session: Session, flush: UOWTransaction) -> None:
    changed = {
        row.provider_session_id
        for row in (*session.new, *session.dirty, *session.deleted)
        if isinstance(row, WaSession)
    }
    if changed:
        _receiving.invalidate_after_commit(session, sorted(changed))  # type: ignore[arg-type]


async def _receiving_session(session: AsyncSession, provider_session_id: str) -> _Receiving | None:
    known = _receiving.get(provider_session_id)
    if known is not MISSING:
        assert known is None or isinstance(known, _Receiving)
        return known
    epoch = _receiving.epoch
    wa = await session_repository.live_session_by_provider_id(session, provider_session_id)
    found = (
        None
        if wa is None
        else _Receiving(
            wa.id, wa.provider, secret_box(get_settings()).decrypt(wa.webhook_secret_encrypted)
        )
    )
    _receiving.put(provider_session_id, found, epoch, tags=[provider_session_id])
    return found


def known_sender(
    provider_session_id: str, raw_body: bytes, headers: Mapping[str, str]
) -> tuple[uuid.UUID, WhatsAppGateway] | None:
    """The session and its parser when this process holds the session's secret and the call
    passes the check; None otherwise (`receive` then decides, refusals included, so a refusal
    takes as long whichever way it came)."""
    known = _receiving.get(provider_session_id)
    if not isinstance(known, _Receiving):
        return None
    gateway = parser_for(known.provider)
    if not gateway.verify_webhook(headers, raw_body, known.secret):
        return None
    return known.session_id, gateway


async def receive(
    session: AsyncSession, provider_session_id: str, raw_body: bytes, headers: Mapping[str, str]
) -> ReceiverResult:
    # An unknown (or deleted) session answers exactly like a wrong secret, so the receiver
    # does not tell a prober which session ids exist. The same check runs against a throwaway
    # secret so the two cases also take about as long.
    wa = await _receiving_session(session, provider_session_id)
    if wa is None:
        secret_header_matches(headers, secrets.token_urlsafe(32))
        raise InvalidSignature()
    gateway = parser_for(wa.provider)
    if not gateway.verify_webhook(headers, raw_body, wa.secret):
        raise InvalidSignature()
    return await store_event(session, wa.session_id, gateway, raw_body, headers)


async def inject(session: AsyncSession, wa: WaSession, payload: dict[str, Any]) -> ReceiverResult:
    """Feed a body the sandbox gateway 'sent' into the inbox, as if it came over HTTP."""
    gateway = session_gateway(wa)
    body = json.dumps(payload, separators=(",", ":")).encode()
    return await store_event(session, wa.id, gateway, body, {"content-type": "application/json"})


async def sandbox_inbound(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str, body: SandboxInbound
) -> SandboxInboundResult:
    """A customer's message on a sandbox session, through the same inbox as real webhooks."""
    if not get_settings().wa_sandbox_enabled:
        raise SandboxRouteOff()
    wa_ctx = await resolve_wa(session, ctx, provider_session_id)
    if wa_ctx.wa.provider != "sandbox":
        raise NotASandboxSession()
    if not body.text and not body.with_media:
        raise EmptyMessage()
    payload = inbound_message_payload(
        wa_ctx.wa.provider_session_id,
        from_phone_or_jid=body.from_,
        text=body.text,
        push_name=body.push_name,
        with_media=body.with_media,
        reply_to=body.reply_to,
        message_id=body.message_id,
    )
    result = await inject(session, wa_ctx.wa, payload)
    message = payload["payload"]
    return SandboxInboundResult(
        event_id=result.event_id,
        duplicate=result.duplicate,
        remote_jid=message["from"],
        message_id=message["id"].rsplit("_", 1)[1],
    )
