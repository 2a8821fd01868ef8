"""SQL of conversations, each statement scoped by account."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    and_,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.models import Conversation, CrmCustomer, MetaThread, WaSession


async def conversation(
    session: AsyncSession,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Conversation | None:
    query = select(Conversation).where(
        Conversation.account_id == account_id, Conversation.id == conversation_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


def add(session: AsyncSession, **fields: Any) -> Conversation:
    row = Conversation(**fields)
    session.add(row)
    return row


async def ensure_channel_conversation(
    session: AsyncSession, *, key: dict[str, Any], fields: dict[str, Any]
) -> tuple[Conversation, bool]:
    """The conversation of a chat or thread, created when missing; `True` when it is new.
    Two deliveries racing both land on the one row (the partial unique indexes)."""
    index = (
        ["account_id", "wa_session_id", "remote_jid"]
        if "wa_session_id" in key
        else ["account_id", "meta_thread_id"]
    )
    where = (
        Conversation.wa_session_id.is_not(None)
        if "wa_session_id" in key
        else Conversation.meta_thread_id.is_not(None)
    )
    inserted = await session.scalar(
        insert(Conversation)
        .values(id=fields.pop("id"), **key, **fields)
        .on_conflict_do_nothing(index_elements=index, index_where=where)
        .returning(Conversation.id)
    )
    query = select(Conversation).where(
        *(getattr(Conversation, name) == value for name, value in key.items())
    )
    row = (await session.scalars(query.execution_options(populate_existing=True))).one()
    return row, inserted is not None


WaChatKey = tuple[uuid.UUID, uuid.UUID, str]  # account, WhatsApp session, remote JID


@dataclass
class ChatConversation:
    """What the mirror needs of a chat's conversation (its `conversation.created` payload and
    its messages' copies), read as plain columns: a batch makes no ORM objects."""

    id: uuid.UUID
    account_id: uuid.UUID
    type: str
    status: str
    ai_enabled: bool
    agent_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    assignee_user_id: uuid.UUID | None
    assignee_group_id: uuid.UUID | None
    message_count: int
    total_cost: Decimal
    language: str | None


# Every field of `ChatConversation` is a column `_WA_CHATS` reads, of the same name.
_CHAT_CONVERSATION_FIELDS = tuple(field.name for field in fields(ChatConversation))


_C = cast(Table, Conversation.__table__).c
# One statement text for every batch (arrays, not a VALUES list per row count): compiled and
# prepared once. Rows go in key order, as every batch inserts them: two batches meeting on the
# same chats wait for each other instead of deadlocking.
_ENSURE_WA_CHATS = RawQuery(
    text(
        """
    INSERT INTO conversations (id, account_id, wa_session_id, remote_jid, customer_id,
        contact_id, type, status, ai_enabled, message_count, total_cost, created_by_type)
    SELECT w.id, w.account_id, w.wa_session_id, w.remote_jid, w.customer_id, w.contact_id,
        :type, :status, :ai_enabled, 0, 0, :created_by_type
    FROM unnest(CAST(:ids AS uuid[]), CAST(:accounts AS uuid[]), CAST(:sessions AS uuid[]),
        CAST(:jids AS text[]), CAST(:customers AS uuid[]), CAST(:contacts AS uuid[]))
        AS w(id, account_id, wa_session_id, remote_jid, customer_id, contact_id)
    ORDER BY w.account_id, w.wa_session_id, w.remote_jid
    ON CONFLICT (account_id, wa_session_id, remote_jid) WHERE wa_session_id IS NOT NULL
    DO NOTHING
    RETURNING id
    """
    ).columns(_C.id)
)
_WA_CHATS = RawQuery(
    text(
        """
    SELECT c.id, c.account_id, c.wa_session_id, c.remote_jid, c.type, c.status, c.ai_enabled,
        c.agent_id, c.customer_id, c.assignee_user_id, c.assignee_group_id, c.message_count,
        c.total_cost, c.language
    FROM unnest(CAST(:accounts AS uuid[]), CAST(:sessions AS uuid[]), CAST(:jids AS text[]))
        AS k(account_id, wa_session_id, remote_jid)
    JOIN conversations c ON c.account_id = k.account_id AND c.wa_session_id = k.wa_session_id
        AND c.remote_jid = k.remote_jid AND c.wa_session_id IS NOT NULL
    """
    ).columns(
        _C.id,
        _C.account_id,
        _C.wa_session_id,
        _C.remote_jid,
        _C.type,
        _C.status,
        _C.ai_enabled,
        _C.agent_id,
        _C.customer_id,
        _C.assignee_user_id,
        _C.assignee_group_id,
        _C.message_count,
        _C.total_cost,
        _C.language,
    )
)


