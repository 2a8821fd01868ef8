"""WhatsApp sessions: create on the gateway, status, pairing, logout, removal and sharing."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from slugify import slugify
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.accounts import repository as accounts_repository
from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.core.events import Actor, EventType, emit
from ticaret.core.security import secret_box
from ticaret.core.ssrf import UnsafeUrl, check_url
from ticaret.models import SessionStatus, ShareStatus, WaSession, WaSessionShare
from ticaret.settings import get_settings
from ticaret.wa.errors import (
    BaseUrlRequired,
    GatewayRefused,
    GatewayUnreachable,
    GatewayUrlNotAllowed,
    NotSessionOwner,
    SandboxDisabled,
    SessionNotFound,
    ShareAlreadyAccepted,
    ShareNotFound,
    ShareOfferNotFound,
    ShareWithSelf,
)
from ticaret.wa.events import (
    SESSION_DELETED,
    SESSION_SHARE_ACCEPTED,
    SESSION_SHARE_DECLINED,
    SESSION_SHARED,
    SESSION_STATUS_CHANGED,
    SESSION_UNSHARED,
    SessionDeleted,
    SessionShareChanged,
    SessionStatusChanged,
)
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
    ShareOfferOut,
    ShareOut,
)
from ticaret.wa.service.access import emit_to_session

logger = logging.getLogger("ticaret.wa.sessions")


def new_provider_session_id(name: str) -> str:
    # Readable in gateway dashboards, unique through the random suffix. Letters are
    # transliterated (Mağaza -> magaza), so a Turkish or Cyrillic name stays recognisable.
    slug = slugify(name, max_length=40, word_boundary=False).strip("-") or "wa"
    return f"{slug}-{secrets.token_hex(4)}"


def share_out(wa: WaSession, share: WaSessionShare) -> ShareOut:
    return from_row(ShareOut, share, provider_session_id=wa.provider_session_id)


def session_out(
    wa: WaSession, account_id: uuid.UUID, shares: Sequence[WaSessionShare]
) -> SessionOut:
    """The owner sees the gateway's address, its shares and where events arrive; an account it
    is shared with sees the conversation's session, never the owner's gateway or credentials."""
    if wa.account_id != account_id:
        return from_row(
            SessionOut,
            wa,
            access="shared",
            base_url=None,
            has_api_key=False,
            webhook_url=None,
            shared_with=[],
            shares=[],
            status_error=None,
        )
    return from_row(
        SessionOut,
        wa,
        access="owner",
        has_api_key=wa.api_key_encrypted is not None,
        webhook_url=webhook_url(wa.provider_session_id),
        shared_with=[s.account_id for s in shares if s.status == ShareStatus.accepted],
        shares=[share_out(wa, s) for s in shares],
        status_error=None,
    )


async def _shares(session: AsyncSession, wa: WaSession) -> list[WaSessionShare]:
    return (await repository.shares_of(session, [wa.id]))[wa.id]


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
    shares = await repository.shares_of(session, owned)
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
    # Pairing links a phone to the owner's gateway: never an account the session is shared with.
    _require_owner(ctx, wa)
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
        share = await repository.remove_share(session, wa, ctx.account_id)
        if share is not None:
            await _share_event(session, wa, share, SESSION_UNSHARED, ctx.actor)
        return Removed(removed=True, scope="share")
    gateway = session_gateway(wa, timeout=get_settings().wa.request_timeout_seconds)
    try:
        await gateway.delete_session()
    except GatewayError as exc:
        # Our side goes away regardless; the gateway instance may need a manual cleanup.
        wa.last_error = f"gateway delete failed: {exc.public}"
        logger.warning("gateway delete failed for %s: %s", wa.provider_session_id, exc.message)
    # Told to every account that used it, before the shares that say who they are go.
    await emit_to_session(
        session,
        wa,
        SESSION_DELETED,
        SessionDeleted(
            provider_session_id=wa.provider_session_id,
            name=wa.name,
            owner_account_id=wa.account_id,
        ),
        actor=ctx.actor,
    )
    wa.deleted_at = datetime.now(UTC)
    await repository.remove_all_shares(session, wa)
    return Removed(removed=True, scope="session")


async def _share_event(
    session: AsyncSession,
    wa: WaSession,
    share: WaSessionShare,
    type: EventType[SessionShareChanged],
    actor: Actor,
) -> None:
    """A share's change, told to the owner and to the account it concerns (if it exists)."""
    data = SessionShareChanged(
        share_id=share.id,
        provider_session_id=wa.provider_session_id,
        session_name=wa.name,
        owner_account_id=wa.account_id,
        account_id=share.account_id,
        status=ShareStatus(share.status),
    )
    emit(
        session,
        type,
        data,
        account_id=wa.account_id,
        actor=actor,
        provider_session_id=wa.provider_session_id,
    )
    if await accounts_repository.account(session, share.account_id) is not None:
        emit(
            session,
            type,
            data,
            account_id=share.account_id,
            actor=actor,
            provider_session_id=wa.provider_session_id,
        )


