"""Chats of a session: lookups, the chat list, and the upserts incoming messages cause."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from asyncpg import Connection, Record
from sqlalchemy import (
    ColumnElement,
    DateTime,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.core.ids import new_id
from ticaret.models import ChatType, MessageType, WaChat, WaChatLabel, WaMessage
from ticaret.wa.repository import contains_pattern
from ticaret.wa.repository.labels import labelled
from ticaret.wa.schemas import LabelFilter


async def chat(session: AsyncSession, session_id: uuid.UUID, remote_jid: str) -> WaChat | None:
    return await session.scalar(
        select(WaChat).where(WaChat.session_id == session_id, WaChat.remote_jid == remote_jid)
    )


async def chats_page(
    session: AsyncSession,
    session_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    q: str | None,
    unread_only: bool,
    chat_type: ChatType | None,
    labels: LabelFilter | None,
    archived: bool | None,
    conditions: Sequence[ColumnElement[bool]] = (),
) -> list[WaChat]:
    """Latest activity first; chats without messages last. `labels` are the account's;
    `conditions` are more filters on `wa_chats` rows from another domain (the CRM's)."""
    # Spelled exactly as in the index `ix_wa_chats_session_activity` so the planner uses it.
    last: ColumnElement[datetime] = literal_column(
        "coalesce(wa_chats.last_message_at, 'epoch'::timestamptz)"
    )
    stmt = select(WaChat).where(WaChat.session_id == session_id, *conditions)
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(or_(WaChat.name.ilike(pattern), WaChat.remote_jid.ilike(pattern)))
    if unread_only:
        stmt = stmt.where(WaChat.unread_count > 0)
    if chat_type:
        stmt = stmt.where(WaChat.type == chat_type)
    if archived is not None:
        stmt = stmt.where(WaChat.archived.is_(archived))
    if labels:
        stmt = stmt.where(labelled(WaChat.id, WaChatLabel, WaChatLabel.chat_id, account_id, labels))
    if after is not None:
        stmt = stmt.where(tuple_(last, WaChat.id) < tuple_(literal(after[0]), literal(after[1])))
    stmt = stmt.order_by(last.desc(), WaChat.id.desc()).limit(limit + 1)
    return list(await session.scalars(stmt))


async def record_chat_seen(
    session: AsyncSession,
    session_id: uuid.UUID,
    remote_jid: str,
    chat_type: ChatType,
    name: str | None,
    unread_count: int | None,
) -> None:
    """A chat the gateway told us about (chat lists); changes only what it knows."""
    stmt = insert(WaChat).values(
        id=new_id(),
        session_id=session_id,
        remote_jid=remote_jid,
        type=chat_type,
        name=name,
        unread_count=unread_count or 0,
        archived=False,
    )
    excluded = stmt.excluded
    new_name = func.coalesce(excluded.name, WaChat.name)
    unread = excluded.unread_count if unread_count is not None else WaChat.unread_count
    await session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_wa_chats_session_remote_jid",
            set_={"name": new_name, "unread_count": unread, "updated_at": func.now()},
            where=or_(WaChat.name.is_distinct_from(new_name), WaChat.unread_count != unread),
        )
    )


async def record_message_in_chat(
    session: AsyncSession, message: WaMessage, *, name: str | None, preview: str
) -> WaChat:
    """The chat after a new message: created if needed, last message and unread count moved
    forward only by a newer message (events may arrive out of order)."""
    visible = message.type != MessageType.reaction
    at = message.source_timestamp
    stmt = insert(WaChat).values(
        id=new_id(),
        session_id=message.session_id,
        remote_jid=message.remote_jid,
        type=message.chat_type,
        name=name,
        last_message_at=at if visible else None,
        last_message_preview=preview if visible else None,
        last_message_from_me=message.from_me if visible else None,
        unread_count=1 if visible and not message.from_me else 0,
        archived=False,
    )
    excluded = stmt.excluded
    newer = or_(WaChat.last_message_at.is_(None), WaChat.last_message_at <= at)
    set_: dict[str, Any] = {"updated_at": func.now()}
    if visible:
        set_.update(
            last_message_at=case((newer, excluded.last_message_at), else_=WaChat.last_message_at),
            last_message_preview=case(
                (newer, excluded.last_message_preview), else_=WaChat.last_message_preview
            ),
            last_message_from_me=case(
                (newer, excluded.last_message_from_me), else_=WaChat.last_message_from_me
            ),
            # Our own reply means the customer has been answered.
            unread_count=(
                WaChat.unread_count + 1
                if not message.from_me
                else case((newer, 0), else_=WaChat.unread_count)
            ),
            name=func.coalesce(WaChat.name, excluded.name),
        )
    chat_row = await session.scalar(
        stmt.on_conflict_do_update(constraint="uq_wa_chats_session_remote_jid", set_=set_)
        .returning(WaChat)
        .execution_options(populate_existing=True)
    )
    assert chat_row is not None
    return chat_row


# Hot lists read outside a transaction: statements compiled once (core.db.RawQuery). ----------

_LAST_ACTIVITY: ColumnElement[datetime] = literal_column(
    "coalesce(wa_chats.last_message_at, 'epoch'::timestamptz)"
)
_CHAT_COLUMNS = (
    WaChat.id,
    WaChat.session_id,
    WaChat.remote_jid,
    WaChat.alt_jid,
    WaChat.type,
    WaChat.name,
    WaChat.last_message_at,
    WaChat.last_message_preview,
    WaChat.last_message_from_me,
    WaChat.unread_count,
    WaChat.archived,
    WaChat.created_at,
    WaChat.updated_at,
)
_CHAT_RAW = RawQuery(
    select(*_CHAT_COLUMNS).where(
        WaChat.session_id == bindparam("session_id"), WaChat.remote_jid == bindparam("remote_jid")
    )
)
_CHATS_PAGE = (
    select(*_CHAT_COLUMNS)
    .where(WaChat.session_id == bindparam("session_id"))
    .order_by(_LAST_ACTIVITY.desc(), WaChat.id.desc())
    .limit(bindparam("limit"))
)
_CHATS_FIRST_RAW = RawQuery(_CHATS_PAGE)
_CHATS_AFTER_RAW = RawQuery(
    _CHATS_PAGE.where(
        tuple_(_LAST_ACTIVITY, WaChat.id)
        < tuple_(bindparam("after_time", type_=DateTime(timezone=True)), bindparam("after_id"))
    )
)


async def chat_raw(conn: Connection, session_id: uuid.UUID, remote_jid: str) -> Record | None:
    return await _CHAT_RAW.fetchrow(conn, session_id=session_id, remote_jid=remote_jid)


async def chats_page_raw(
    conn: Connection, session_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Record]:
    """`chats_page` without filters: latest activity first, `limit + 1` rows."""
    if after is None:
        return await _CHATS_FIRST_RAW.fetch(conn, session_id=session_id, limit=limit + 1)
    return await _CHATS_AFTER_RAW.fetch(
        conn, session_id=session_id, limit=limit + 1, after_time=after[0], after_id=after[1]
    )
