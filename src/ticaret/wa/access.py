"""Which WhatsApp session a `/wa` call acts on: owned by the account or shared with it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext, account_context
from ticaret.core.db import DbSession
from ticaret.core.events import Actor, D, EventType, emit
from ticaret.models import Role, WaSession, WaSessionShare
from ticaret.wa.errors import ProviderSessionRequired, SessionNotFound


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


def _visible_to(account_id: uuid.UUID) -> object:
    shared = exists().where(
        WaSessionShare.session_id == WaSession.id, WaSessionShare.account_id == account_id
    )
    return or_(WaSession.account_id == account_id, shared)


async def accessible_session(
    session: AsyncSession, account_id: uuid.UUID, provider_session_id: str
) -> WaSession | None:
    return await session.scalar(
        select(WaSession).where(
            WaSession.provider_session_id == provider_session_id,
            WaSession.deleted_at.is_(None),
            _visible_to(account_id),  # type: ignore[arg-type]
        )
    )


async def resolve_wa(
    session: AsyncSession, ctx: AccountContext, provider_session_id: str | None
) -> WaContext:
    """The named session, or the account's only one when none is named."""
    if provider_session_id:
        wa = await accessible_session(session, ctx.account_id, provider_session_id)
        if wa is None:
            raise SessionNotFound()
        return WaContext(ctx, wa)
    candidates = (
        await session.scalars(
            select(WaSession)
            .where(WaSession.deleted_at.is_(None), _visible_to(ctx.account_id))  # type: ignore[arg-type]
            .limit(2)
        )
    ).all()
    if len(candidates) != 1:
        raise ProviderSessionRequired()
    return WaContext(ctx, candidates[0])


async def session_account_ids(session: AsyncSession, wa: WaSession) -> list[uuid.UUID]:
    """Every account that sees this session: events about it go to each of them."""
    shared = (
        await session.scalars(
            select(WaSessionShare.account_id).where(WaSessionShare.session_id == wa.id)
        )
    ).all()
    return [wa.account_id, *shared]


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
    for account_id in accounts if accounts is not None else await session_account_ids(session, wa):
        emit(
            session,
            type,
            data,
            account_id=account_id,
            actor=actor,
            provider_session_id=wa.provider_session_id,
        )


ProviderSessionQuery = Annotated[
    str | None,
    Query(alias="providerSessionId", max_length=100, description="The WhatsApp session."),
]


@cache
def wa_context(min_role: Role = Role.viewer) -> Callable[..., Awaitable[WaContext]]:
    """Dependency for `/wa` routes whose session comes from the query string."""

    role_dependency = account_context(min_role)

    # A default, not an annotation: annotations are strings here and cannot see `min_role`.
    async def dependency(
        session: DbSession,
        provider_session_id: ProviderSessionQuery = None,
        ctx: AccountContext = Depends(role_dependency),
    ) -> WaContext:
        return await resolve_wa(session, ctx, provider_session_id)

    return dependency
