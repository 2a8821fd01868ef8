"""Agent runs and their steps. The API's reads are scoped by account; the run job holds the id
of a run we wrote and looks it up by primary key (`run_by_id`, `claim`, ...)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import written_in
from ticaret.models import AiAgentRun, AiAgentRunStep
from ticaret.models.agents import RunStatus

# Written into the SQL (not bound) where a statement must use a partial index on `status`
# (`uq_ai_agent_runs_one_running`, `ix_ai_agent_runs_unfinished`): see `written_in`.
_RUNNING = written_in(AiAgentRun.status, RunStatus.running)
_UNFINISHED = written_in(AiAgentRun.status, RunStatus.pending, RunStatus.running)


async def add_run(session: AsyncSession, values: dict[str, object]) -> AiAgentRun | None:
    """A new pending run; None when its triggering message already has one."""
    run_id = await session.scalar(
        insert(AiAgentRun)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_ai_agent_runs_trigger_message_id")
        .returning(AiAgentRun.id)
    )
    if run_id is None:
        return None
    return await session.get(AiAgentRun, run_id)


async def run(session: AsyncSession, account_id: uuid.UUID, run_id: uuid.UUID) -> AiAgentRun | None:
    return await session.scalar(
        select(AiAgentRun).where(AiAgentRun.account_id == account_id, AiAgentRun.id == run_id)
    )


async def run_by_id(
    session: AsyncSession, run_id: uuid.UUID, *, for_update: bool = False
) -> AiAgentRun | None:
    """By primary key alone: for the run job, which holds the id of a run we wrote."""
    stmt = select(AiAgentRun).where(AiAgentRun.id == run_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def runs_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    agent_id: uuid.UUID,
    *,
    status: RunStatus | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[AiAgentRun]:
    stmt = select(AiAgentRun).where(
        AiAgentRun.account_id == account_id, AiAgentRun.agent_id == agent_id
    )
    if status is not None:
        stmt = stmt.where(AiAgentRun.status == status)
    if after is not None:
        stmt = stmt.where(AiAgentRun.id < after)
    return list(await session.scalars(stmt.order_by(AiAgentRun.id.desc()).limit(limit + 1)))


async def steps_of(
    session: AsyncSession, account_id: uuid.UUID, run_id: uuid.UUID
) -> list[AiAgentRunStep]:
    return list(
        await session.scalars(
            select(AiAgentRunStep)
            .where(AiAgentRunStep.account_id == account_id, AiAgentRunStep.run_id == run_id)
            .order_by(AiAgentRunStep.position)
        )
    )


async def release_stale(session: AsyncSession, conversation_id: uuid.UUID, now: datetime) -> None:
    """A run still `running` past its lease lost its worker: it goes back to pending (its job,
    or the sweeper, runs it again) so that it no longer holds the conversation."""
    await session.execute(
        update(AiAgentRun)
        .where(
            AiAgentRun.conversation_id == conversation_id,
            _RUNNING,
            AiAgentRun.lease_until < now,
        )
        .values(status=RunStatus.pending, lease_until=None)
    )


async def claim(session: AsyncSession, run: AiAgentRun, *, lease_until: datetime) -> bool:
    """Mark the run `running`, or False when another run of its conversation is running: the
    partial unique index on (conversation_id) WHERE running is the lock, in the database, so
    it holds across workers and processes."""
    savepoint = await session.begin_nested()
    try:
        await session.execute(
            update(AiAgentRun)
            .where(AiAgentRun.id == run.id)
            .values(
                status=RunStatus.running,
                lease_until=lease_until,
                attempts=AiAgentRun.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
    except IntegrityError:
        await savepoint.rollback()
        return False
    await savepoint.commit()
    await session.refresh(run)
    if run.started_at is None:
        # Read after the claim: a claim that waited for the previous run's commit (the unique
        # index makes it wait) starts when that run is over.
        run.started_at = datetime.now(UTC)
    return True


async def older_pending(session: AsyncSession, run: AiAgentRun) -> bool:
    """Whether a run of the same conversation, created before this one, still waits."""
    older = await session.scalar(
        select(AiAgentRun.id)
        .where(
            AiAgentRun.conversation_id == run.conversation_id,
            AiAgentRun.status == RunStatus.pending,
            tuple_(AiAgentRun.trigger_at, AiAgentRun.id) < tuple_(run.trigger_at, run.id),
        )
        .limit(1)
    )
    return older is not None


async def newer_taken_up(session: AsyncSession, run: AiAgentRun) -> bool:
    """Whether a run for a later message of the conversation already started (or answered)."""
    newer = await session.scalar(
        select(AiAgentRun.id)
        .where(
            AiAgentRun.conversation_id == run.conversation_id,
            AiAgentRun.status.in_([RunStatus.running, RunStatus.completed, RunStatus.handed_off]),
            tuple_(AiAgentRun.trigger_at, AiAgentRun.id) > tuple_(run.trigger_at, run.id),
        )
        .limit(1)
    )
    return newer is not None


async def next_pending(session: AsyncSession, conversation_id: uuid.UUID) -> AiAgentRun | None:
    """The oldest run of the conversation still waiting for its turn."""
    return await session.scalar(
        select(AiAgentRun)
        .where(
            AiAgentRun.conversation_id == conversation_id,
            AiAgentRun.status == RunStatus.pending,
        )
        .order_by(AiAgentRun.trigger_at, AiAgentRun.id)
        .limit(1)
    )


async def unfinished_before(
    session: AsyncSession, moment: datetime, limit: int
) -> Sequence[AiAgentRun]:
    """For the sweeper: pending runs older than `moment`, and running ones past their lease."""
    return list(
        await session.scalars(
            select(AiAgentRun)
            .where(
                _UNFINISHED,
                AiAgentRun.created_at < moment,
                (AiAgentRun.status == RunStatus.pending) | (AiAgentRun.lease_until < moment),
            )
            .order_by(AiAgentRun.created_at)
            .limit(limit)
        )
    )
