"""Gateway -> us: the provider-event receiver, and the sandbox's inbound injector."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from ticaret.core.auth import AccountContext, account_context
from ticaret.core.db import DbSession
from ticaret.core.envelope import Envelope, ok
from ticaret.core.openapi import error_responses
from ticaret.models import Role
from ticaret.settings import get_settings
from ticaret.wa import inbox
from ticaret.wa.access import resolve_wa
from ticaret.wa.errors import EmptyMessage, EventTooLarge, NotASandboxSession, SandboxRouteOff
from ticaret.wa.gateways.sandbox import inbound_message_payload
from ticaret.wa.schemas import ReceiverResult, SandboxInbound, SandboxInboundResult

router = APIRouter(prefix="/wa", tags=["WhatsApp provider events"])

ProviderSessionId = Annotated[str, Path(alias="providerSessionId", max_length=100)]
Agent = Annotated[AccountContext, Depends(account_context(Role.agent))]


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
    response_model=Envelope[ReceiverResult],
    responses=error_responses(401, 404, 413),
)
async def receive_provider_event(
    provider_session_id: ProviderSessionId, request: Request, session: DbSession
) -> Envelope[ReceiverResult]:
    raw_body = await _body(request)
    return ok(await inbox.receive(session, provider_session_id, raw_body, request.headers))


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
    result = await inbox.inject(session, wa_ctx.wa, payload)
    message = payload["payload"]
    return ok(
        SandboxInboundResult(
            event_id=result.event_id,
            duplicate=result.duplicate,
            remote_jid=message["from"],
            message_id=message["id"].rsplit("_", 1)[1],
        )
    )
