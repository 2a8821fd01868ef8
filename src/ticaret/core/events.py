"""Domain events: declared types, and delivery through a transactional outbox.

Every event type is declared once, by the domain it belongs to (`wa/events.py`,
`webhooks/events.py`, ...), with a description and a pydantic model of its `data`:

    MESSAGE_RECEIVED = event_type(
        "wa.message.received", "A customer's message arrived.", MessageData
    )

`emit()` takes such a type and a payload of its model, and writes the event row in the
caller's transaction. After commit the relay wakes the account's Redis channel (the live
console then reads the events from the outbox) and queues the jobs of the consumers that
want its type (webhook fan-out, ...; `ticaret.wiring` registers them). The `sweep_outbox`
cron relays rows that were committed but never relayed (Redis down, process killed), so no
committed event is lost.
The catalogue feeds `GET /events/types`, the OpenAPI `webhooks` section and the check that
webhook subscriptions name real types.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import ColumnElement, String, Text, any_, bindparam, delete, exists, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core import jsontext
from ticaret.core.db import RawQuery, after_commit, no_transaction, unit_of_work
from ticaret.core.envelope import ApiModel, format_timestamp
from ticaret.core.event_patterns import event_matches, pattern_matches, validate_subscription
from ticaret.core.ids import new_event_id
from ticaret.core.jobs import Job, JobContext, Lost, cron_job, job, requeue_lost
from ticaret.core.queue import get_redis
from ticaret.models import Event, OutboxPending

logger = logging.getLogger("ticaret.events")

CHANNEL_PREFIX = "ticaret:events:"
# Relay rows older than this that are still unrelayed: their post-commit relay was lost.
SWEEP_GRACE = timedelta(seconds=5)
SWEEP_BATCH = 500


@dataclass(frozen=True)
class Actor:
    type: str  # an ActorType: user | api_account | system | ai
    id: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system", None)


class EventPayload(ApiModel):
    """Base of every event's `data` model: camelCase on the wire, nothing undeclared."""


D = TypeVar("D", bound=EventPayload)


@dataclass(frozen=True)
class EventType(Generic[D]):
    name: str
    description: str
    payload: type[D]

    @property
    def domain(self) -> str:
        return self.name.split(".", 1)[0]


_catalogue: dict[str, EventType[Any]] = {}


def event_type(name: str, description: str, payload: type[D]) -> EventType[D]:
    """Declare an event type; its name follows `domain.object.verb`."""
    validate_subscription(name)
    if "*" in name:
        raise ValueError(f"event type {name!r} cannot contain '*'")
    if name in _catalogue:
        raise ValueError(f"event type {name!r} is declared twice")
    declared = EventType(name, description, payload)
    _catalogue[name] = declared
    return declared


def event_catalogue() -> list[EventType[Any]]:
    return sorted(_catalogue.values(), key=lambda declared: declared.name)


def declared_event_type(name: str) -> EventType[Any] | None:
    return _catalogue.get(name)


def check_subscription(pattern: str) -> None:
    """A subscription must name declared types: an exact one, or a prefix that covers one."""
    validate_subscription(pattern)
    if pattern == "*" or any(pattern_matches(pattern, name) for name in _catalogue):
        return
    if pattern.endswith(".*"):
        raise ValueError(f"no event type starts with {pattern[:-1]!r}; see GET /events/types")
    raise ValueError(f"{pattern!r} is not an event type; see GET /events/types")


# Consumers ----------------------------------------------------------------------------------

# Which of these accounts a consumer has anything to do for (e.g. those with webhooks); the
# relay queues nothing for the others. It may answer from a short cache: an account it wrongly
# leaves out is caught by that consumer's own sweeper, never lost.
AccountFilter = Callable[[set[uuid.UUID]], Awaitable[set[uuid.UUID]]]


@dataclass(frozen=True)
class EventConsumer:
    """A job that gets `job(event_id)` for every relayed event whose type it subscribes to."""

    job: Job[[str], Any]
    types: tuple[str, ...]
    accounts: AccountFilter | None = None

    def wants(self, event_type_name: str) -> bool:
        return event_matches(self.types, event_type_name)

    def job_id(self, event_id: str) -> str:
        return f"{self.job.name}:{event_id}"


