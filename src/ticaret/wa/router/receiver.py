"""Gateway -> us: the provider-event receiver, and the sandbox's inbound injector."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ticaret.core.body_limit import declare_body_limit
from ticaret.core.db import DbSession
from ticaret.core.deps import Agent
from ticaret.core.envelope import Envelope, ok, ok_json
from ticaret.core.fastlane import fast_post
from ticaret.core.openapi import error_responses
from ticaret.settings import get_settings
from ticaret.wa.errors import EventTooLarge
from ticaret.wa.router.deps import ProviderSessionId
from ticaret.wa.schemas import ReceiverResult, SandboxInbound, SandboxInboundResult
from ticaret.wa.service import receiver as service

router = APIRouter(prefix="/wa", tags=["WhatsApp provider events"])

# Gateway events can be large (a media message's thumbnail); `_body` checks the same limit.
declare_body_limit("/wa/provider-events/{providerSessionId}", lambda s: s.wa.max_event_bytes)


async def _body(request: Request) -> bytes:
    limit = get_settings().wa.max_event_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise EventTooLarge(f"Events larger than {limit} bytes are refused.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise EventTooLarge(f"Events larger than {limit} bytes are refused.")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/provider-events/{providerSessionId}",
    summary="Receive a gateway webhook (authenticated by the session's secret or HMAC)",
    description="An unknown session and a wrong secret get the same 401 `invalid_signature`.",
    response_model=Envelope[ReceiverResult],
    responses=error_responses(401, 413),
)
async def receive_provider_event(
    provider_session_id: ProviderSessionId, request: Request, session: DbSession
) -> Envelope[ReceiverResult]:
    raw_body = await _body(request)
    return ok(await service.receive(session, provider_session_id, raw_body, request.headers))


@fast_post("/wa/provider-events/{providerSessionId}")
async def receive_provider_event_fast(request: Request, path: dict[str, str]) -> Response | None:
    """The route above for a session this process checked lately (see core.fastlane): the
    same check and the same row, stored by one autocommit statement instead of a unit of work
    (the row is all this request writes), without routing and dependencies. Anything else (a
    session not in memory, a failed check, a body over the limit, a body that is not usable
    JSON) is the route's to answer."""
    raw_body = await request.body()
    if len(raw_body) > get_settings().wa.max_event_bytes:
        return None
    known = service.known_sender(path["providerSessionId"], raw_body, request.headers)
    if known is None:
        return None
    session_id, gateway = known
    stored = await service.store_event_now(session_id, gateway, raw_body, request.headers)
    if stored is None:
        return None
    event_id = None if stored.id is None else str(stored.id)
    # The route's ReceiverResult, as it puts it on the wire.
    return ok_json({"received": True, "duplicate": stored.duplicate, "eventId": event_id})


@router.post(
    "/sandbox/{providerSessionId}/inbound",
    summary="Sandbox only: inject a customer's message as if the gateway delivered it",
    response_model=Envelope[SandboxInboundResult],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def sandbox_inbound(
    provider_session_id: ProviderSessionId,
    body: SandboxInbound,
    ctx: Agent,
    session: DbSession,
) -> Envelope[SandboxInboundResult]:
    return ok(await service.sandbox_inbound(session, ctx, provider_session_id, body))
