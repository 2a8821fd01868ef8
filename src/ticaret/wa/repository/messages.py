"""Messages of a session: reads, the timeline, and the idempotent writes events cause.

Writes only change what differs (acks only move forward, edits and deletes only apply when
they change something), so the same event applied twice changes nothing and returns nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from asyncpg import Connection, Record
from sqlalchemy import (
    ColumnElement,
    DateTime,
    String,
    Table,
    Text,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    delete,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.core.ids import new_id
from ticaret.crm.repository import overlay as crm_overlay
from ticaret.models import (
    Ack,
    ChatType,
    CrmChatAssignment,
    MessageType,
    WaChat,
    WaEarlyAck,
    WaMessage,
    WaMessageLabel,
)
from ticaret.wa.repository import recordset_columns, rows_json
from ticaret.wa.repository.labels import labelled, message_labels_json
from ticaret.wa.repository.sessions import visible_session_id
from ticaret.wa.schemas import LabelFilter

RECEIPT_FIELDS = {
    Ack.SERVER: "serverAt",
    Ack.DEVICE: "deliveredAt",
    Ack.READ: "readAt",
    Ack.PLAYED: "playedAt",
}


async def message(
    session: AsyncSession,
    session_id: uuid.UUID,
    remote_jid: str,
    message_id: str,
    *,
    lock: bool = False,
) -> WaMessage | None:
    stmt = select(WaMessage).where(
        WaMessage.session_id == session_id,
        WaMessage.remote_jid == remote_jid,
        WaMessage.message_id == message_id,
    )
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def message_by_pk(
    session: AsyncSession, message_pk: uuid.UUID, *, lock: bool = False
) -> WaMessage | None:
    """For jobs, by primary key."""
    return await session.get(WaMessage, message_pk, with_for_update=lock)


async def messages_page(
    session: AsyncSession,
    session_id: uuid.UUID,
    account_id: uuid.UUID,
    remote_jid: str,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    q: str | None,
    message_type: MessageType | None,
    labels: LabelFilter | None,
    conditions: Sequence[ColumnElement[bool]] = (),
) -> list[WaMessage]:
    """One chat's timeline, newest first. `labels` are the account's; `conditions` are more
    filters on `wa_messages` rows from another domain (the CRM's assignment and customer)."""
    stmt = select(WaMessage).where(
        WaMessage.session_id == session_id, WaMessage.remote_jid == remote_jid, *conditions
    )
    if q:
        stmt = stmt.where(WaMessage.search.op("@@")(func.websearch_to_tsquery("simple", q)))
    if message_type:
        stmt = stmt.where(WaMessage.type == message_type)
    if labels:
        stmt = stmt.where(
            labelled(WaMessage.id, WaMessageLabel, WaMessageLabel.message_id, account_id, labels)
        )
    if after is not None:
        stmt = stmt.where(
            tuple_(WaMessage.source_timestamp, WaMessage.id)
            < tuple_(literal(after[0]), literal(after[1]))
        )
    stmt = stmt.order_by(WaMessage.source_timestamp.desc(), WaMessage.id.desc())
    return list(await session.scalars(stmt.limit(limit + 1)))


async def inbound_to_mark_read(
    session: AsyncSession,
    session_id: uuid.UUID,
    remote_jid: str,
    *,
    message_ids: Sequence[str] | None,
    newest: int,
) -> list[WaMessage]:
    """The customer's messages named, or the newest `newest` of them."""
    stmt = select(WaMessage).where(
        WaMessage.session_id == session_id,
        WaMessage.remote_jid == remote_jid,
        WaMessage.from_me.is_(False),
        WaMessage.type != MessageType.reaction,
    )
    if message_ids:
        stmt = stmt.where(WaMessage.message_id.in_(message_ids))
    else:
        stmt = stmt.order_by(WaMessage.source_timestamp.desc()).limit(newest)
    return list(await session.scalars(stmt))


# Built once (an inbox batch inserts hundreds): the values come as parameters.
_INSERT_MESSAGE = (
    insert(WaMessage)
    .on_conflict_do_nothing(constraint="uq_wa_messages_session_chat_message")
    .returning(WaMessage)
)


async def insert_message(session: AsyncSession, values: dict[str, Any]) -> WaMessage | None:
    """The new row, or None when the message (session, chat, key id) is known already."""
    return (await session.scalars(_INSERT_MESSAGE, [values])).first()


# What a new message's row holds when the batch path writes it: `ingest.message_values`'
# keys, and the flags whose column default (a Python-side one) the statement gives itself.
_NEW_MESSAGE_COLUMNS = (
    "id",
    "session_id",
    "remote_jid",
    "message_id",
    "provider_message_id",
    "from_me",
    "participant",
    "sender_jid",
    "sender_jid_resolved",
    "sender_phone",
    "sender_name",
    "push_name",
    "chat_type",
    "type",
    "text",
    "mentions",
    "quoted_message",
    "has_media",
    "mimetype",
    "media",
    "location",
    "contacts",
    "reactions",
    "status",
    "receipt",
    "is_forwarded",
    "origin",
    "source_timestamp",
    "version",
)
# What comes back of a new row: its key, and what the database stores in a form of its own
# (JSON objects with their keys reordered, times in UTC) or sets itself. Every other column
# of a new row is the value sent, as it was sent (`_new_row`).
_NEW_MESSAGE_RETURNING = (
    "remote_jid",
    "message_id",
    "quoted_message",
    "media",
    "location",
    "contacts",
    "origin",
    "source_timestamp",
    "created_at",
    "updated_at",
)
# The columns the statement leaves to their defaults.
_NEW_MESSAGE_DEFAULTS = {
    "emoji": None,
    "reaction_target": None,
    "edited": False,
    "edited_at": None,
    "deleted_for_me": False,
    "deleted_for_everyone": False,
}


# A None in a JSON column is stored as JSON `null` by the ORM insert (the per-event path);
# `jsonb_to_recordset` reads a JSON null as SQL NULL: put it back, so both paths store the same.
_JSON_NULLABLE = frozenset({"quoted_message", "media", "location", "contacts", "origin"})


def _selected(name: str) -> str:
    return f"COALESCE(m.{name}, 'null'::jsonb)" if name in _JSON_NULLABLE else f"m.{name}"


# The batch's rows as one JSON array, inserted in the order given; a key known already
# inserts nothing and returns nothing.
_INSERT_MESSAGES = RawQuery(
    text(
        f"""
        INSERT INTO wa_messages ({", ".join(_NEW_MESSAGE_COLUMNS)}, edited, deleted_for_me,
          deleted_for_everyone)
        SELECT {", ".join(_selected(name) for name in _NEW_MESSAGE_COLUMNS)}, false, false, false
        FROM ROWS FROM (jsonb_to_recordset(CAST(:rows AS jsonb)) AS (
          {recordset_columns(WaMessage.__table__, _NEW_MESSAGE_COLUMNS)})) WITH ORDINALITY
          AS m({", ".join(_NEW_MESSAGE_COLUMNS)}, n)
        ORDER BY m.n
        ON CONFLICT ON CONSTRAINT uq_wa_messages_session_chat_message DO NOTHING
        RETURNING {", ".join(_NEW_MESSAGE_RETURNING)}
        """  # noqa: S608 (column names from the model, not input)
    ).bindparams(bindparam("rows", type_=Text))
)


async def insert_messages(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Insert many messages in one statement (INSERT ... ON CONFLICT DO NOTHING RETURNING):
    the new rows by (chat, key id), as dicts of every column (no ORM instances: the batch
    path reads them once, into event payloads); known ones are left out. `rows` are
    `ingest.message_values`, hold no key twice and all share one session."""
    if not rows:
        return {}
    inserted = await _INSERT_MESSAGES.fetch(session, rows=rows_json(rows))
    sent = {(row["remote_jid"], row["message_id"]): row for row in rows}
    return {
        key: _new_row(sent[key], stored)
        for stored in inserted
        if (key := (stored["remote_jid"], stored["message_id"])) in sent
    }


def _new_row(sent: dict[str, Any], stored: Record) -> dict[str, Any]:
    """A new message's whole row, as reading it back would give it: the values sent (enums as
    their stored values), the column defaults, what the database returned."""
    row = {**sent, **_NEW_MESSAGE_DEFAULTS, **stored}
    row["chat_type"] = str(row["chat_type"])
    row["type"] = str(row["type"])
    row["status"] = int(row["status"])
    return row


async def record_ack(
    session: AsyncSession,
    session_id: uuid.UUID,
    message_ids: Sequence[str],
    ack: int,
    *,
    at: datetime | None = None,
) -> list[WaMessage]:
    """Messages whose status or receipts this ack changed.

    By key id alone: the chat may be named by its LID in one event, its phone in another. The
    status only moves forward (an error only lands on a message not yet on the server), but each
    receipt time is recorded once even when acks arrive out of order.
    """
    if not message_ids:
        return []
    forward = WaMessage.status < ack if ack >= 0 else WaMessage.status <= 0
    field_name = RECEIPT_FIELDS.get(Ack(ack)) if ack in Ack._value2member_map_ else None
    changed: Any = forward
    receipt: Any = WaMessage.receipt
    if field_name:
        missing = ~WaMessage.receipt.has_key(field_name)
        stamp = func.jsonb_build_object(field_name, (at or datetime.now(UTC)).isoformat())
        receipt = case((missing, WaMessage.receipt.op("||")(stamp)), else_=WaMessage.receipt)
        changed = or_(forward, missing)
    rows = await session.scalars(
        update(WaMessage)
        .where(
            WaMessage.session_id == session_id,
            WaMessage.message_id.in_(list(message_ids)),
            changed,
        )
        .values(
            status=case((forward, ack), else_=WaMessage.status),
            receipt=receipt,
            version=WaMessage.version + 1,
        )
        .returning(WaMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return list(rows.all())


async def record_edit(
    session: AsyncSession,
    session_id: uuid.UUID,
    message_id: str,
    new_text: str | None,
    edited_at: datetime,
) -> list[WaMessage]:
    rows = await session.scalars(
        update(WaMessage)
        .where(
            WaMessage.session_id == session_id,
            WaMessage.message_id == message_id,
            WaMessage.text.is_distinct_from(new_text),
        )
        .values(text=new_text, edited=True, edited_at=edited_at, version=WaMessage.version + 1)
        .returning(WaMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return list(rows.all())


async def record_deletion(
    session: AsyncSession, session_id: uuid.UUID, message_id: str, *, for_everyone: bool
) -> list[WaMessage]:
    column = WaMessage.deleted_for_everyone if for_everyone else WaMessage.deleted_for_me
    rows = await session.scalars(
        update(WaMessage)
        .where(
            WaMessage.session_id == session_id,
            WaMessage.message_id == message_id,
            column.is_(False),
        )
        .values({column.key: True, "version": WaMessage.version + 1})
        .returning(WaMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return list(rows.all())


async def record_reaction_message(session: AsyncSession, values: dict[str, Any]) -> None:
    """The reaction as a timeline row; a changed emoji from the same sender replaces it."""
    stmt = insert(WaMessage).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_wa_messages_session_chat_message",
            set_={"emoji": stmt.excluded.emoji, "version": WaMessage.version + 1},
            where=WaMessage.emoji.is_distinct_from(stmt.excluded.emoji),
        )
    )


async def other_row_with_id(
    session: AsyncSession, message: WaMessage, message_id: str
) -> WaMessage | None:
    """Another row of the same chat under `message_id` (the gateway's echo of our send)."""
    return await session.scalar(
        select(WaMessage).where(
            WaMessage.session_id == message.session_id,
            WaMessage.remote_jid == message.remote_jid,
            WaMessage.message_id == message_id,
            WaMessage.id != message.id,
        )
    )


async def delete_row(session: AsyncSession, message_pk: uuid.UUID) -> None:
    await session.execute(delete(WaMessage).where(WaMessage.id == message_pk))


# Acks that came before their message ---------------------------------------------------------


async def known_message_ids(
    session: AsyncSession, session_id: uuid.UUID, message_ids: Collection[str]
) -> set[str]:
    rows = await session.scalars(
        select(WaMessage.message_id).where(
            WaMessage.session_id == session_id, WaMessage.message_id.in_(list(message_ids))
        )
    )
    return set(rows.all())


async def keep_early_acks(
    session: AsyncSession, session_id: uuid.UUID, message_ids: Sequence[str], ack: int
) -> None:
    """Remember acks for messages we do not have yet; a repeat changes nothing."""
    await session.execute(
        insert(WaEarlyAck)
        .values(
            [
                {"id": new_id(), "session_id": session_id, "message_id": mid, "ack": ack}
                for mid in message_ids
            ]
        )
        .on_conflict_do_nothing(constraint="uq_wa_early_acks_message_ack")
    )


async def apply_early_acks(
    session: AsyncSession, session_id: uuid.UUID, message_id: str
) -> list[WaMessage]:
    """Apply (and forget) the acks kept for a message that has just landed, in ack order, each
    with the time it arrived; the message as they left it, if they changed it."""
    taken = await take_early_acks(session, session_id, [message_id])
    return await apply_taken_acks(session, session_id, message_id, taken.get(message_id, []))


_EARLY_ACKS: Table = WaEarlyAck.__table__  # type: ignore[assignment]
# On the table, not the entity: an ORM-enabled DELETE would look for the rows among the
# session's loaded objects too (none are ever loaded), which costs more than the statement.
_TAKE_EARLY_ACKS = RawQuery(
    delete(_EARLY_ACKS)
    .where(
        _EARLY_ACKS.c.session_id == bindparam("session_id"),
        _EARLY_ACKS.c.message_id == any_(bindparam("message_ids", type_=ARRAY(String))),
    )
    .returning(_EARLY_ACKS.c.message_id, _EARLY_ACKS.c.ack, _EARLY_ACKS.c.received_at)
)


async def take_early_acks(
    session: AsyncSession, session_id: uuid.UUID, message_ids: Sequence[str]
) -> dict[str, list[tuple[int, datetime]]]:
    """Forget the acks kept for these messages (one statement): each message's (ack, arrived
    at), in ack order. Usually none: an ack rarely beats its message."""
    if not message_ids:
        return {}
    taken = await _TAKE_EARLY_ACKS.fetch(
        session, session_id=session_id, message_ids=list(message_ids)
    )
    acks: dict[str, list[tuple[int, datetime]]] = {}
    for message_id, ack, received_at in sorted(tuple(row) for row in taken):
        acks.setdefault(message_id, []).append((ack, received_at))
    return acks


async def apply_taken_acks(
    session: AsyncSession,
    session_id: uuid.UUID,
    message_id: str,
    acks: Sequence[tuple[int, datetime]],
) -> list[WaMessage]:
    """Apply acks taken by `take_early_acks`, in order; the message as they left it, if they
    changed it."""
    changed: list[WaMessage] = []
    for ack, received_at in acks:
        changed = (
            await record_ack(session, session_id, [message_id], ack, at=received_at) or changed
        )
    return changed


async def stranded_early_acks(session: AsyncSession, limit: int) -> list[tuple[uuid.UUID, str]]:
    """(session, message id) of kept acks whose message exists by now: the message landed in a
    transaction that could not see the ack yet. Not scoped: for the sweeper."""
    rows = await session.execute(
        select(WaEarlyAck.session_id, WaEarlyAck.message_id)
        .join(
            WaMessage,
            (WaMessage.session_id == WaEarlyAck.session_id)
            & (WaMessage.message_id == WaEarlyAck.message_id),
        )
        .distinct()
        .limit(limit)
    )
    return [(session_id, message_id) for session_id, message_id in rows.tuples()]


async def forget_early_acks(session: AsyncSession, older_than: datetime) -> int:
    """Acks whose message never came (a message from before the session was linked)."""
    result = await session.execute(
        delete(WaEarlyAck).where(WaEarlyAck.received_at < older_than).returning(WaEarlyAck.id)
    )
    return len(result.all())


async def unclaimed_echo(
    session: AsyncSession,
    message: WaMessage,
    *,
    since: datetime,
    text: str | None,
    has_media: bool,
) -> WaMessage | None:
    """The gateway's echo of a send of ours whose answer we lost: a message of ours in the same
    chat, stored from a webhook (no operation claimed it), sent since `since`, same content."""
    stmt = select(WaMessage).where(
        WaMessage.session_id == message.session_id,
        WaMessage.remote_jid == message.remote_jid,
        WaMessage.id != message.id,
        WaMessage.from_me.is_(True),
        WaMessage.has_media.is_(has_media),
        WaMessage.text.is_not_distinct_from(text),
        WaMessage.source_timestamp >= since,
        ~WaMessage.message_id.startswith("local:"),
        or_(WaMessage.origin.is_(None), ~WaMessage.origin.has_key("operationId")),
    )
    return await session.scalar(stmt.order_by(WaMessage.source_timestamp).limit(1))


# Hot lists read outside a transaction: statements compiled once (core.db.RawQuery). ----------

_MESSAGE_COLUMNS = tuple(column for column in WaMessage.__table__.columns if column.key != "search")


@cache  # one per page size and kind: 2 * (MAX_LIMIT + 1) at most
def _page_with_overlay(after: bool, rows: int) -> RawQuery:
    """`messages_page` without filters (newest first, every column but `search`) of the chat
    named `remote_jid` (by its JID, or by its `@lid` alternative, as `chats.chat_raw`) in the
    session named `provider_session_id` if the account sees it, in one statement with
    everything the list shows beside a message's own columns (no rows when the session is not
    visible, the chat unknown or the page empty): each message's `labels` (JSON, NULL for
    none), the account's own assignment of it (`own_*`) and of its chat (`chat_*`), and
    whether a customer of the account may own the page: the chat (`chat_linked`: by a JID as
    stored, or its session's inbox link) or, in a group, the sender of a message
    (`sender_linked`). `list_messages` builds the page when one may.

    One round trip where there were eight (the session, the chat, the page, its labels, the
    identities and inbox links, both assignments), as the raw baseline still makes them."""
    account_id = bindparam("account_id", type_=Uuid())
    remote_jid = bindparam("remote_jid", type_=String())
    chat = (
        select(
            WaChat.id,
            WaChat.session_id,
            WaChat.remote_jid,
            WaChat.alt_jid,
            WaChat.type,
            crm_overlay.chat_linked(account_id).label("linked"),
            CrmChatAssignment.assignee_type,
            CrmChatAssignment.user_id,
            CrmChatAssignment.group_id,
            CrmChatAssignment.assigned_at,
        )
        .select_from(
            WaChat.__table__.outerjoin(
                CrmChatAssignment,
                and_(
                    CrmChatAssignment.account_id == account_id,
                    CrmChatAssignment.chat_id == WaChat.id,
                ),
            )
        )
        .where(
            WaChat.session_id == visible_session_id(bindparam("provider_session_id"), account_id),
            or_(WaChat.remote_jid == remote_jid, WaChat.alt_jid == remote_jid),
        )
        .order_by((WaChat.remote_jid == remote_jid).desc())
        .limit(literal_column("1"))
        .subquery("chat")
    )
    # LATERAL, so the page is an index scan of the chat's timeline that stops at the limit.
    messages = select(*_MESSAGE_COLUMNS).where(
        WaMessage.session_id == chat.c.session_id, WaMessage.remote_jid == chat.c.remote_jid
    )
    if after:
        messages = messages.where(
            tuple_(WaMessage.source_timestamp, WaMessage.id)
            < tuple_(bindparam("after_time", type_=DateTime(timezone=True)), bindparam("after_id"))
        )
    page = (
        messages.order_by(WaMessage.source_timestamp.desc(), WaMessage.id.desc())
        # Written into the statement, not bound: with a bound LIMIT PostgreSQL planned this
        # prepared statement again on every execution (custom plans only), as it did the chat
        # list's. One statement per page size, each planned once per connection.
        .limit(literal_column(str(int(rows))))
        .lateral("page")
    )
    joined, own = crm_overlay.message_assignment_joined(chat.join(page, true()), page, account_id)
    in_group = chat.c.type == literal_column(f"'{ChatType.group.value}'")
    return RawQuery(
        select(
            *page.c,
            message_labels_json(account_id, page.c.id).label("labels"),
            *own,
            chat.c.remote_jid.label("chat_remote_jid"),
            chat.c.alt_jid.label("chat_alt_jid"),
            in_group.label("chat_is_group"),
            chat.c.linked.label("chat_linked"),
            chat.c.assignee_type.label("chat_assignee_type"),
            chat.c.user_id.label("chat_user_id"),
            chat.c.group_id.label("chat_group_id"),
            chat.c.assigned_at.label("chat_assigned_at"),
            # CASE: only a group's messages pay the identity probe.
            case(
                (in_group, crm_overlay.sender_linked(account_id, message=page.c)),
                else_=false(),
            ).label("sender_linked"),
        )
        .select_from(joined)
        .order_by(page.c.source_timestamp.desc(), page.c.id.desc())
    )


async def messages_page_with_overlay_raw(
    conn: Connection,
    account_id: uuid.UUID,
    provider_session_id: str,
    remote_jid: str,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Record]:
    """`messages_page` without filters, with each message's labels and CRM overlay columns
    (see `_page_with_overlay`): `limit + 1` rows, none when the account does not see the session,
    the session has no such chat, or the page is empty."""
    if after is None:
        return await _page_with_overlay(False, limit + 1).fetch(
            conn,
            account_id=account_id,
            provider_session_id=provider_session_id,
            remote_jid=remote_jid,
        )
    return await _page_with_overlay(True, limit + 1).fetch(
        conn,
        account_id=account_id,
        provider_session_id=provider_session_id,
        remote_jid=remote_jid,
        after_time=after[0],
        after_id=after[1],
    )
