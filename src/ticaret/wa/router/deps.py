"""What `/wa` routes take from a request, declared once: the session a call acts on, and the
path and query parameters several routes share."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Annotated, Literal

from fastapi import Depends, Path, Query

from ticaret.core.auth import AccountContext, account_context
from ticaret.core.db import DbSession, ReadSession
from ticaret.models import Role
from ticaret.wa.gateways._jid import canonical_jid
from ticaret.wa.service.access import WaContext, resolve_wa

ProviderSessionQuery = Annotated[
    str | None,
    Query(alias="providerSessionId", max_length=100, description="The WhatsApp session."),
]
ProviderSessionId = Annotated[str, Path(alias="providerSessionId", max_length=100)]


def remote_jid_of(value: str) -> str:
    """The chat a `remoteJid` path segment names, as `RemoteJid` gives it to routes (the fast
    lane reads the path itself and must agree)."""
    # One spelling per person on every path in: `...@c.us` names the `...@s.whatsapp.net` chat.
    return canonical_jid(value)


def _remote_jid(remote_jid: Annotated[str, Path(alias="remoteJid", max_length=128)]) -> str:
    return remote_jid_of(remote_jid)


RemoteJid = Annotated[str, Depends(_remote_jid)]
MessageId = Annotated[str, Path(alias="messageId", max_length=200)]
LabelId = Annotated[uuid.UUID, Path(alias="labelId")]
LabelIdQuery = Annotated[uuid.UUID | None, Query(alias="labelId")]
LabelIdsQuery = Annotated[
    list[str] | None,
    Query(alias="labelIds", description="Repeat the parameter or separate ids with commas."),
]
LabelModeQuery = Annotated[Literal["any", "all"], Query(alias="labelMode")]


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


# A viewer (or higher) in the session named by `providerSessionId` (or the account's only one).
Reader = Annotated[WaContext, Depends(wa_context(Role.viewer))]


async def _list_reader(
    session: ReadSession,
    provider_session_id: ProviderSessionQuery = None,
    ctx: AccountContext = Depends(account_context(Role.viewer)),
) -> WaContext:
    return await resolve_wa(session, ctx, provider_session_id)


# `Reader` for the list routes, which read outside a transaction (`ReadSession`).
ListReader = Annotated[WaContext, Depends(_list_reader)]
