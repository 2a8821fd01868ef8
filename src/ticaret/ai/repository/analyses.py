"""Analyses: one per (account, message), their state machine's claims, and the finders of the
sweeper. Reads for requests are scoped by account; functions for jobs, which hold ids of rows
we wrote, look rows up by primary key and say so."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Column,
    String,
    Table,
    Uuid,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core import jsontext
from ticaret.core.db import RawQuery, written_in
from ticaret.core.events import relayed
from ticaret.core.ids import first_event_id_at
from ticaret.models import AiAnalysis, AnalysisStatus, Event, MessageType, WaMessage, WaSession

# The message types an analysis reads: text, and images (with their caption).
ANALYSABLE_TYPES = (MessageType.text.value, MessageType.image.value)
# Written into the SQL (not bound) where a statement must use the partial indexes on `status`
# (`ix_ai_analyses_pending`, `_held`, `_processing`): see `written_in`.
_PENDING = written_in(AiAnalysis.status, AnalysisStatus.pending)
_PROCESSING = written_in(AiAnalysis.status, AnalysisStatus.processing)


@dataclass(frozen=True)
class AnalysisFilters:
    status: AnalysisStatus | None = None
    intent: str | None = None
    match_status: str | None = None
    session_id: uuid.UUID | None = None
    remote_jid: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


async def insert_analysis(session: AsyncSession, values: dict[str, Any]) -> AiAnalysis | None:
    """The new row, or None when the account already has an analysis of the message."""
    return await session.scalar(
        insert(AiAnalysis)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_ai_analyses_account_message")
        .returning(AiAnalysis)
    )


class Written(NamedTuple):
    """What the database set on a row it took."""

    id: uuid.UUID
    account_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _from_json(column: Column[Any]) -> str:
    """The SQL reading `column` out of a JSON row `r.e`: JSONB columns keep a JSON null as
    JSON null (as the ORM writes a None), the others cast from the text."""
    if isinstance(column.type, JSONB):
        return f"r.e->'{column.key}'"
    if isinstance(column.type, String):
        return f"r.e->>'{column.key}'"
    return f"CAST(r.e->>'{column.key}' AS {column.type.compile(dialect=_DIALECT)})"


_ANALYSES: Table = AiAnalysis.__table__  # type: ignore[assignment]
_INSERTED = [c for c in _ANALYSES.columns if c.key not in ("created_at", "updated_at")]
# One statement text for every batch: the rows go in as one JSON array (one orjson call, no
# per-row parameter processing, nor a VALUES list compiled and prepared anew for each batch
# size), in the order given (the lock order). Built from the model's own column names.
_INSERT_ROWS = RawQuery(
    text(
        f"""
        INSERT INTO ai_analyses ({", ".join(c.key for c in _INSERTED)})
        SELECT {", ".join(_from_json(c) for c in _INSERTED)}
        FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS r(e, n)
        ORDER BY r.n
        ON CONFLICT ON CONSTRAINT uq_ai_analyses_account_message DO NOTHING
        RETURNING id, account_id, message_pk, created_at, updated_at
        """  # noqa: S608
    ).columns(
        _ANALYSES.c.id,
        _ANALYSES.c.account_id,
        _ANALYSES.c.message_pk,
        _ANALYSES.c.created_at,
        _ANALYSES.c.updated_at,
    )
)


async def insert_analysis_rows(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> dict[tuple[uuid.UUID, uuid.UUID], Written]:
    """A batch's new rows (each naming every column but the timestamps) in one statement, by
    (account, message); a message the account has an analysis of already gets none. No row
    object is made: most of a batch's rows are written finished and never read back. (The
    rules write no NaN: JSON has none, so a NaN float would be stored as null.)"""
    if not rows:
        return {}
    # One lock order for every batch (two meeting on the same messages wait, not deadlock).
    ordered = sorted(rows, key=lambda row: (row["account_id"], row["message_pk"]))
    result = await _INSERT_ROWS.fetch(session, rows=jsontext.dumps(ordered))
    return {
        (account_id, message_pk): Written(row_id, account_id, created_at, updated_at)
        for row_id, account_id, message_pk, created_at, updated_at in result
    }


async def analyses_by_pk(
    session: AsyncSession, analysis_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, AiAnalysis]:
    """For jobs, by primary key: rows this transaction wrote, to be run on."""
    if not analysis_ids:
        return {}
    stmt = select(AiAnalysis).where(AiAnalysis.id.in_(list(analysis_ids)))
    return {row.id: row for row in await session.scalars(stmt)}


class ReceivedMessage(NamedTuple):
    """A `wa.message.received` event of a customer's text or image: whose, and which message
    it names (as the event's data gives it: maybe not a message id at all)."""

    account_id: uuid.UUID
    message_id: str | None


# Built once, the ids as one array: an `IN` list would be a new statement for every batch size.
_RECEIVED = RawQuery(
    select(Event.id, Event.account_id, Event.data["id"].astext).where(
        Event.id == any_(bindparam("event_ids", type_=ARRAY(String))),
        Event.type == "wa.message.received",
        func.jsonb_typeof(Event.data) == "object",
        Event.data["fromMe"] == cast(literal_column("'false'"), JSONB),
        Event.data["type"].astext == any_(literal(list(ANALYSABLE_TYPES), ARRAY(String))),
    )
)


async def received_messages(
    session: AsyncSession, event_ids: Sequence[str]
) -> list[ReceivedMessage]:
    """A batch consumer's `wa.message.received` events of customers' texts and images, in
    the order of `event_ids` (each once): only the fields the consumer reads, picked out of
    the data by the database (the whole message each event carries is never decoded)."""
    if not event_ids:
        return []
    rows = await _RECEIVED.fetch(session, event_ids=list(event_ids))
    found = {event_id: ReceivedMessage(account_id, pk) for event_id, account_id, pk in rows}
    return [found[event_id] for event_id in dict.fromkeys(event_ids) if event_id in found]


async def messages_by_pk(
    session: AsyncSession, message_pks: Collection[uuid.UUID]
) -> dict[uuid.UUID, WaMessage]:
    """A batch's messages, by primary key, in one query (for the consumer job)."""
    if not message_pks:
        return {}
    stmt = select(WaMessage).where(WaMessage.id.in_(list(message_pks)))
    return {row.id: row for row in await session.scalars(stmt)}


async def sessions_by_id(
    session: AsyncSession, session_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, WaSession]:
    if not session_ids:
        return {}
    stmt = select(WaSession).where(WaSession.id.in_(list(session_ids)))
    return {row.id: row for row in await session.scalars(stmt)}


class EarlierLine(NamedTuple):
    """What the rules read of an earlier message of a chat."""

    text: str | None
    from_me: bool
    deleted_for_everyone: bool


# Each batch message's chat's messages before it, newest first (the order and cursor of the
# chat's timeline). The batch goes in as arrays: one statement text for every batch, prepared
# once, where a VALUES list of the batch's rows would be compiled again for each.
_EARLIER = RawQuery(
    text(
        """
        SELECT batch.pk, before.text, before.from_me, before.deleted_for_everyone
        FROM unnest(
            CAST(:pks AS uuid[]), CAST(:session_ids AS uuid[]),
            CAST(:remote_jids AS varchar[]), CAST(:ats AS timestamptz[])
        ) AS batch(pk, session_id, remote_jid, at)
        CROSS JOIN LATERAL (
            SELECT m.source_timestamp, m.id, m.text, m.from_me, m.deleted_for_everyone
            FROM wa_messages AS m
            WHERE m.session_id = batch.session_id
              AND m.remote_jid = batch.remote_jid
              AND (m.source_timestamp, m.id) < (batch.at, batch.pk)
            ORDER BY m.source_timestamp DESC, m.id DESC
            LIMIT :count
        ) AS before
        ORDER BY batch.pk, before.source_timestamp DESC, before.id DESC
        """
    )
)


async def earlier_lines(
    session: AsyncSession, messages: Sequence[WaMessage], count: int
) -> dict[uuid.UUID, list[EarlierLine]]:
    """For a batch's messages at once (one query): each one's chat's `count` messages before
    it, newest first. Only the columns the rules read: a whole message row costs far more to
    load than the rules take to read it."""
    if not messages or count <= 0:
        return {}
    rows = await _EARLIER.fetch(
        session,
        pks=[m.id for m in messages],
        session_ids=[m.session_id for m in messages],
        remote_jids=[m.remote_jid for m in messages],
        ats=[m.source_timestamp for m in messages],
        count=count,
    )
    found: dict[uuid.UUID, list[EarlierLine]] = {m.id: [] for m in messages}
    for message_pk, message_text, from_me, deleted in rows:
        found[message_pk].append(EarlierLine(message_text, from_me, deleted))
    return found


async def analysis_of_message(
    session: AsyncSession, account_id: uuid.UUID, message_pk: uuid.UUID, *, lock: bool = False
) -> AiAnalysis | None:
    stmt = select(AiAnalysis).where(
        AiAnalysis.account_id == account_id, AiAnalysis.message_pk == message_pk
    )
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def analyses_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    filters: AnalysisFilters,
    *,
    after: uuid.UUID | None,
    limit: int,
) -> list[tuple[AiAnalysis, str]]:
    """Newest first, with each analysis's providerSessionId; `limit + 1` rows."""
    stmt = (
        select(AiAnalysis, WaSession.provider_session_id)
        .join(WaSession, WaSession.id == AiAnalysis.session_id)
        .where(AiAnalysis.account_id == account_id)
    )
    if filters.status is not None:
        stmt = stmt.where(AiAnalysis.status == filters.status)
    if filters.intent is not None:
        stmt = stmt.where(AiAnalysis.intent == filters.intent)
    if filters.match_status is not None:
        stmt = stmt.where(AiAnalysis.match_status == filters.match_status)
    if filters.session_id is not None:
        stmt = stmt.where(AiAnalysis.session_id == filters.session_id)
    if filters.remote_jid is not None:
        stmt = stmt.where(AiAnalysis.remote_jid == filters.remote_jid)
    if filters.created_from is not None:
        stmt = stmt.where(AiAnalysis.created_at >= filters.created_from)
    if filters.created_to is not None:
        stmt = stmt.where(AiAnalysis.created_at < filters.created_to)
    if after is not None:
        stmt = stmt.where(AiAnalysis.id < after)
    rows = await session.execute(stmt.order_by(AiAnalysis.id.desc()).limit(limit + 1))
    return [(row[0], row[1]) for row in rows]


