"""Reading chats, contacts and messages of one session (already access-checked)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, literal, literal_column, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.envelope import Page, PageParams, build_page, decode_cursor
from ticaret.core.errors import InvalidCursor
from ticaret.models import WaChat, WaChatLabel, WaContact, WaMessage, WaMessageLabel
from ticaret.wa.access import WaContext
from ticaret.wa.errors import ChatNotFound, ContactNotFound, InvalidLabelIds, MessageNotFound
from ticaret.wa.schemas import ChatOut, ContactOut, MessageOut
from ticaret.wa.views import chat_labels, chat_out, contact_out, message_labels, message_out

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LabelMode = Literal["any", "all"]


@dataclass(frozen=True)
class LabelFilter:
    ids: list[uuid.UUID]
    mode: LabelMode

    @classmethod
    def build(
        cls, label_id: uuid.UUID | None, label_ids: list[str] | None, mode: LabelMode
    ) -> LabelFilter | None:
        ids: list[uuid.UUID] = [label_id] if label_id else []
        for raw in label_ids or []:
            for part in raw.split(","):
                if part.strip():
                    try:
                        ids.append(uuid.UUID(part.strip()))
                    except ValueError as exc:
                        raise InvalidLabelIds() from exc
        unique = list(dict.fromkeys(ids))
        return cls(unique, mode) if unique else None


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _cursor_time_id(cursor: str) -> tuple[datetime, uuid.UUID]:
    raw_time, raw_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(raw_time), uuid.UUID(raw_id)
    except ValueError as exc:
        raise InvalidCursor() from exc


def _labelled(
    column: Any, link_table: Any, link_column: Any, account_id: uuid.UUID, labels: LabelFilter
) -> Any:
    links = select(link_column).where(
        link_table.account_id == account_id, link_table.label_id.in_(labels.ids)
    )
    if labels.mode == "all":
        links = links.group_by(link_column).having(
            func.count(func.distinct(link_table.label_id)) == len(labels.ids)
        )
    return column.in_(links)


# Chats --------------------------------------------------------------------------------------


async def chat_row(session: AsyncSession, wa_ctx: WaContext, remote_jid: str) -> WaChat:
    chat = await session.scalar(
        select(WaChat).where(WaChat.session_id == wa_ctx.wa.id, WaChat.remote_jid == remote_jid)
    )
    if chat is None:
        raise ChatNotFound()
    return chat


async def get_chat(session: AsyncSession, wa_ctx: WaContext, remote_jid: str) -> ChatOut:
    chat = await chat_row(session, wa_ctx, remote_jid)
    labels = await chat_labels(session, wa_ctx.account_id, [chat.id])
    return chat_out(chat, wa_ctx.wa.provider_session_id, labels.get(chat.id, []))


async def list_chats(
    session: AsyncSession,
    wa_ctx: WaContext,
    page: PageParams,
    *,
    q: str | None,
    unread_only: bool,
    chat_type: str | None,
    labels: LabelFilter | None,
    archived: bool | None,
) -> Page[ChatOut]:
    # Spelled exactly as in the index `ix_wa_chats_session_activity` so the planner uses it.
    last: ColumnElement[datetime] = literal_column(
        "coalesce(wa_chats.last_message_at, 'epoch'::timestamptz)"
    )
    stmt = select(WaChat).where(WaChat.session_id == wa_ctx.wa.id)
    if q:
        pattern = _like(q)
        stmt = stmt.where(or_(WaChat.name.ilike(pattern), WaChat.remote_jid.ilike(pattern)))
    if unread_only:
        stmt = stmt.where(WaChat.unread_count > 0)
    if chat_type:
        stmt = stmt.where(WaChat.type == chat_type)
    if archived is not None:
        stmt = stmt.where(WaChat.archived.is_(archived))
    if labels:
        stmt = stmt.where(
            _labelled(WaChat.id, WaChatLabel, WaChatLabel.chat_id, wa_ctx.account_id, labels)
        )
    if page.cursor:
        at, after = _cursor_time_id(page.cursor)
        stmt = stmt.where(tuple_(last, WaChat.id) < tuple_(literal(at), literal(after)))
    rows = (
        await session.scalars(stmt.order_by(last.desc(), WaChat.id.desc()).limit(page.limit + 1))
    ).all()
    kept, cursor, more = build_page(rows, page.limit, lambda c: [c.last_message_at or EPOCH, c.id])
    by_chat = await chat_labels(session, wa_ctx.account_id, [c.id for c in kept])
    psid = wa_ctx.wa.provider_session_id
    return Page[ChatOut](
        rows=[chat_out(c, psid, by_chat.get(c.id, [])) for c in kept],
        next_cursor=cursor,
        has_more=more,
    )


# Contacts -----------------------------------------------------------------------------------


async def get_contact(session: AsyncSession, wa_ctx: WaContext, jid: str) -> ContactOut:
    contact = await session.scalar(
        select(WaContact).where(
            WaContact.session_id == wa_ctx.wa.id,
            or_(WaContact.jid == jid, WaContact.lid == jid),
        )
    )
    if contact is None:
        raise ContactNotFound()
    return contact_out(contact, wa_ctx.wa.provider_session_id)


async def list_contacts(
    session: AsyncSession,
    wa_ctx: WaContext,
    page: PageParams,
    *,
    q: str | None,
    is_group: bool | None,
) -> Page[ContactOut]:
    stmt = select(WaContact).where(WaContact.session_id == wa_ctx.wa.id)
    if q:
        pattern = _like(q)
        stmt = stmt.where(
            or_(
                WaContact.name.ilike(pattern),
                WaContact.push_name.ilike(pattern),
                WaContact.phone.ilike(pattern),
                WaContact.jid.ilike(pattern),
            )
        )
    if is_group is not None:
        stmt = stmt.where(WaContact.is_group.is_(is_group))
    after = page.after_id()
    if after is not None:
        stmt = stmt.where(WaContact.id < after)
    rows = (await session.scalars(stmt.order_by(WaContact.id.desc()).limit(page.limit + 1))).all()
    kept, cursor, more = build_page(rows, page.limit, lambda c: [c.id])
    psid = wa_ctx.wa.provider_session_id
    return Page[ContactOut](
        rows=[contact_out(c, psid) for c in kept], next_cursor=cursor, has_more=more
    )


# Messages -----------------------------------------------------------------------------------


def messages_query(
    wa_ctx: WaContext,
    remote_jid: str,
    *,
    q: str | None,
    message_type: str | None,
    labels: LabelFilter | None,
    cursor: str | None,
) -> Select[WaMessage]:
    stmt = select(WaMessage).where(
        WaMessage.session_id == wa_ctx.wa.id, WaMessage.remote_jid == remote_jid
    )
    if q:
        stmt = stmt.where(WaMessage.search.op("@@")(func.websearch_to_tsquery("simple", q)))
    if message_type:
        stmt = stmt.where(WaMessage.type == message_type)
    if labels:
        stmt = stmt.where(
            _labelled(
                WaMessage.id, WaMessageLabel, WaMessageLabel.message_id, wa_ctx.account_id, labels
            )
        )
    if cursor:
        at, after = _cursor_time_id(cursor)
        stmt = stmt.where(
            tuple_(WaMessage.source_timestamp, WaMessage.id) < tuple_(literal(at), literal(after))
        )
    return stmt.order_by(WaMessage.source_timestamp.desc(), WaMessage.id.desc())


async def list_messages(
    session: AsyncSession,
    wa_ctx: WaContext,
    remote_jid: str,
    page: PageParams,
    *,
    q: str | None,
    message_type: str | None,
    labels: LabelFilter | None,
) -> Page[MessageOut]:
    await chat_row(session, wa_ctx, remote_jid)
    stmt = messages_query(
        wa_ctx, remote_jid, q=q, message_type=message_type, labels=labels, cursor=page.cursor
    )
    rows = (await session.scalars(stmt.limit(page.limit + 1))).all()
    kept, cursor, more = build_page(rows, page.limit, lambda m: [m.source_timestamp, m.id])
    by_message = await message_labels(session, wa_ctx.account_id, [m.id for m in kept])
    psid = wa_ctx.wa.provider_session_id
    return Page[MessageOut](
        rows=[message_out(m, psid, by_message.get(m.id, [])) for m in kept],
        next_cursor=cursor,
        has_more=more,
    )


async def get_message(
    session: AsyncSession, wa_ctx: WaContext, remote_jid: str, message_id: str
) -> WaMessage:
    message = await session.scalar(
        select(WaMessage).where(
            WaMessage.session_id == wa_ctx.wa.id,
            WaMessage.remote_jid == remote_jid,
            WaMessage.message_id == message_id,
        )
    )
    if message is None:
        raise MessageNotFound()
    return message
