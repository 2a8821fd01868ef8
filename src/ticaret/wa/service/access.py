"""Which WhatsApp session a `/wa` call acts on (owned by the account or shared with it), and
events about a session, which go to every account that sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from asyncpg import Connection, Record
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.events import Actor, D, EventType, emit
from ticaret.models import WaSession
from ticaret.wa.errors import ProviderSessionRequired, SessionNotFound
from ticaret.wa.repository import sessions as repository


@dataclass(frozen=True)
class WaContext:
    ctx: AccountContext
    wa: WaSession

    @property
    def account_id(self) -> uuid.UUID:
        return self.ctx.account_id

    @property
    def is_owner(self) -> bool:
        return self.wa.account_id == self.ctx.account_id


async def resolve_wa(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str | None
) -> WaContext:
    """The named session, or the account's only one when none is named."""
    if provider_session_id:
        wa = await repository.accessible_session(session, ctx.account_id, provider_session_id)
        if wa is None:
            raise SessionNotFound()
        return WaContext(ctx, wa)
    candidates = await repository.first_accessible_sessions(session, ctx.account_id, 2)
    if len(candidates) != 1:
        raise ProviderSessionRequired()
    return WaContext(ctx, candidates[0])


async def visible_session_raw(
    conn: Connection, ctx: AccountContext, provider_session_id: str | None
) -> Record:
    """`resolve_wa` for reads outside a transaction: the session's id and providerSessionId."""
    found = await repository.visible_session_raw(conn, ctx.account_id, provider_session_id)
    if provider_session_id:
        if not found:
            raise SessionNotFound()
    elif len(found) != 1:
        raise ProviderSessionRequired()
    return found[0]


async def emit_to_session(
    session: AsyncSession,
    wa: WaSession,
    type: EventType[D],
    data: D,
    *,
    actor: Actor,
    accounts: list[uuid.UUID] | None = None,
) -> None:
    """One event per account that sees the session (owner and shares)."""
    for account_id in (
        accounts if accounts is not None else await repository.account_ids(session, wa)
    ):
        emit(
            session,
            type,
            data,
            account_id=account_id,
            actor=actor,
            provider_session_id=wa.provider_session_id,
        )