@dataclass(frozen=True)
class NewChat:
    """A chat whose conversation the mirror ensures, with the new row's fields."""

    key: WaChatKey
    id: uuid.UUID
    customer_id: uuid.UUID | None
    contact_id: uuid.UUID | None


async def ensure_wa_conversations(
    session: AsyncSession,
    chats: list[NewChat],
    *,
    conversation_type: str,
    status: str,
    ai_enabled: bool,
    created_by_type: str,
) -> tuple[dict[WaChatKey, ChatConversation], set[uuid.UUID]]:
    """The conversations of a batch's WhatsApp chats, the missing ones created by one
    statement (each with the chat's `NewChat` id and customer); with the ids of those it
    created. Racing deliveries land on one row each (the partial unique index); the rows are
    read by a second statement, which sees a row another transaction committed meanwhile."""
    if not chats:
        return {}, set()
    accounts = [chat.key[0] for chat in chats]
    sessions = [chat.key[1] for chat in chats]
    jids = [chat.key[2] for chat in chats]
    inserted = {
        row[0]
        for row in await _ENSURE_WA_CHATS.fetch(
            session,
            ids=[chat.id for chat in chats],
            accounts=accounts,
            sessions=sessions,
            jids=jids,
            customers=[chat.customer_id for chat in chats],
            contacts=[chat.contact_id for chat in chats],
            type=conversation_type,
            status=status,
            ai_enabled=ai_enabled,
            created_by_type=created_by_type,
        )
    }
    rows = await _WA_CHATS.fetch(session, accounts=accounts, sessions=sessions, jids=jids)
    by_key: dict[WaChatKey, ChatConversation] = {}
    for row in rows:
        by_key[(row["account_id"], row["wa_session_id"], row["remote_jid"])] = ChatConversation(
            **{name: row[name] for name in _CHAT_CONVERSATION_FIELDS}
        )
    return by_key, inserted


# One statement for the batch (it was one execution per conversation): the rows are locked in
# id order first, as the per-row statements were issued, so two batches bumping the same
# conversations wait for each other instead of deadlocking. The lock is the one an UPDATE of
# non-key columns takes (NO KEY UPDATE): a plain FOR UPDATE would also wait on the KEY SHARE
# locks that another batch's inserted copies hold on their conversation (the foreign key),
# and two batches would deadlock on each other's copies.
_BUMP_MANY = RawQuery(
    text(
        """
    WITH counts AS (
        SELECT * FROM unnest(CAST(:accounts AS uuid[]), CAST(:ids AS uuid[]),
            CAST(:counts AS integer[]), CAST(:ats AS timestamptz[])) AS b(account_id, id, n, at)
    ), locked AS MATERIALIZED (
        SELECT c.id FROM conversations c
        JOIN counts b ON c.account_id = b.account_id AND c.id = b.id
        ORDER BY c.id
        FOR NO KEY UPDATE OF c
    )
    UPDATE conversations c
    SET message_count = c.message_count + b.n,
        last_message_at = greatest(coalesce(c.last_message_at, b.at), b.at),
        updated_at = now()
    FROM counts b, locked l
    WHERE c.id = l.id AND c.account_id = b.account_id AND c.id = b.id
    """
    )
)