@dataclass(frozen=True)
class BatchEventConsumer:
    """A job that gets `job([event_id, ...])`: every wanted event of one relay (one commit),
    so a transaction that emits 200 events queues one job, not 200."""

    job: Job[[list[str]], Any]
    types: tuple[str, ...]
    accounts: AccountFilter | None = None

    def wants(self, event_type_name: str) -> bool:
        return event_matches(self.types, event_type_name)

    def job_id(self, first_event_id: str) -> str:
        # Event ids are unique, so the first one names the batch.
        return f"{self.job.name}:{first_event_id}"


_consumers: dict[str, EventConsumer | BatchEventConsumer] = {}
# The consumers of each event type, worked out on first use (`_consumers_of`).
_consumers_by_type: dict[str, tuple[EventConsumer | BatchEventConsumer, ...]] = {}

RELAY_BATCH = 500


def register_event_consumer(
    consumer_job: Job[[str], Any], *, types: Sequence[str], accounts: AccountFilter | None = None
) -> None:
    for pattern in types:
        validate_subscription(pattern)
    _consumers[consumer_job.name] = EventConsumer(consumer_job, tuple(types), accounts)
    _consumers_by_type.clear()


def register_batch_consumer(
    consumer_job: Job[[list[str]], Any],
    *,
    types: Sequence[str],
    accounts: AccountFilter | None = None,
) -> None:
    for pattern in types:
        validate_subscription(pattern)
    _consumers[consumer_job.name] = BatchEventConsumer(consumer_job, tuple(types), accounts)
    _consumers_by_type.clear()


def event_consumers() -> list[EventConsumer | BatchEventConsumer]:
    return list(_consumers.values())


T = TypeVar("T")


async def consume_batch(
    event_ids: Sequence[str],
    consume: Callable[[AsyncSession, list[str]], Awaitable[list[T]]],
) -> tuple[list[T], Exception | None]:
    """A batch consumer's events in one transaction; when that fails (a poison event), each
    event in a transaction of its own, so the others still commit. Returns what the
    committed transactions gave, and the first error (the job queues what the rest gave,
    then raises it: `core.jobs.try_again`; consumers are idempotent)."""
    ids = list(dict.fromkeys(event_ids))  # the same event twice in one list is done once
    try:
        async with unit_of_work() as session:
            return await consume(session, ids), None
    except Exception as error:
        if len(ids) == 1:
            return [], error
        logger.warning("a batch of %d events failed; taking them one by one", len(ids))
    done: list[T] = []
    failed: Exception | None = None
    for event_id in ids:
        try:
            async with unit_of_work() as session:
                done.extend(await consume(session, [event_id]))
        except Exception as error:
            logger.exception("event %s failed in its consumer", event_id)
            failed = failed or error
    return done, failed


# Emitting -----------------------------------------------------------------------------------


def account_channel(account_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{account_id}"


def wake_up(account_id: uuid.UUID, named: list[dict[str, str]]) -> dict[str, Any]:
    """What the relay publishes on an account's live channel for one commit: the events'
    ids and types, in the order they were emitted."""
    return {"accountId": str(account_id), "events": named}


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
    type: EventType[D],
    data: D,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    provider_session_id: str | None = None,
) -> Event:
    event = Event(
        id=new_event_id(),
        account_id=account_id,
        type=type.name,
        actor_type=actor.type,
        actor_id=actor.id,
        provider_session_id=provider_session_id,
        data=data.model_dump(mode="json", by_alias=True),
        created_at=datetime.now(UTC),
    )
    session.add(event)
    _relay_after_commit(session, [event])
    return event


def _relay_after_commit(session: AsyncSession, events: Sequence[Any]) -> None:
    """Add `events` (ORM `Event`s or `EmittedEvent`s, in the order emitted) to what the
    session's commit relays: one relay per transaction, of everything it emitted."""
    pending: list[Any] = session.info.setdefault("pending_events", [])
    first = not pending
    pending.extend(events)
    if first:

        async def _relay() -> None:
            await relay(session.info.pop("pending_events", []))

        after_commit(session, _relay)


# Not slotted: orjson writes a plain dataclass three times faster than a slotted one (it reads
# the instance's __dict__), and every emitted event is written once as JSON.
@dataclass(frozen=True)
class EmittedEvent:
    """An outbox row `emit_many` wrote: what the relay reads of an `Event`, without an ORM
    instance per event."""

    id: str
    account_id: uuid.UUID
    type: str
    actor_type: str
    actor_id: str | None
    provider_session_id: str | None
    data: dict[str, Any]
    created_at: datetime


