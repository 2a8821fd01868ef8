"""Chat and message assignments and their history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.ids import new_id
from ticaret.models import (
    CrmAssignmentChange,
    CrmChatAssignment,
    CrmMessageAssignment,
)


async def ensure_chat_rows(
    session: AsyncSession, account_id: uuid.UUID, chats: Sequence[tuple[uuid.UUID, uuid.UUID, str]]
) -> dict[uuid.UUID, CrmChatAssignment]:
    """The assignment rows of these (chat id, session id, remote JID), created unassigned at
    version 0 where missing, locked for this transaction; by chat id."""
    if not chats:
        return {}
    await session.execute(
        insert(CrmChatAssignment)
        .values(
            [
                {
                    "id": new_id(),
                    "account_id": account_id,
                    "chat_id": chat_id,
                    "session_id": session_id,
                    "remote_jid": remote_jid,
                    "version": 0,
                }
                for chat_id, session_id, remote_jid in chats
            ]
        )
        .on_conflict_do_nothing(constraint="uq_crm_chat_assignments_account_chat")
    )
    rows = await session.scalars(
        select(CrmChatAssignment)
        .where(
            CrmChatAssignment.account_id == account_id,
            CrmChatAssignment.chat_id.in_([c[0] for c in chats]),
        )
        .order_by(CrmChatAssignment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.chat_id: row for row in rows}


async def ensure_message_rows(
    session: AsyncSession,
    account_id: uuid.UUID,
    messages: Sequence[tuple[uuid.UUID, uuid.UUID, str, str]],
) -> dict[uuid.UUID, CrmMessageAssignment]:
    """Same for (message pk, session id, remote JID, message id); by message pk."""
    if not messages:
        return {}
    await session.execute(
        insert(CrmMessageAssignment)
        .values(
            [
                {
                    "id": new_id(),
                    "account_id": account_id,
                    "message_pk": message_pk,
                    "session_id": session_id,
                    "remote_jid": remote_jid,
                    "message_id": message_id,
                    "version": 0,
                }
                for message_pk, session_id, remote_jid, message_id in messages
            ]
        )
        .on_conflict_do_nothing(constraint="uq_crm_message_assignments_account_message")
    )
    rows = await session.scalars(
        select(CrmMessageAssignment)
        .where(
            CrmMessageAssignment.account_id == account_id,
            CrmMessageAssignment.message_pk.in_([m[0] for m in messages]),
        )
        .order_by(CrmMessageAssignment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.message_pk: row for row in rows}


async def chat_assignments(
    session: AsyncSession, account_id: uuid.UUID, chat_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CrmChatAssignment]:
    if not chat_ids:
        return {}
    rows = await session.scalars(
        select(CrmChatAssignment).where(
            CrmChatAssignment.account_id == account_id,
            CrmChatAssignment.chat_id.in_(list(chat_ids)),
        )
    )
    return {row.chat_id: row for row in rows}


async def message_assignments(
    session: AsyncSession, account_id: uuid.UUID, message_pks: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CrmMessageAssignment]:
    if not message_pks:
        return {}
    rows = await session.scalars(
        select(CrmMessageAssignment).where(
            CrmMessageAssignment.account_id == account_id,
            CrmMessageAssignment.message_pk.in_(list(message_pks)),
        )
    )
    return {row.message_pk: row for row in rows}


async def assigned_to_group(
    session: AsyncSession, account_id: uuid.UUID, group_id: uuid.UUID
) -> tuple[list[CrmChatAssignment], list[CrmMessageAssignment]]:
    chats = await session.scalars(
        select(CrmChatAssignment)
        .where(CrmChatAssignment.account_id == account_id, CrmChatAssignment.group_id == group_id)
        .order_by(CrmChatAssignment.id)
        .with_for_update()
    )
    messages = await session.scalars(
        select(CrmMessageAssignment)
        .where(
            CrmMessageAssignment.account_id == account_id,
            CrmMessageAssignment.group_id == group_id,
        )
        .order_by(CrmMessageAssignment.id)
        .with_for_update()
    )
    return list(chats), list(messages)


def add_history(session: AsyncSession, changes: Sequence[CrmAssignmentChange]) -> None:
    session.add_all(changes)


@dataclass(frozen=True)
class HistoryFilter:
    target_type: str | None = None
    session_id: uuid.UUID | None = None
    remote_jid: str | None = None
    message_id: str | None = None
    user_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    bulk_id: uuid.UUID | None = None


async def history_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    filters: HistoryFilter,
    *,
    after: uuid.UUID | None,
    limit: int,
) -> list[CrmAssignmentChange]:
    stmt = select(CrmAssignmentChange).where(CrmAssignmentChange.account_id == account_id)
    conditions: list[Any] = []
    if filters.target_type is not None:
        conditions.append(CrmAssignmentChange.target_type == filters.target_type)
    if filters.session_id is not None:
        conditions.append(CrmAssignmentChange.session_id == filters.session_id)
    if filters.remote_jid is not None:
        conditions.append(CrmAssignmentChange.remote_jid == filters.remote_jid)
    if filters.message_id is not None:
        conditions.append(CrmAssignmentChange.message_id == filters.message_id)
    for assignee_type, assignee_id in (("user", filters.user_id), ("group", filters.group_id)):
        if assignee_id is not None:
            conditions.append(
                or_(
                    (CrmAssignmentChange.from_type == assignee_type)
                    & (CrmAssignmentChange.from_id == assignee_id),
                    (CrmAssignmentChange.to_type == assignee_type)
                    & (CrmAssignmentChange.to_id == assignee_id),
                )
            )
    if filters.bulk_id is not None:
        conditions.append(CrmAssignmentChange.bulk_id == filters.bulk_id)
    if after is not None:
        conditions.append(CrmAssignmentChange.id < after)
    stmt = stmt.where(*conditions).order_by(CrmAssignmentChange.id.desc()).limit(limit + 1)
    return list(await session.scalars(stmt))