async def bump_many(
    session: AsyncSession, counts: list[tuple[uuid.UUID, uuid.UUID, int, datetime]]
) -> None:
    """`bump` for a batch: (account, conversation, new messages, latest message's time) each,
    one statement for every conversation (no cost: channel messages cost nothing)."""
    if counts:
        await _BUMP_MANY.execute(
            session,
            accounts=[account_id for account_id, _, _, _ in counts],
            ids=[conversation_id for _, conversation_id, _, _ in counts],
            counts=[n for _, _, n, _ in counts],
            ats=[at for _, _, _, at in counts],
        )


def filtered(
    account_id: uuid.UUID,
    *,
    type_: str | None = None,
    types: list[str] | None = None,
    agent_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    status: str | None = None,
    ai_enabled: bool | None = None,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
) -> Select[Conversation]:
    query = select(Conversation).where(Conversation.account_id == account_id)
    if type_ is not None:
        query = query.where(Conversation.type == type_)
    if types is not None:
        query = query.where(Conversation.type.in_(types))
    if agent_id is not None:
        query = query.where(Conversation.agent_id == agent_id)
    if customer_id is not None:
        query = query.where(Conversation.customer_id == customer_id)
    if status is not None:
        query = query.where(Conversation.status == status)
    if ai_enabled is not None:
        query = query.where(Conversation.ai_enabled.is_(ai_enabled))
    if created_from is not None:
        query = query.where(Conversation.created_at >= created_from)
    if created_before is not None:
        query = query.where(Conversation.created_at < created_before)
    return query


async def page_newest_first(
    session: AsyncSession,
    query: Select[Conversation],
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Conversation]:
    if after is not None:
        moment, last_id = after
        query = query.where(
            or_(
                Conversation.created_at < moment,
                and_(Conversation.created_at == moment, Conversation.id < last_id),
            )
        )
    query = query.order_by(Conversation.created_at.desc(), Conversation.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def count(session: AsyncSession, query: Select[Conversation]) -> int:
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    return int(total or 0)


async def page_by_offset(
    session: AsyncSession, query: Select[Conversation], *, offset: int, limit: int
) -> list[Conversation]:
    query = query.order_by(Conversation.created_at.desc(), Conversation.id.desc())
    return list(await session.scalars(query.offset(offset).limit(limit)))


async def bump(
    session: AsyncSession,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    *,
    cost: Decimal | None,
    at: datetime,
) -> None:
    """One more message: the counters move in the statement that adds it, never on read."""
    await session.execute(
        update(Conversation)
        .where(Conversation.account_id == account_id, Conversation.id == conversation_id)
        .values(
            message_count=Conversation.message_count + 1,
            total_cost=Conversation.total_cost + (cost or Decimal(0)),
            last_message_at=func.greatest(func.coalesce(Conversation.last_message_at, at), at),
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )


async def for_wa_chat(
    session: AsyncSession, account_id: uuid.UUID, wa_session_id: uuid.UUID, remote_jid: str
) -> Conversation | None:
    query = select(Conversation).where(
        Conversation.account_id == account_id,
        Conversation.wa_session_id == wa_session_id,
        Conversation.remote_jid == remote_jid,
    )
    return (await session.scalars(query)).one_or_none()


async def set_customer(
    session: AsyncSession,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
) -> None:
    await session.execute(
        update(Conversation)
        .where(
            Conversation.account_id == account_id,
            Conversation.id == conversation_id,
            Conversation.customer_id.is_(None),
        )
        .values(customer_id=customer_id, contact_id=contact_id, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )


# What a conversation shows of the rows it points to, for a page of them at once.


async def customers_by_id(
    session: AsyncSession, customer_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, CrmCustomer]:
    if not customer_ids:
        return {}
    query = select(CrmCustomer).where(CrmCustomer.id.in_(customer_ids))
    return {row.id: row for row in await session.scalars(query)}


async def provider_session_ids(
    session: AsyncSession, session_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not session_ids:
        return {}
    query = select(WaSession.id, WaSession.provider_session_id).where(WaSession.id.in_(session_ids))
    return dict((await session.execute(query)).tuples().all())


async def thread_assets(
    session: AsyncSession, thread_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    if not thread_ids:
        return {}
    query = select(MetaThread.id, MetaThread.asset_id).where(MetaThread.id.in_(thread_ids))
    return dict((await session.execute(query)).tuples().all())