_EVENT_FIELDS = tuple(field.name for field in fields(EmittedEvent))


@dataclass(frozen=True, slots=True)
class Emission:
    """One event for `emit_many`: its type, and its payload already as `emit` would store it
    (`data.model_dump(mode="json", by_alias=True)`: the caller builds that dict itself, which
    is what makes the hot path cheap; a test holds each such builder to the model's dump)."""

    type: EventType[Any]
    data: dict[str, Any]
    account_id: uuid.UUID
    provider_session_id: str | None = None


# Every row of one `emit_many` in one statement: the rows go as one JSON array (one orjson
# call for all of them, no per-row parameter processing), inserted in the order given (`seq`,
# the delivery order, is taken in that order).
_INSERT_EVENTS = RawQuery(
    text(
        """
    INSERT INTO events (id, account_id, type, actor_type, actor_id, provider_session_id, data,
      created_at)
    SELECT e.id, e.account_id, e.type, e.actor_type, e.actor_id, e.provider_session_id, e.data,
      e.created_at
    FROM ROWS FROM (jsonb_to_recordset(CAST(:rows AS jsonb)) AS (id varchar, account_id uuid,
      type varchar, actor_type varchar, actor_id varchar, provider_session_id varchar,
      data jsonb, created_at timestamptz)) WITH ORDINALITY
      AS e(id, account_id, type, actor_type, actor_id, provider_session_id, data, created_at, n)
    ORDER BY e.n
    """
    ).bindparams(bindparam("rows", type_=Text))
)


async def emit_many(
    session: AsyncSession, emissions: Sequence[Emission], *, actor: Actor
) -> list[EmittedEvent]:
    """`emit` for many events at once, in the order given: one INSERT for all of them (now,
    not at the next flush), the same after-commit relay. Events `emit` added before and not
    yet flushed are flushed first, so `seq` keeps the order the events were emitted in."""
    if not emissions:
        return []
    pending: list[Any] = session.info.get("pending_events", [])
    added = [event for event in pending if isinstance(event, Event)]
    if added:
        new = session.new  # a set built on each access
        unflushed = [event for event in added if event in new]
        if unflushed:
            await session.flush(unflushed)
    now = datetime.now(UTC)
    emitted = [
        EmittedEvent(
            id=new_event_id(),
            account_id=emission.account_id,
            type=emission.type.name,
            actor_type=actor.type,
            actor_id=actor.id,
            provider_session_id=emission.provider_session_id,
            data=emission.data,
            created_at=now,
        )
        for emission in emissions
    ]
    await _INSERT_EVENTS.execute(session, rows=_rows_json(emitted))
    _relay_after_commit(session, emitted)
    return emitted


def _rows_json(events: list[EmittedEvent]) -> str:
    """The rows of `_INSERT_EVENTS`: orjson writes a dataclass as an object of its fields."""
    try:
        return orjson.dumps(events, default=jsontext.default).decode()
    except TypeError:
        # An integer past 64 bits in a payload: valid JSON that JSONB keeps, orjson cannot
        # write it.
        rows = [{name: getattr(event, name) for name in _EVENT_FIELDS} for event in events]
        return json.dumps(rows, default=jsontext.default)


async def events_by_id(session: AsyncSession, event_ids: Sequence[str]) -> list[Event]:
    """A batch consumer's events in one query, in the order of `event_ids` (the order they
    were emitted in); ids with no event are left out."""
    if not event_ids:
        return []
    found = {
        row.id: row for row in await session.scalars(select(Event).where(Event.id.in_(event_ids)))
    }
    return [found[event_id] for event_id in dict.fromkeys(event_ids) if event_id in found]


# Relaying -----------------------------------------------------------------------------------


def _consumers_of(type_name: str) -> tuple[EventConsumer | BatchEventConsumer, ...]:
    """The consumers that subscribe to this type, in registration order (remembered per type:
    the relay asks for every event, the answer changes only when a consumer registers)."""
    found = _consumers_by_type.get(type_name)
    if found is None:
        found = tuple(consumer for consumer in _consumers.values() if consumer.wants(type_name))
        _consumers_by_type[type_name] = found
    return found


