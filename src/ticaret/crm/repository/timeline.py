"""The timeline's reads: each source newest first from a position, through its own index.

The feed is ordered by (at, kind, id), descending. A source of kind `k` continues after the
position (at, kind, id) with: `at <= position.at` when k sorts before the position's kind,
`(at, id) < (position.at, position.id)` when it is that kind, `at < position.at` after it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, literal, select, true, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import (
    CrmAssignmentChange,
    CrmAuditEntry,
    CrmComment,
    CrmNote,
    CrmTask,
    MetaMessage,
    WaMessage,
)


@dataclass(frozen=True)
class Position:
    at: datetime
    kind: str
    id: uuid.UUID


def after(at: Any, row_id: Any, kind: str, position: Position | None) -> ColumnElement[bool]:
    if position is None:
        return true()
    if kind < position.kind:
        return at <= position.at  # type: ignore[no-any-return]
    if kind == position.kind:
        return tuple_(at, row_id) < tuple_(literal(position.at), literal(position.id))
    return at < position.at  # type: ignore[no-any-return]


async def messages(
    session: AsyncSession,
    chats: Sequence[tuple[uuid.UUID, str]],
    inbox_sessions: Sequence[uuid.UUID],
    position: Position | None,
    limit: int,
) -> list[WaMessage]:
    """The newest messages of these chats and whole sessions: one index range per chat and
    per session (each through its own index), merged."""
    parts = [
        select(WaMessage.id, WaMessage.source_timestamp)
        .where(
            WaMessage.session_id == session_id,
            WaMessage.remote_jid == remote_jid,
            after(WaMessage.source_timestamp, WaMessage.id, "message", position),
        )
        .order_by(WaMessage.source_timestamp.desc(), WaMessage.id.desc())
        .limit(limit)
        for session_id, remote_jid in chats
    ] + [
        select(WaMessage.id, WaMessage.source_timestamp)
        .where(
            WaMessage.session_id == session_id,
            after(WaMessage.source_timestamp, WaMessage.id, "message", position),
        )
        .order_by(WaMessage.source_timestamp.desc(), WaMessage.id.desc())
        .limit(limit)
        for session_id in inbox_sessions
    ]
    if not parts:
        return []
    newest = union_all(*[p.subquery().select() for p in parts]) if len(parts) > 1 else parts[0]
    rows = await session.scalars(
        select(WaMessage)
        .where(WaMessage.id.in_(select(newest.subquery().c.id)))
        .order_by(WaMessage.source_timestamp.desc(), WaMessage.id.desc())
        .limit(limit)
    )
    return list(rows)


async def social_messages(
    session: AsyncSession,
    thread_ids: Sequence[uuid.UUID],
    asset_ids: Sequence[uuid.UUID],
    position: Position | None,
    limit: int,
) -> list[MetaMessage]:
    """The newest Page / Instagram messages of these threads and whole assets: one index range
    per thread and per asset, merged (the thread and asset ids come from the account's own
    assets)."""
    parts = [
        select(MetaMessage.id)
        .where(
            MetaMessage.thread_id == thread_id,
            after(MetaMessage.source_timestamp, MetaMessage.id, "social_message", position),
        )
        .order_by(MetaMessage.source_timestamp.desc(), MetaMessage.id.desc())
        .limit(limit)
        for thread_id in thread_ids
    ] + [
        select(MetaMessage.id)
        .where(
            MetaMessage.asset_id == asset_id,
            after(MetaMessage.source_timestamp, MetaMessage.id, "social_message", position),
        )
        .order_by(MetaMessage.source_timestamp.desc(), MetaMessage.id.desc())
        .limit(limit)
        for asset_id in asset_ids
    ]
    if not parts:
        return []
    newest = union_all(*[p.subquery().select() for p in parts]) if len(parts) > 1 else parts[0]
    rows = await session.scalars(
        select(MetaMessage)
        .where(MetaMessage.id.in_(select(newest.subquery().c.id)))
        .order_by(MetaMessage.source_timestamp.desc(), MetaMessage.id.desc())
        .limit(limit)
    )
    return list(rows)


async def notes(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    position: Position | None,
    limit: int,
) -> list[CrmNote]:
    return list(
        await session.scalars(
            select(CrmNote)
            .where(
                CrmNote.account_id == account_id,
                CrmNote.customer_id == customer_id,
                CrmNote.deleted_at.is_(None),
                after(CrmNote.created_at, CrmNote.id, "note", position),
            )
            .order_by(CrmNote.created_at.desc(), CrmNote.id.desc())
            .limit(limit)
        )
    )


async def comments(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    position: Position | None,
    limit: int,
) -> list[CrmComment]:
    return list(
        await session.scalars(
            select(CrmComment)
            .where(
                CrmComment.account_id == account_id,
                CrmComment.customer_id == customer_id,
                CrmComment.deleted_at.is_(None),
                after(CrmComment.created_at, CrmComment.id, "comment", position),
            )
            .order_by(CrmComment.created_at.desc(), CrmComment.id.desc())
            .limit(limit)
        )
    )


async def tasks(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    position: Position | None,
    limit: int,
) -> list[CrmTask]:
    return list(
        await session.scalars(
            select(CrmTask)
            .where(
                CrmTask.account_id == account_id,
                CrmTask.customer_id == customer_id,
                CrmTask.deleted_at.is_(None),
                after(CrmTask.created_at, CrmTask.id, "task", position),
            )
            .order_by(CrmTask.created_at.desc(), CrmTask.id.desc())
            .limit(limit)
        )
    )


async def assignment_changes(
    session: AsyncSession,
    account_id: uuid.UUID,
    chats: Sequence[tuple[uuid.UUID, str]],
    position: Position | None,
    limit: int,
) -> list[CrmAssignmentChange]:
    if not chats:
        return []
    parts = [
        select(CrmAssignmentChange.id)
        .where(
            CrmAssignmentChange.account_id == account_id,
            CrmAssignmentChange.session_id == session_id,
            CrmAssignmentChange.remote_jid == remote_jid,
            after(CrmAssignmentChange.created_at, CrmAssignmentChange.id, "assignment", position),
        )
        .order_by(CrmAssignmentChange.created_at.desc(), CrmAssignmentChange.id.desc())
        .limit(limit)
        for session_id, remote_jid in chats
    ]
    ids = union_all(*[p.subquery().select() for p in parts]) if len(parts) > 1 else parts[0]
    return list(
        await session.scalars(
            select(CrmAssignmentChange)
            .where(CrmAssignmentChange.id.in_(select(ids.subquery().c.id)))
            .order_by(CrmAssignmentChange.created_at.desc(), CrmAssignmentChange.id.desc())
            .limit(limit)
        )
    )


async def audit_entries(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    position: Position | None,
    limit: int,
) -> list[CrmAuditEntry]:
    return list(
        await session.scalars(
            select(CrmAuditEntry)
            .where(
                CrmAuditEntry.account_id == account_id,
                CrmAuditEntry.customer_id == customer_id,
                after(CrmAuditEntry.created_at, CrmAuditEntry.id, "audit", position),
            )
            .order_by(CrmAuditEntry.created_at.desc(), CrmAuditEntry.id.desc())
            .limit(limit)
        )
    )
