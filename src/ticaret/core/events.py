"""Domain events through a transactional outbox.

`emit()` writes the event row in the caller's transaction. After commit the relay publishes
it on the account's Redis channel (live console) and queues the jobs that consume events
(webhook fan-out, ...). A periodic sweeper relays rows that were committed but never
relayed (Redis down, process killed), so no committed event is lost.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import after_commit, get_sessionmaker
from ticaret.core.envelope import format_timestamp
from ticaret.core.ids import new_event_id
from ticaret.core.queue import get_redis
from ticaret.models.event import Event

logger = logging.getLogger("ticaret.events")

CHANNEL_PREFIX = "ticaret:events:"
# Relay rows older than this that are still unrelayed: their post-commit relay was lost.
SWEEP_GRACE_SECONDS = 5

_consumer_jobs: list[str] = []


@dataclass(frozen=True)
class Actor:
    type: str  # user | api_account | system | ai
    id: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system", None)


def register_event_consumer(job_name: str) -> None:
    """Every relayed event is handed to this arq job as `job_name(event_id)`."""
    if job_name not in _consumer_jobs:
        _consumer_jobs.append(job_name)


def account_channel(account_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{account_id}"


def event_payload(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "accountId": str(event.account_id),
        "createdAt": format_timestamp(event.created_at),
        "actor": {"type": event.actor_type, "id": event.actor_id},
        "data": event.data,
    }


def emit(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    type: str,
    data: dict[str, Any],
    actor: Actor,
    provider_session_id: str | None = None,
) -> Event:
    event = Event(
        id=new_event_id(),
        account_id=account_id,
        type=type,
        actor_type=actor.type,
        actor_id=actor.id,
        provider_session_id=provider_session_id,
        data=data,
        created_at=datetime.now(UTC),
    )
    session.add(event)
    pending: list[Event] = session.info.setdefault("pending_events", [])
    pending.append(event)
    if len(pending) == 1:

        async def _relay() -> None:
            await relay(session.info.pop("pending_events", []))

        after_commit(session, _relay)
    return event


async def _publish(events: Sequence[Event]) -> None:
    redis = get_redis()
    for event in events:
        await redis.publish(account_channel(event.account_id), json.dumps(event_payload(event)))
        for job in _consumer_jobs:
            await redis.enqueue_job(job, event.id, _job_id=f"{job}:{event.id}")


def _mark_relayed(ids: list[str]) -> Any:
    return update(Event).where(Event.id.in_(ids)).values(relayed_at=datetime.now(UTC))


async def relay(events: Sequence[Event]) -> None:
    """Publish committed events and queue their consumers, then mark them relayed."""
    if not events:
        return
    await _publish(events)
    async with get_sessionmaker()() as session:
        await session.execute(_mark_relayed([e.id for e in events]))
        await session.commit()


async def sweep_unrelayed(limit: int = 500, grace_seconds: float = SWEEP_GRACE_SECONDS) -> int:
    """Relay what a lost post-commit hook left behind; safe with several workers."""
    async with get_sessionmaker()() as session:
        rows = (
            await session.scalars(
                select(Event)
                .where(
                    Event.relayed_at.is_(None),
                    Event.created_at < datetime.now(UTC) - timedelta(seconds=grace_seconds),
                )
                .order_by(Event.seq)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return 0
        await _publish(rows)
        await session.execute(_mark_relayed([e.id for e in rows]))
        await session.commit()
    logger.info("outbox sweeper relayed %d event(s)", len(rows))
    return len(rows)