async def _wanted_by(
    consumer: EventConsumer | BatchEventConsumer, events: Sequence[Event]
) -> list[Event]:
    """`events` (all of a type the consumer subscribes to) less those of accounts its filter
    says it has nothing to do for."""
    if not events or consumer.accounts is None:
        return list(events)
    try:
        allowed = await consumer.accounts({event.account_id for event in events})
    except Exception:
        # Queue for every account: a consumer with nothing to do returns at once.
        logger.warning("account filter of %s failed", consumer.job.name, exc_info=True)
        return list(events)
    return [event for event in events if event.account_id in allowed]


async def _publish(events: Sequence[Event]) -> None:
    """A wake-up on each account's live channel and every consumer's jobs, in one Redis round
    trip. If it fails, none of it counts as relayed: the caller does not mark the events, and
    the sweeper relays them again (a job already queued is not queued twice; consumers are
    idempotent)."""
    by_consumer: dict[str, list[Event]] = {}
    by_account: dict[uuid.UUID, list[dict[str, str]]] = {}
    for event in events:
        for consumer in _consumers_of(event.type):
            by_consumer.setdefault(consumer.job.name, []).append(event)
        by_account.setdefault(event.account_id, []).append({"id": event.id, "type": event.type})
    redis = get_redis()
    async with redis.pipeline(transaction=False) as pipe:
        for account_id, named in by_account.items():
            # One wake-up per account, naming its events in order: the console's streams read
            # the events themselves from the outbox (in the order no publish can give across
            # processes), so the payloads need not travel through Redis.
            pipe.publish(account_channel(account_id), orjson.dumps(wake_up(account_id, named)))
        for name, subscribed in by_consumer.items():
            consumer = _consumers[name]
            wanted = await _wanted_by(consumer, subscribed)
            if isinstance(consumer, BatchEventConsumer):
                for start in range(0, len(wanted), RELAY_BATCH):
                    ids = [event.id for event in wanted[start : start + RELAY_BATCH]]
                    consumer.job.options(job_id=consumer.job_id(ids[0])).queue_on(pipe, ids)
            else:
                for event in wanted:
                    consumer.job.options(job_id=consumer.job_id(event.id)).queue_on(pipe, event.id)
        await pipe.execute()


# Relayed: the events' rows leave `outbox_pending` (a trigger on `events` put them there).
_MARK_RELAYED = RawQuery(
    delete(OutboxPending).where(
        OutboxPending.event_id == any_(bindparam("ids", type_=ARRAY(String)))
    )
)


def relayed() -> ColumnElement[bool]:
    """For a query on `Event`: the event has been relayed (its consumers' jobs were queued).
    The consumers' own sweepers look only at these: a pending event is the outbox's sweeper's."""
    return ~exists().where(OutboxPending.event_id == Event.id)


async def relay(events: Sequence[Event]) -> None:
    """Publish committed events and queue their consumers, then mark them relayed."""
    if not events:
        return
    await _publish(events)
    # One statement outside any transaction: the events are committed already, and a mark that
    # never lands only makes the sweeper relay them again (consumers are idempotent).
    async with no_transaction() as conn:
        await _MARK_RELAYED.execute(conn, ids=[e.id for e in events])


@job("relay_event", max_tries=3, timeout=30)
async def relay_event(ctx: JobContext, event_id: str) -> bool:
    """Relay one event whose post-commit relay was lost; a no-op once it is relayed."""
    async with unit_of_work() as session:
        claimed = await session.scalar(
            delete(OutboxPending)
            .where(OutboxPending.event_id == event_id)
            .returning(OutboxPending.event_id)
        )
        if claimed is None:
            return False
        event = await session.get(Event, event_id)
        if event is None:  # removed since (its account was deleted): nothing left to relay
            return False
        # Published inside the claim: if Redis fails, the claim rolls back and the sweeper retries.
        await _publish([event])
    return True


async def _unrelayed(session: AsyncSession) -> list[Lost]:
    ids = await session.scalars(
        select(OutboxPending.event_id)
        .where(OutboxPending.created_at < datetime.now(UTC) - SWEEP_GRACE)
        .order_by(OutboxPending.event_id)
        .limit(SWEEP_BATCH)
    )
    return [Lost(event_id, f"relay_event:{event_id}") for event_id in ids]


@cron_job("sweep_outbox", second=range(0, 60, 10))
async def sweep_outbox(ctx: JobContext) -> int:
    """Relay what a lost post-commit hook left behind."""
    return await requeue_lost(relay_event, _unrelayed)
