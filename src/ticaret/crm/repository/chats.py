"""What the CRM reads of WhatsApp: sessions the account sees, chats and messages by their
JIDs, the chats no customer is linked to. Sessions are shared, so every statement starts from
the sessions visible to the account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.crm.repository import canonical_jid
from ticaret.models import (
    ChatType,
    CrmCustomer,
    CrmIdentity,
    CrmInboxLink,
    Event,
    IdentityChannel,
    InboxChannel,
    WaChat,
    WaMessage,
    WaSession,
    WaSessionShare,
)


def visible_session_ids(account_id: uuid.UUID) -> Any:
    """Ids of the live sessions the account owns or that are shared with it."""
    shared = exists().where(
        WaSessionShare.session_id == WaSession.id, WaSessionShare.account_id == account_id
    )
    return select(WaSession.id).where(
        WaSession.deleted_at.is_(None), or_(WaSession.account_id == account_id, shared)
    )


async def visible_sessions(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    after: uuid.UUID | None = None,
    limit: int | None = None,
) -> list[WaSession]:
    stmt = select(WaSession).where(WaSession.id.in_(visible_session_ids(account_id)))
    if after is not None:
        stmt = stmt.where(WaSession.id < after)
    stmt = stmt.order_by(WaSession.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit + 1)
    return list(await session.scalars(stmt))


async def visible_session(
    session: AsyncSession, account_id: uuid.UUID, provider_session_id: str
) -> WaSession | None:
    return await session.scalar(
        select(WaSession).where(
            WaSession.provider_session_id == provider_session_id,
            WaSession.id.in_(visible_session_ids(account_id)),
        )
    )


async def sessions_by_id(
    session: AsyncSession, session_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, WaSession]:
    """By primary key: for rows that name sessions already checked."""
    if not session_ids:
        return {}
    rows = await session.scalars(select(WaSession).where(WaSession.id.in_(list(set(session_ids)))))
    return {row.id: row for row in rows}


async def chat(session: AsyncSession, session_id: uuid.UUID, remote_jid: str) -> WaChat | None:
    return await session.scalar(
        select(WaChat).where(WaChat.session_id == session_id, WaChat.remote_jid == remote_jid)
    )


async def chats_by_ref(
    session: AsyncSession, account_id: uuid.UUID, refs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[WaChat, WaSession]]:
    """(providerSessionId, remoteJid) -> chat and its session, for the refs the account sees."""
    if not refs:
        return {}
    rows = await session.execute(
        select(WaChat, WaSession)
        .join(WaSession, WaSession.id == WaChat.session_id)
        .where(
            WaSession.id.in_(visible_session_ids(account_id)),
            tuple_(WaSession.provider_session_id, WaChat.remote_jid).in_(list(set(refs))),
        )
    )
    return {(wa.provider_session_id, chat.remote_jid): (chat, wa) for chat, wa in rows.tuples()}


async def messages_by_ref(
    session: AsyncSession, account_id: uuid.UUID, refs: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], tuple[WaMessage, WaSession]]:
    if not refs:
        return {}
    rows = await session.execute(
        select(WaMessage, WaSession)
        .join(WaSession, WaSession.id == WaMessage.session_id)
        .where(
            WaSession.id.in_(visible_session_ids(account_id)),
            tuple_(WaSession.provider_session_id, WaMessage.remote_jid, WaMessage.message_id).in_(
                list(set(refs))
            ),
        )
    )
    return {
        (wa.provider_session_id, message.remote_jid, message.message_id): (message, wa)
        for message, wa in rows.tuples()
    }


async def message(
    session: AsyncSession, session_id: uuid.UUID, remote_jid: str, message_id: str
) -> WaMessage | None:
    return await session.scalar(
        select(WaMessage).where(
            WaMessage.session_id == session_id,
            WaMessage.remote_jid == remote_jid,
            WaMessage.message_id == message_id,
        )
    )


def _spellings(jids: Sequence[str]) -> list[str]:
    """Phone JIDs as either gateway writes them."""
    return list(jids) + [
        j.replace("@s.whatsapp.net", "@c.us") for j in jids if j.endswith("@s.whatsapp.net")
    ]


async def chats_with_jids(
    session: AsyncSession, account_id: uuid.UUID, jids: Sequence[str]
) -> list[WaChat]:
    """Individual chats the account sees whose JID or alternative JID is one of `jids`."""
    if not jids:
        return []
    visible = visible_session_ids(account_id)
    return list(
        await session.scalars(
            select(WaChat).where(
                WaChat.session_id.in_(visible),
                WaChat.type == ChatType.individual,
                or_(WaChat.remote_jid.in_(_spellings(jids)), WaChat.alt_jid.in_(_spellings(jids))),
            )
        )
    )


def _linked_by_identity(account_id: Any, chat: Any) -> ColumnElement[bool]:
    return exists().where(
        CrmIdentity.account_id == account_id,
        CrmIdentity.channel == IdentityChannel.whatsapp,
        CrmIdentity.scope == "",
        CrmIdentity.value.in_([canonical_jid(chat.remote_jid), canonical_jid(chat.alt_jid)]),
        exists().where(CrmCustomer.id == CrmIdentity.customer_id, CrmCustomer.deleted_at.is_(None)),
    )


def _linked_by_inbox(account_id: Any, chat: Any) -> ColumnElement[bool]:
    return exists().where(
        CrmInboxLink.account_id == account_id,
        CrmInboxLink.channel == InboxChannel.whatsapp,
        CrmInboxLink.session_id == chat.session_id,
        exists().where(
            CrmCustomer.id == CrmInboxLink.customer_id, CrmCustomer.deleted_at.is_(None)
        ),
    )


def chat_is_linked(account_id: Any, chat: Any = WaChat) -> ColumnElement[bool]:
    """The chat (a `wa_chats` row in the enclosing query, or `chat`: the columns of a
    subquery of them) belongs to one of the account's customers: one of its JIDs is mapped,
    or its whole session is. `account_id` is a value or a bound parameter."""
    return or_(_linked_by_identity(account_id, chat), _linked_by_inbox(account_id, chat))


async def unmatched_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    session_id: uuid.UUID | None,
    chat_types: Sequence[str],
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[WaChat, WaSession]]:
    """Chats with messages and no customer in this account, latest activity first."""
    last: ColumnElement[datetime] = literal_column(
        "coalesce(wa_chats.last_message_at, 'epoch'::timestamptz)"
    )
    stmt = (
        select(WaChat, WaSession)
        .join(WaSession, WaSession.id == WaChat.session_id)
        .where(
            WaChat.session_id.in_(visible_session_ids(account_id)),
            WaChat.type.in_(list(chat_types)),
            WaChat.last_message_at.is_not(None),
            ~chat_is_linked(account_id),
        )
    )
    if session_id is not None:
        stmt = stmt.where(WaChat.session_id == session_id)
    if after is not None:
        stmt = stmt.where(
            and_(tuple_(last, WaChat.id) < tuple_(literal(after[0]), literal(after[1])))
        )
    stmt = stmt.order_by(last.desc(), WaChat.id.desc()).limit(limit + 1)
    rows = await session.execute(stmt)
    return [(chat_row, wa) for chat_row, wa in rows.tuples()]


# Jobs hold ids of rows we wrote: these look rows up by primary key alone. -------------------


async def event(session: AsyncSession, event_id: str) -> Event | None:
    return await session.get(Event, event_id)


async def message_by_pk(session: AsyncSession, message_pk: uuid.UUID) -> WaMessage | None:
    return await session.get(WaMessage, message_pk)


async def session_by_provider_id(
    session: AsyncSession, provider_session_id: str
) -> WaSession | None:
    return await session.scalar(
        select(WaSession).where(WaSession.provider_session_id == provider_session_id)
    )


async def chats_of_values(
    session: AsyncSession, account_id: uuid.UUID, jids: Sequence[str]
) -> list[WaChat]:
    """Chats of any type the account sees whose JID or alternative JID is one of `jids`."""
    if not jids:
        return []
    return list(
        await session.scalars(
            select(WaChat).where(
                WaChat.session_id.in_(visible_session_ids(account_id)),
                or_(WaChat.remote_jid.in_(_spellings(jids)), WaChat.alt_jid.in_(_spellings(jids))),
            )
        )
    )