# For jobs (by primary key) ------------------------------------------------------------------


async def analysis_by_pk(
    session: AsyncSession, analysis_id: uuid.UUID, *, lock: bool = False
) -> AiAnalysis | None:
    """For jobs, by primary key."""
    return await session.get(AiAnalysis, analysis_id, with_for_update=lock)


async def pending_to_run(session: AsyncSession, analysis_id: uuid.UUID) -> AiAnalysis | None:
    """For jobs: the analysis, locked, if it is pending and no other run holds it."""
    return await session.scalar(
        select(AiAnalysis)
        .where(AiAnalysis.id == analysis_id, AiAnalysis.status == AnalysisStatus.pending)
        .with_for_update(skip_locked=True)
    )


async def processing_run(
    session: AsyncSession, analysis_id: uuid.UUID, attempt: int
) -> AiAnalysis | None:
    """For jobs: the analysis, locked, if the run that claimed it (its attempt) still owns it
    (the sweeper frees runs that outlive their lease)."""
    return await session.scalar(
        select(AiAnalysis)
        .where(
            AiAnalysis.id == analysis_id,
            AiAnalysis.status == AnalysisStatus.processing,
            AiAnalysis.attempt_count == attempt,
        )
        .with_for_update()
    )


async def serialize_claims(session: AsyncSession, account_id: uuid.UUID) -> None:
    """One claim of a slot at a time per account (until this transaction ends), so two runs
    never both take the last free slot."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"ai:{account_id}", 0)))
    )


async def processing_count(session: AsyncSession, account_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(AiAnalysis)
        .where(AiAnalysis.account_id == account_id, _PROCESSING)
    )
    return int(count or 0)


async def take_held(session: AsyncSession, account_id: uuid.UUID, limit: int) -> list[AiAnalysis]:
    """The account's analyses held back longest by its concurrency limit, locked, so that two
    finishing runs hand their slots to different ones."""
    if limit <= 0:
        return []
    return list(
        await session.scalars(
            select(AiAnalysis)
            .where(
                AiAnalysis.account_id == account_id,
                _PENDING,
                AiAnalysis.held_at.is_not(None),
            )
            .order_by(AiAnalysis.held_at, AiAnalysis.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


# The sweeper --------------------------------------------------------------------------------


async def stale_pending(
    session: AsyncSession, due_before: datetime, idle_before: datetime, limit: int
) -> list[tuple[uuid.UUID, int]]:
    """Pending analyses due for a while with no change since: their job may be lost.
    (id, jobs queued so far)."""
    rows = await session.execute(
        select(AiAnalysis.id, AiAnalysis.dispatches)
        .where(
            _PENDING,
            AiAnalysis.next_attempt_at < due_before,
            AiAnalysis.updated_at < idle_before,
        )
        .order_by(AiAnalysis.next_attempt_at)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


async def expired_processing(
    session: AsyncSession, started_before: datetime, limit: int
) -> list[AiAnalysis]:
    """Runs that outlived their lease (their worker died mid-call), locked."""
    return list(
        await session.scalars(
            select(AiAnalysis)
            .where(
                _PROCESSING,
                AiAnalysis.started_at < started_before,
            )
            .order_by(AiAnalysis.started_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


async def received_without_analysis(
    session: AsyncSession, *, since: datetime, relayed_before: datetime, limit: int
) -> list[str]:
    """`wa.message.received` events of customers' text and image messages that no analysis
    row answers: the consumer's job was lost. (Every such event gets a row, pending or
    skipped, so a missing row means the consumer never ran.)"""
    done = exists().where(
        and_(
            AiAnalysis.account_id == Event.account_id,
            AiAnalysis.message_pk == cast(Event.data["id"].astext, Uuid),
        )
    )
    ids = await session.scalars(
        select(Event.id)
        .where(
            Event.id >= first_event_id_at(since),
            Event.created_at >= since,
            Event.type == "wa.message.received",
            Event.created_at < relayed_before,
            relayed(),
            Event.data["fromMe"].astext == "false",
            Event.data["type"].astext.in_(ANALYSABLE_TYPES),
            ~done,
        )
        .order_by(Event.seq)
        .limit(limit)
    )
    return list(ids)
