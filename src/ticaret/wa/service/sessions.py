"""WhatsApp sessions: create on the gateway, status, pairing, logout, removal and sharing."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from slugify import slugify
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.accounts import repository as accounts_repository
from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.core.events import Actor
from ticaret.core.security import secret_box
from ticaret.core.ssrf import UnsafeUrl, check_url
from ticaret.models import SessionStatus, WaSession
from ticaret.settings import get_settings
from ticaret.wa.errors import (
    AlreadyShared,
    BaseUrlRequired,
    GatewayRefused,
    GatewayUnreachable,
    GatewayUrlNotAllowed,
    NotSessionOwner,
    SandboxDisabled,
    SessionNotFound,
    ShareNotFound,
    ShareTargetNotFound,
    ShareWithSelf,
)
from ticaret.wa.events import SESSION_STATUS_CHANGED, SessionStatusChanged
from ticaret.wa.gateways import GatewayError, GatewayRejected, SessionState
from ticaret.wa.gateways._jid import phone_of
from ticaret.wa.gateways.addresses import base_url_policy
from ticaret.wa.gateways.factory import session_gateway, webhook_url
from ticaret.wa.repository import sessions as repository
from ticaret.wa.schemas import (
    PairingOut,
    Removed,
    SessionCreate,
    SessionCreated,
    SessionOut,
    ShareOut,
)
from ticaret.wa.service.access import emit_to_session

logger = logging.getLogger("ticaret.wa.sessions")


def new_provider_session_id(name: str) -> str:
    # Readable in gateway dashboards, unique through the random suffix. Letters are
    # transliterated (Mağaza -> magaza), so a Turkish or Cyrillic name stays recognisable.
    slug = slugify(name, max_length=40, word_boundary=False).strip("-") or "wa"
    return f"{slug}-{secrets.token_hex(4)}"


def session_out(wa: WaSession, account_id: uuid.UUID, shared_with: list[uuid.UUID]) -> SessionOut:
    owner = wa.account_id == account_id
    return from_row(
        SessionOut,
        wa,
        access="owner" if owner else "shared",
        has_api_key=wa.api_key_encrypted is not None,
        webhook_url=webhook_url(wa.provider_session_id),
        shared_with=shared_with if owner else [],
        status_error=None,
    )


async def _shares(session: AsyncSession, wa: WaSession) -> list[uuid.UUID]:
    return (await repository.shared_with(session, [wa.id]))[wa.id]


@asynccontextmanager
async def gateway_errors(action: str) -> AsyncIterator[None]:
    """Gateway failures inside a request become 502s with a message safe to show."""
    try:
        yield
    except GatewayRejected as exc:
        raise GatewayRefused(f"The gateway refused to {action}: {exc.public}") from None
    except GatewayError as exc:
        raise GatewayUnreachable(f"The gateway did not answer ({action}): {exc.public}") from None


async def apply_status(
    session: AsyncSession, wa: WaSession, state: SessionState, actor: Actor
) -> bool:
    """Store a status the gateway reported; emits `wa.session.status_changed` on a change."""
    changed = wa.status != state.status
    wa.raw_status = state.raw
    if state.me_jid:
        wa.me_jid = state.me_jid
        wa.me_phone = phone_of(state.me_jid) or wa.me_phone
    if state.me_name:
        wa.me_name = state.me_name
    if not changed:
        return False
    previous = SessionStatus(wa.status)
    wa.status = state.status
    wa.status_changed_at = datetime.now(UTC)
    if state.status == SessionStatus.WORKING:
        wa.pairing = None
    await emit_to_session(
        session,
        wa,
        SESSION_STATUS_CHANGED,
        SessionStatusChanged(
            provider_session_id=wa.provider_session_id,
            status=state.status,
            previous_status=previous,
            raw_status=state.raw,
            me_jid=wa.me_jid,
        ),
        actor=actor,
    )
    return True


async def list_sessions(
    session: AsyncSession, ctx: AccountContext, page: PageParams
) -> Page[SessionOut]:
    rows = await repository.sessions_page(session, ctx.account_id, page.after_id(), page.limit)
    kept, cursor, more = build_page(rows, page.limit, lambda wa: [wa.id])
    # Only the owner sees whom a session is shared with.
    owned = [wa.id for wa in kept if wa.account_id == ctx.account_id]
    shares = await repository.shared_with(session, owned)
    out = [session_out(wa, ctx.account_id, shares.get(wa.id, [])) for wa in kept]
    return Page[SessionOut](rows=out, next_cursor=cursor, has_more=more)


async def create_session(
    session: AsyncSession, ctx: AccountContext, body: SessionCreate
) -> SessionCreated:
    settings = get_settings()
    config = body.config
    if body.provider == "sandbox":
        if not settings.wa_sandbox_enabled:
            raise SandboxDisabled()
        base_url, api_key = None, None
    else:
        if config is None or not config.base_url:
            raise BaseUrlRequired(
                f"A {body.provider} session needs config.baseUrl (the gateway's address)."
            )
        base_url, api_key = config.base_url, config.api_key
        try:
            # A readable refusal now; the guarded client refuses again on every connection.
            await check_url(base_url, base_url_policy(settings), subject="gateway URLs")
        except UnsafeUrl as exc:
            raise GatewayUrlNotAllowed(f"config.baseUrl is not allowed: {exc}") from None
    box = secret_box(settings)
    secret = secrets.token_urlsafe(32)
    wa = WaSession(
        account_id=ctx.account_id,
        provider_session_id=new_provider_session_id(body.name),
        name=body.name,
        provider=body.provider,
        base_url=base_url,
        api_key_encrypted=box.encrypt(api_key) if api_key else None,
        webhook_secret_encrypted=box.encrypt(secret),
        status=SessionStatus.STOPPED,
    )
    session.add(wa)
    await session.flush()
    gateway = session_gateway(wa, timeout=settings.wa.request_timeout_seconds)
    async with gateway_errors("create the session"):
        state = await gateway.create_session()
        await gateway.start_session()
    await apply_status(session, wa, state, ctx.actor)
    await session.flush()
    out = session_out(wa, ctx.account_id, [])
    return SessionCreated(**out.model_dump(), webhook_secret=secret)


async def _session_or_404(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str
) -> WaSession:
    wa = await repository.accessible_session(session, ctx.account_id, provider_session_id)
    if wa is None:
        raise SessionNotFound()
    return wa


def _require_owner(ctx: AccountContext, wa: WaSession) -> None:
    if wa.account_id != ctx.account_id:
        raise NotSessionOwner()


async def get_session(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str
) -> SessionOut:
    wa = await _session_or_404(session, ctx, provider_session_id)
    status_error: str | None = None
    gateway = session_gateway(wa, timeout=get_settings().wa.request_timeout_seconds)
    try:
        state = await gateway.get_status()
    except GatewayError as exc:
        # The stored status is still worth showing; say why it may be stale.
        status_error = exc.public
    else:
        if await apply_status(session, wa, state, Actor.system()):
            await session.flush()
    out = session_out(wa, ctx.account_id, await _shares(session, wa))
    out.status_error = status_error
    return out


async def pairing(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str, phone: str | None
) -> PairingOut:
    wa = await _session_or_404(session, ctx, provider_session_id)
    gateway = session_gateway(wa, timeout=get_settings().wa.request_timeout_seconds)
    async with gateway_errors("give a pairing code"):
        result = await gateway.get_pairing(phone)
    stored = wa.pairing or {}
    return PairingOut(
        provider_session_id=wa.provider_session_id,
        status=wa.status,
        connected=result.connected,
        qr=result.qr_value or stored.get("qr"),
        qr_image=result.qr_image or stored.get("qrImage"),
        pairing_code=result.pairing_code or stored.get("pairingCode"),
    )


async def logout(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str
) -> SessionOut:
    wa = await _session_or_404(session, ctx, provider_session_id)
    _require_owner(ctx, wa)
    gateway = session_gateway(wa, timeout=get_settings().wa.request_timeout_seconds)
    async with gateway_errors("log out"):
        await gateway.logout()
    await apply_status(
        session, wa, SessionState(status=SessionStatus.STOPPED, raw="LOGOUT"), ctx.actor
    )
    await session.flush()
    return session_out(wa, ctx.account_id, await _shares(session, wa))


async def remove_access(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str
) -> Removed:
    wa = await _session_or_404(session, ctx, provider_session_id)
    if wa.account_id != ctx.account_id:
        await repository.remove_share(session, wa, ctx.account_id)
        return Removed(removed=True, scope="share")
    gateway = session_gateway(wa, timeout=get_settings().wa.request_timeout_seconds)
    try:
        await gateway.delete_session()
    except GatewayError as exc:
        # Our side goes away regardless; the gateway instance may need a manual cleanup.
        wa.last_error = f"gateway delete failed: {exc.public}"
        logger.warning("gateway delete failed for %s: %s", wa.provider_session_id, exc.message)
    wa.deleted_at = datetime.now(UTC)
    await repository.remove_all_shares(session, wa)
    return Removed(removed=True, scope="session")


async def share(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str, target: uuid.UUID
) -> ShareOut:
    wa = await _session_or_404(session, ctx, provider_session_id)
    _require_owner(ctx, wa)
    if target == ctx.account_id:
        raise ShareWithSelf()
    if await accounts_repository.account(session, target) is None:
        raise ShareTargetNotFound()
    created_at = await repository.add_share(session, wa, target, ctx.actor.type, ctx.actor.id)
    if created_at is None:
        raise AlreadyShared()
    return ShareOut(
        provider_session_id=wa.provider_session_id, account_id=target, created_at=created_at
    )


async def unshare(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str, target: uuid.UUID
) -> Removed:
    wa = await _session_or_404(session, ctx, provider_session_id)
    _require_owner(ctx, wa)
    if not await repository.remove_share(session, wa, target):
        raise ShareNotFound()
    return Removed(removed=True, scope="share")