async def share(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str, target: uuid.UUID
) -> ShareOut:
    """Offer the session to `target`. The answer is the same whether or not `target` is an
    account: an offer to an unknown id is stored like any other and never accepted."""
    wa = await _session_or_404(session, ctx, provider_session_id)
    _require_owner(ctx, wa)
    if target == ctx.account_id:
        raise ShareWithSelf()
    offer, new = await repository.offer_share(session, wa, target, ctx.actor.type, ctx.actor.id)
    if new:
        await _share_event(session, wa, offer, SESSION_SHARED, ctx.actor)
    return share_out(wa, offer)


async def unshare(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str, target: uuid.UUID
) -> Removed:
    wa = await _session_or_404(session, ctx, provider_session_id)
    _require_owner(ctx, wa)
    share = await repository.remove_share(session, wa, target)
    if share is None:
        raise ShareNotFound()
    await _share_event(session, wa, share, SESSION_UNSHARED, ctx.actor)
    return Removed(removed=True, scope="share")


# Offers made to an account ------------------------------------------------------------------


def offer_out(wa: WaSession, share: WaSessionShare) -> ShareOfferOut:
    return from_row(
        ShareOfferOut,
        share,
        provider_session_id=wa.provider_session_id,
        session_name=wa.name,
        owner_account_id=wa.account_id,
    )


async def list_offers(
    session: AsyncSession, ctx: AccountContext, status: ShareStatus | None, page: PageParams
) -> Page[ShareOfferOut]:
    rows = await repository.offers_page(
        session, ctx.account_id, status, page.after_id(), page.limit
    )
    kept, cursor, more = build_page(rows, page.limit, lambda row: [row[0].id])
    return Page[ShareOfferOut](
        rows=[offer_out(wa, share) for share, wa in kept], next_cursor=cursor, has_more=more
    )


async def answer_offer(
    session: AsyncSession, ctx: AccountContext, share_id: uuid.UUID, accept: bool
) -> ShareOfferOut:
    """The target account's admin accepts or declines; repeating an answer changes nothing."""
    found = await repository.offer_for_account(session, ctx.account_id, share_id)
    if found is None:
        raise ShareOfferNotFound()
    share, wa = found
    wanted = ShareStatus.accepted if accept else ShareStatus.declined
    if share.status == wanted:
        return offer_out(wa, share)
    if share.status == ShareStatus.accepted:
        raise ShareAlreadyAccepted()
    share.status = wanted
    share.responded_at = datetime.now(UTC)
    share.responded_by_type = ctx.actor.type
    share.responded_by_id = ctx.actor.id
    await session.flush()
    await _share_event(
        session, wa, share, SESSION_SHARE_ACCEPTED if accept else SESSION_SHARE_DECLINED, ctx.actor
    )
    return offer_out(wa, share)
