"""Chats of a session: lookups, the chat list, and the upserts incoming messages cause."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from asyncpg import Connection, Record
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Text,
    Uuid,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.core.ids import new_id
from ticaret.crm.repository import overlay as crm_overlay
from ticaret.models import ChatType, MessageType, WaChat, WaChatLabel, WaContact, WaMessage
from ticaret.wa.repository import contains_pattern, rows_json
from ticaret.wa.repository.labels import chat_labels_json, labelled
from ticaret.wa.repository.sessions import visible_session_id
from ticaret.wa.schemas import LabelFilter


async def chat(session: AsyncSession, session_id: uuid.UUID, remote_jid: str) -> WaChat | None:
    """By its JID, or by its alternative (the `@lid` of a phone chat)."""
    return await session.scalar(
        select(WaChat)
        .where(
            WaChat.session_id == session_id,
            or_(WaChat.remote_jid == remote_jid, WaChat.alt_jid == remote_jid),
        )
        .order_by((WaChat.remote_jid == remote_jid).desc())
        .limit(1)
    )


async def phone_for_lid(session: AsyncSession, session_id: uuid.UUID, lid: str) -> str | None:
    """The phone JID a `@lid` is known to stand for (a chat's or a contact's), if any."""
    by_chat = await session.scalar(
        select(WaChat.remote_jid).where(
            WaChat.session_id == session_id,
            WaChat.alt_jid == lid,
            WaChat.remote_jid.like("%@s.whatsapp.net"),
        )
    )
    if by_chat is not None:
        return by_chat
    return await session.scalar(
        select(WaContact.jid).where(
            WaContact.session_id == session_id,
            WaContact.lid == lid,
            WaContact.jid.like("%@s.whatsapp.net"),
        )
    )


async def has_rows_under(session: AsyncSession, session_id: uuid.UUID, jid: str) -> bool:
    """Whether a chat or contact is still filed under `jid` (one to merge away)."""
    chat_found = exists().where(WaChat.session_id == session_id, WaChat.remote_jid == jid)
    contact_found = exists().where(WaContact.session_id == session_id, WaContact.jid == jid)
    return bool(await session.scalar(select(or_(chat_found, contact_found))))


# One person, two JIDs: everything filed under `from` moves to `to`. The same statements run in
# migration 0006 for chats split before JIDs were normalised.
MERGE_STATEMENTS = (
    # Messages both chats hold: labels move to the kept copy, then the copy goes.
    """UPDATE wa_message_labels l SET message_id = keep.id
       FROM wa_messages dup JOIN wa_messages keep
         ON keep.session_id = dup.session_id AND keep.message_id = dup.message_id
       WHERE dup.session_id = :s AND dup.remote_jid = :from_jid AND keep.remote_jid = :to_jid
         AND l.message_id = dup.id
         AND NOT EXISTS (SELECT 1 FROM wa_message_labels x
                         WHERE x.message_id = keep.id AND x.label_id = l.label_id)""",
    # CRM message assignments likewise (an account's assignment of the kept copy wins).
    """UPDATE crm_message_assignments a SET message_pk = keep.id
       FROM wa_messages dup JOIN wa_messages keep
         ON keep.session_id = dup.session_id AND keep.message_id = dup.message_id
       WHERE dup.session_id = :s AND dup.remote_jid = :from_jid AND keep.remote_jid = :to_jid
         AND a.message_pk = dup.id
         AND NOT EXISTS (SELECT 1 FROM crm_message_assignments x
                         WHERE x.message_pk = keep.id AND x.account_id = a.account_id)""",
    """DELETE FROM wa_messages dup USING wa_messages keep
       WHERE dup.session_id = :s AND dup.remote_jid = :from_jid
         AND keep.session_id = :s AND keep.remote_jid = :to_jid
         AND keep.message_id = dup.message_id""",
    "UPDATE wa_messages SET remote_jid = :to_jid WHERE session_id = :s AND remote_jid = :from_jid",
    # The chat: folded into the one under `to`, or renamed when there is none.
    """UPDATE wa_chats t SET
         last_message_preview = CASE WHEN f.last_message_at IS NOT NULL AND
           (t.last_message_at IS NULL OR f.last_message_at > t.last_message_at)
           THEN f.last_message_preview ELSE t.last_message_preview END,
         last_message_from_me = CASE WHEN f.last_message_at IS NOT NULL AND
           (t.last_message_at IS NULL OR f.last_message_at > t.last_message_at)
           THEN f.last_message_from_me ELSE t.last_message_from_me END,
         last_message_at = GREATEST(t.last_message_at, f.last_message_at),
         unread_count = t.unread_count + f.unread_count,
         name = COALESCE(t.name, f.name),
         alt_jid = COALESCE(t.alt_jid, CAST(:alt_jid AS varchar)),
         archived = t.archived AND f.archived,
         updated_at = now()
       FROM wa_chats f
       WHERE t.session_id = :s AND t.remote_jid = :to_jid
         AND f.session_id = :s AND f.remote_jid = :from_jid""",
    """UPDATE wa_chat_labels l SET chat_id = t.id
       FROM wa_chats f, wa_chats t
       WHERE f.session_id = :s AND f.remote_jid = :from_jid
         AND t.session_id = :s AND t.remote_jid = :to_jid AND l.chat_id = f.id
         AND NOT EXISTS (SELECT 1 FROM wa_chat_labels x
                         WHERE x.chat_id = t.id AND x.label_id = l.label_id)""",
    # CRM chat assignments follow the chat (an account's assignment of the kept chat wins).
    """UPDATE crm_chat_assignments a SET chat_id = t.id
       FROM wa_chats f, wa_chats t
       WHERE f.session_id = :s AND f.remote_jid = :from_jid
         AND t.session_id = :s AND t.remote_jid = :to_jid AND a.chat_id = f.id
         AND NOT EXISTS (SELECT 1 FROM crm_chat_assignments x
                         WHERE x.chat_id = t.id AND x.account_id = a.account_id)""",
    """UPDATE crm_chat_assignments SET remote_jid = :to_jid
       WHERE session_id = :s AND remote_jid = :from_jid""",
    """UPDATE crm_message_assignments SET remote_jid = :to_jid
       WHERE session_id = :s AND remote_jid = :from_jid""",
    """UPDATE wa_chats SET remote_jid = :to_jid,
         alt_jid = COALESCE(alt_jid, CAST(:alt_jid AS varchar)), updated_at = now()
       WHERE session_id = :s AND remote_jid = :from_jid
         AND NOT EXISTS (SELECT 1 FROM wa_chats t
                         WHERE t.session_id = :s AND t.remote_jid = :to_jid)""",
    "DELETE FROM wa_chats WHERE session_id = :s AND remote_jid = :from_jid",
    # The contact likewise.
    """UPDATE wa_contacts t SET
         lid = COALESCE(t.lid, f.lid, CAST(:alt_jid AS varchar)),
         phone = COALESCE(t.phone, f.phone), name = COALESCE(t.name, f.name),
         push_name = COALESCE(t.push_name, f.push_name),
         profile_pic_url = COALESCE(t.profile_pic_url, f.profile_pic_url), updated_at = now()
       FROM wa_contacts f
       WHERE t.session_id = :s AND t.jid = :to_jid AND f.session_id = :s AND f.jid = :from_jid""",
    """UPDATE wa_contacts SET jid = :to_jid, lid = COALESCE(lid, CAST(:alt_jid AS varchar)),
         updated_at = now()
       WHERE session_id = :s AND jid = :from_jid
         AND NOT EXISTS (SELECT 1 FROM wa_contacts t
                         WHERE t.session_id = :s AND t.jid = :to_jid)""",
    "DELETE FROM wa_contacts WHERE session_id = :s AND jid = :from_jid",
)


async def merge_jid(
    session: AsyncSession,
    session_id: uuid.UUID,
    from_jid: str,
    to_jid: str,
    *,
    alt_jid: str | None,
) -> None:
    """File everything of `from_jid` (chat, messages, labels, contact) under `to_jid`;
    `alt_jid` is kept as the chat's and contact's alternative (the LID)."""
    params = {"s": session_id, "from_jid": from_jid, "to_jid": to_jid, "alt_jid": alt_jid}
    for statement in MERGE_STATEMENTS:
        await session.execute(text(statement), params)


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


# A batch of new messages, one row per chat: `record_message_in_chat` folded over the chat's
# messages in arrival order. Per chat: `last_*` is the newest message (the latest of equal
# timestamps) and moves the chat only if it is not older than the chat's; `inbound` counts
# the customer's messages; `reset_at` is the time of the last of our replies that was newest
# when it came (those times only grow, so if the last one is older than the chat's last
# message, none reset it) and `after_reset` the customer's messages after it; `name` the first
# name given. The subquery reads the batch row of the conflicting chat: EXCLUDED has only
# table columns.
_RECORD_BATCH_IN_CHATS = RawQuery(
    text(
        """
    WITH batch AS (
      SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS b(
        id uuid, remote_jid varchar, type varchar, name varchar, last_at timestamptz,
        preview varchar, from_me boolean, inbound int, reset_at timestamptz, after_reset int)
    )
    INSERT INTO wa_chats AS c (id, session_id, remote_jid, type, name, last_message_at,
      last_message_preview, last_message_from_me, unread_count, archived)
    SELECT b.id, :session_id, b.remote_jid, b.type, b.name, b.last_at, b.preview, b.from_me,
      CASE WHEN b.reset_at IS NOT NULL THEN b.after_reset ELSE b.inbound END, false
    FROM batch b ORDER BY b.remote_jid
    ON CONFLICT ON CONSTRAINT uq_wa_chats_session_remote_jid DO UPDATE SET
      last_message_at = CASE WHEN c.last_message_at IS NULL
          OR c.last_message_at <= EXCLUDED.last_message_at
        THEN EXCLUDED.last_message_at ELSE c.last_message_at END,
      last_message_preview = CASE WHEN c.last_message_at IS NULL
          OR c.last_message_at <= EXCLUDED.last_message_at
        THEN EXCLUDED.last_message_preview ELSE c.last_message_preview END,
      last_message_from_me = CASE WHEN c.last_message_at IS NULL
          OR c.last_message_at <= EXCLUDED.last_message_at
        THEN EXCLUDED.last_message_from_me ELSE c.last_message_from_me END,
      unread_count = (
        SELECT CASE WHEN b.reset_at IS NOT NULL
            AND (c.last_message_at IS NULL OR c.last_message_at <= b.reset_at)
          THEN b.after_reset ELSE c.unread_count + b.inbound END
        FROM batch b WHERE b.remote_jid = EXCLUDED.remote_jid),
      name = COALESCE(c.name, EXCLUDED.name),
      updated_at = now()
    RETURNING c.*
    """
    ).bindparams(
        bindparam("rows", type_=Text),
        bindparam("session_id", type_=Uuid),
    )
)


async def record_messages_in_chats(
    session: AsyncSession, session_id: uuid.UUID, chats: Sequence[dict[str, Any]]
) -> list[Record]:
    """`record_message_in_chat` for a batch of new messages, one statement for all their
    chats; each dict is one chat's aggregate (the columns of `batch` above, times in ISO
    format). The chats as they are now, as rows (the batch path reads them once, into event
    payloads)."""
    if not chats:
        return []
    rows = [{"id": str(new_id()), **chat} for chat in chats]
    return await _RECORD_BATCH_IN_CHATS.fetch(session, rows=rows_json(rows), session_id=session_id)


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
    select(*_CHAT_COLUMNS)
    .where(
        WaChat.session_id == bindparam("session_id"),
        or_(
            WaChat.remote_jid == bindparam("remote_jid"),
            WaChat.alt_jid == bindparam("remote_jid"),
        ),
    )
    .order_by((WaChat.remote_jid == bindparam("remote_jid")).desc())
    .limit(1)
)


@cache  # one per page size and kind: 2 * (MAX_LIMIT + 1) at most
def _page_with_overlay(after: bool, rows: int) -> RawQuery:
    """The first `rows` (or those `after` a cursor) of a session's chats, latest activity
    first, in one statement with everything the list shows beside a chat's own columns: the
    session named by `provider_session_id` if the account sees it (no rows otherwise), each
    chat's `labels` (JSON, NULL for none), the account's assignment of it (`assignee_type`,
    `user_id`, `group_id`, `assigned_at`) and `linked`: whether a customer of the account may
    own it (by a JID as stored, or its session's inbox link; `list_chats` builds those)."""
    account_id = bindparam("account_id", type_=Uuid())
    chats = select(*_CHAT_COLUMNS, _LAST_ACTIVITY.label("last_activity")).where(
        WaChat.session_id == visible_session_id(bindparam("provider_session_id"), account_id)
    )
    if after:
        chats = chats.where(
            tuple_(_LAST_ACTIVITY, WaChat.id)
            < tuple_(bindparam("after_time", type_=DateTime(timezone=True)), bindparam("after_id"))
        )
    page = (
        chats.order_by(_LAST_ACTIVITY.desc(), WaChat.id.desc())
        # Written into the statement, not bound: for a bound LIMIT the generic plan guesses a
        # tenth of the session's chats, each paying the overlay's subqueries, so PostgreSQL
        # kept re-planning this prepared statement on every execution (~0.8 ms, more than
        # running it). One statement per page size, each planned once per connection.
        .limit(literal_column(str(int(rows))))
        .subquery("page")
    )
    joined, assignment = crm_overlay.chat_assignment_joined(page, account_id)
    return RawQuery(
        select(
            *(column for column in page.c if column.key != "last_activity"),
            chat_labels_json(account_id, page.c.id).label("labels"),
            *assignment,
            crm_overlay.chat_linked(account_id, page.c).label("linked"),
        )
        .select_from(joined)
        .order_by(page.c.last_activity.desc(), page.c.id.desc())
    )


async def chat_raw(conn: Connection, session_id: uuid.UUID, remote_jid: str) -> Record | None:
    return await _CHAT_RAW.fetchrow(conn, session_id=session_id, remote_jid=remote_jid)


async def chats_page_raw(
    conn: Connection,
    account_id: uuid.UUID,
    provider_session_id: str,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Record]:
    """`chats_page` without filters, with each chat's labels and CRM overlay columns (see
    `_page_with_overlay`): `limit + 1` rows, none when the account does not see the session."""
    if after is None:
        return await _page_with_overlay(False, limit + 1).fetch(
            conn, account_id=account_id, provider_session_id=provider_session_id
        )
    return await _page_with_overlay(True, limit + 1).fetch(
        conn,
        account_id=account_id,
        provider_session_id=provider_session_id,
        after_time=after[0],
        after_id=after[1],
    )
