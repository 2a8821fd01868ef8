"""The inbound-webhook inbox every source shares: verify, store raw, dedupe, process by a job.

A source (WhatsApp gateways today; Meta and Instagram next) declares itself once:

    GATEWAY_EVENTS = InboxSource("wa", handler=apply_gateway_event, job_name=..., headers=...)

Its receiver route verifies the call (that is the caller's job: signatures differ per source),
then hands the body's items to `store()`: one row per item, keyed by
`(source, scope, external_id)`, so a redelivered item is a duplicate and nothing more. A Meta
POST carries a batch (`entry[].messaging[]`): each item is stored as its own row under its
natural id, in one statement. Stored rows queue the scope's drain job after commit (at most
twice per 0.1 s slot and scope in a process: `queue_drain`); the receiver answers at once. A
receiver that stores one item and nothing else uses `store_now`: one autocommit statement.

The job claims the row (`FOR UPDATE SKIP LOCKED`), runs the source's handler (or, for a
claimed batch, its batch handler when it declares one, which gets the claimed rows as
`ClaimedItem`s rather than ORM objects) in one transaction and records
`processed`, `ignored` or `failed` with the reason. A handler that raises rolls back its work,
and the row is marked `failed` with the error; the stored payload is never touched, so nothing
is lost to a parser bug. A deadlock or serialization failure is
not the item's fault: the job runs again with backoff and the row stays `received`. A body
that is not usable JSON (not JSON at all, NUL characters or lone surrogates PostgreSQL cannot
store, nesting deeper than `MAX_JSON_DEPTH`) is kept as text and marked `failed` at once.
`sweep_inbox` re-queues rows whose job was lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from arq import Retry
from sqlalchemy import Table, Text, Uuid, any_, bindparam, cast, select, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core import jsontext
from ticaret.core.db import RawQuery, after_commit, no_transaction, unit_of_work, written_in
from ticaret.core.ids import new_id
from ticaret.core.jobs import Job, JobContext, Lost, cron_job, job, requeue
from ticaret.core.queue import get_redis
from ticaret.models import InboxItem, InboxStatus

logger = logging.getLogger("ticaret.inbox")

# Deeper JSON is kept as text: serializing it back (JSONB, the handler) would recurse too far.
MAX_JSON_DEPTH = jsontext.MAX_JSON_DEPTH
# A `received` row this old has lost its job (Redis outage, crashed worker).
STUCK_AFTER = timedelta(seconds=60)
SWEEP_BATCH = 500
# Headers worth keeping with any item; a source adds its own (never secrets or API keys).
COMMON_HEADERS = frozenset({"content-type", "user-agent", "x-request-id"})
# deadlock_detected, serialization_failure: the transaction lost a race, the item is fine.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
# The job runs again after base * 2**(try-1) seconds while tries remain.
TRANSIENT_RETRY_BASE = timedelta(seconds=0.5)
# Items one transaction takes (claimed together with SKIP LOCKED, committed together).
BATCH_SIZE = 100
# One drain runs this long at most, then hands over to a fresh job.
DRAIN_BUDGET_SECONDS = 50.0
# Stores within this long of each other queue the same drain job (arq holds one copy).
DRAIN_SLOT_SECONDS = 0.1
DRAIN_LOCK_PREFIX = "ticaret:inbox:drain:"
# After a part batch (the scope caught up) the drain waits this long before its next claim, so
# that the items arriving meanwhile go together: chasing each arrival with a batch of a few
# paid a batch's fixed cost (a transaction, a dozen statements, the relay, two consumer jobs)
# for every few events. The most an item waits for it; a full batch goes on at once.
DRAIN_GATHER_SECONDS = 0.05


@dataclass(frozen=True)
class Decoded:
    """A request body as the inbox sees it: JSON, or text with the reason it is not usable."""

    payload: Any
    text: str | None = None
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None


def _unstorable(value: Any, limit: int) -> str | None:
    """Why a parsed body cannot be kept as JSONB: nested deeper than `limit`, a string with a
    lone surrogate (`"\\ud800"` is valid JSON but no UTF-8 text), or an infinite number."""
    # Iterative: the point is to stay clear of the recursion limit.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, str):
            try:
                current.encode("utf-8")
            except UnicodeEncodeError:
                return "body contains a lone UTF-16 surrogate"
        elif isinstance(current, float) and not math.isfinite(current):
            # 1e999, NaN, Infinity: Python reads them, JSONB has no such number.
            return "body contains a number out of range"
        elif isinstance(current, dict | list):
            if depth > limit:
                return f"body nests deeper than {limit} levels"
            if isinstance(current, dict):
                stack.extend((key, depth) for key in current)
                stack.extend((child, depth + 1) for child in current.values())
            else:
                stack.extend((child, depth + 1) for child in current)
    return None


def decode_json(raw_body: bytes) -> Decoded:
    def as_text() -> str:
        return raw_body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")

    plain = jsontext.read_plain(raw_body)
    if plain is not jsontext.NOT_PLAIN:
        if b"\\u0000" in raw_body:
            return Decoded(None, as_text(), "body contains NUL characters")
        # Nothing `_unstorable` looks for can be in it (see `jsontext.read_plain`).
        return Decoded(plain)
    try:
        payload = json.loads(raw_body)
    except RecursionError:
        return Decoded(None, as_text(), "body nests too deeply to be read as JSON")
    except (ValueError, UnicodeDecodeError):
        return Decoded(None, as_text(), "body is not valid JSON")
    if b"\\u0000" in raw_body:
        # PostgreSQL JSONB cannot hold NUL characters; keep the body as text instead.
        return Decoded(None, as_text(), "body contains NUL characters")
    problem = _unstorable(payload, MAX_JSON_DEPTH)
    if problem is not None:
        return Decoded(None, as_text(), problem)
    return Decoded(payload)


def body_digest(raw_body: bytes) -> str:
    """An external id for a body that names none (or that could not be read)."""
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


@dataclass(frozen=True)
class Inbound:
    """One item to store: its natural id within the source's scope, and its verified payload."""

    external_id: str
    payload: Any
    event_type: str | None = None


@dataclass(frozen=True)
class Stored:
    external_id: str
    id: uuid.UUID | None  # None: a duplicate of an item stored before

    @property
    def duplicate(self) -> bool:
        return self.id is None


@dataclass(frozen=True)
class Outcome:
    """What a handler made of an item."""

    status: InboxStatus
    error: str | None = None

    @classmethod
    def processed(cls) -> Outcome:
        return cls(InboxStatus.processed)

    @classmethod
    def ignored(cls, reason: str) -> Outcome:
        return cls(InboxStatus.ignored, reason[:1000])

    @classmethod
    def failed(cls, reason: str) -> Outcome:
        return cls(InboxStatus.failed, reason[:1000])


@dataclass(frozen=True, slots=True)
class ClaimedItem:
    """An item of a claimed batch as a batch handler gets it: the columns a handler reads,
    not an ORM instance (a batch claims a hundred; the row's status is set by statement)."""

    id: uuid.UUID
    scope: str
    event_type: str | None
    payload: Any


Handler = Callable[[AsyncSession, InboxItem], Awaitable[Outcome]]
# A whole claimed batch at once (all of one scope, oldest first): one outcome per item, in
# order. Lets a source apply a batch with set-based statements instead of item by item.
BatchHandler = Callable[[AsyncSession, Sequence[ClaimedItem]], Awaitable[list[Outcome]]]

_sources: dict[str, InboxSource] = {}
_inbox_table: Table = InboxItem.__table__  # type: ignore[assignment]
# "Still waiting", written into the SQL rather than bound: the waiting-item indexes are partial
# (`WHERE status = 'received'`), and a prepared statement's generic plan, which PostgreSQL
# switches to after five runs, can use them only when the statement says the value itself. With
# a bound status the claim scanned the whole table (30 ms a batch at 20k stored items).
_WAITING_STATUS = written_in(_inbox_table.c.status, InboxStatus.received)
# Built once; each store runs it with its rows.
_STORE = (
    insert(_inbox_table)
    .on_conflict_do_nothing(constraint="uq_inbox_items_source_key")
    .returning(_inbox_table.c.external_id, _inbox_table.c.id)
)
# `store_now`'s statement: one row, compiled once, run outside any transaction. The JSON goes
# in as text (the encoder is ours, not the pool's codec: see `_json_text`).
_STORE_ONE = RawQuery(
    insert(_inbox_table)
    .values(
        id=bindparam("id"),
        source=bindparam("source"),
        scope=bindparam("scope"),
        external_id=bindparam("external_id"),
        event_type=bindparam("event_type"),
        payload=cast(bindparam("payload", type_=Text), JSONB),
        headers=cast(bindparam("headers", type_=Text), JSONB),
        status=InboxStatus.received.value,
        attempts=0,
        received_at=bindparam("received_at"),
    )
    .on_conflict_do_nothing(constraint="uq_inbox_items_source_key")
    .returning(_inbox_table.c.id)
)


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        # An integer past 64 bits: valid JSON, and JSONB keeps it; orjson cannot write it.
        return json.dumps(value)


# A batch for a batch handler: the oldest waiting items of one scope that no other
# transaction holds. The payload comes as JSONB's text, read by orjson (`_stored_payload`).
_CLAIM_BATCH = (
    select(
        _inbox_table.c.id,
        _inbox_table.c.scope,
        _inbox_table.c.event_type,
        cast(_inbox_table.c.payload, Text).label("payload"),
    )
    .where(
        _inbox_table.c.source == bindparam("source"),
        _inbox_table.c.scope == bindparam("scope"),
        _WAITING_STATUS,
    )
    .order_by(_inbox_table.c.received_at, _inbox_table.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)


def _stored_payload(stored: str | None) -> Any:
    """A stored payload's JSONB text as `json.loads` reads it (what the ORM column gives)."""
    return None if stored is None else jsontext.loads(stored)


# Whether a scope has an item waiting (a drain's last look), and which scopes have items
# waiting longer than they should (`drain_inboxes`): compiled once, run outside a transaction.
_WAITING = RawQuery(
    select(_inbox_table.c.id)
    .where(
        _inbox_table.c.source == bindparam("source"),
        _inbox_table.c.scope == bindparam("scope"),
        _WAITING_STATUS,
    )
    .limit(1)
)
_STRANDED_SCOPES = RawQuery(
    select(_inbox_table.c.source, _inbox_table.c.scope)
    .where(
        _WAITING_STATUS,
        _inbox_table.c.received_at < bindparam("before"),
    )
    .distinct()
    .limit(bindparam("limit"))
)


# What a batch handler's items became: one statement per distinct outcome (usually one).
_FINISH = (
    update(_inbox_table)
    .where(_inbox_table.c.id == any_(bindparam("ids", type_=ARRAY(Uuid))))
    .values(
        status=bindparam("status"),
        error=bindparam("error"),
        attempts=_inbox_table.c.attempts + 1,
        processed_at=bindparam("at"),
    )
)


class InboxSource:
    """One kind of inbound webhook: its name, what to keep of a call, and how to use an item."""

    def __init__(
        self,
        name: str,
        *,
        handler: Handler,
        job_name: str,
        batch_handler: BatchHandler | None = None,
        headers: Collection[str] = (),
        max_tries: int = 6,
        timeout: float = 120,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if name in _sources:
            raise ValueError(f"inbox source {name!r} is declared twice")
        self.name = name
        self.handler = handler
        # A claimed batch goes to `batch_handler` when the source has one; a batch that raises
        # still falls back to `handler` item by item (the poison item is marked failed).
        self.batch_handler = batch_handler
        self.kept_headers = COMMON_HEADERS | {h.lower() for h in headers}

        async def process_item(ctx: JobContext, item_id: str) -> str:
            return await self.process(item_id, try_number=int(ctx.get("job_try") or 1))

        async def drain_items(ctx: JobContext, scope: str) -> int:
            return await self.drain(scope, try_number=int(ctx.get("job_try") or 1))

        self.max_tries = max_tries
        self.batch_size = batch_size
        # One item: what the sweeper queues for a row whose job was lost.
        self.job: Job[[str], str] = job(job_name, max_tries=max_tries, timeout=timeout)(
            process_item
        )
        # Everything waiting in one scope, a batch per transaction: what a store queues.
        self.batch_job: Job[[str], int] = job(
            f"{job_name}_batch",
            max_tries=max_tries,
            timeout=DRAIN_BUDGET_SECONDS + timeout,
            keep_result=0,
        )(drain_items)
        # Scope -> [the slot a drain was last queued in, drains queued in it]: see `queue_drain`.
        self._drains_queued: dict[str, list[int]] = {}
        _sources[name] = self

    def job_id(self, item_id: uuid.UUID | str) -> str:
        return f"{self.job.name}:{item_id}"

    def drain_job_id(self, scope: str, tag: str | None = None) -> str:
        """Stores within one slot share a drain job; `tag` names any other (a continuation)."""
        if tag is None:
            tag = str(math.floor(time.time() / DRAIN_SLOT_SECONDS))
        return f"{self.batch_job.name}:{scope}:{tag}"

    def headers_to_keep(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {k.lower(): v[:500] for k, v in headers.items() if k.lower() in self.kept_headers}

    # Storing ----------------------------------------------------------------------------

    async def store(
        self,
        session: AsyncSession,
        items: Sequence[Inbound],
        *,
        headers: Mapping[str, str],
        scope: str = "",
    ) -> list[Stored]:
        """Store every new item (one statement) and queue its processing after commit."""
        unique = list({item.external_id[:300]: item for item in items}.items())
        if not unique:
            return []
        kept = self.headers_to_keep(headers)
        now = datetime.now(UTC)
        rows = [
            {
                "id": new_id(),
                "source": self.name,
                "scope": scope,
                "external_id": external_id,
                "event_type": item.event_type[:100] if item.event_type else None,
                "payload": item.payload,
                "headers": kept,
                "status": InboxStatus.received,
                "attempts": 0,
                "received_at": now,
            }
            for external_id, item in unique
        ]
        result = await session.execute(_STORE, rows)
        inserted = {external_id: item_id for external_id, item_id in result.tuples()}
        if inserted:
            # One drain job for the scope, not one job per item: it takes them in batches.
            after_commit(session, lambda: self.queue_drain(scope))
        return [Stored(external_id, inserted.get(external_id)) for external_id, _ in unique]

    async def store_now(
        self, item: Inbound, *, headers: Mapping[str, str], scope: str = ""
    ) -> Stored:
        """`store` for a receiver that stores one item and nothing else: one autocommit
        statement on a raw connection (durable when it returns, no unit of work), then the
        drain queued (`queue_drain`)."""
        external_id = item.external_id[:300]
        async with no_transaction() as conn:
            row = await _STORE_ONE.fetchrow(
                conn,
                id=new_id(),
                source=self.name,
                scope=scope,
                external_id=external_id,
                event_type=item.event_type[:100] if item.event_type else None,
                payload=_json_text(item.payload),
                headers=_json_text(self.headers_to_keep(headers)),
                received_at=datetime.now(UTC),
            )
        item_id: uuid.UUID | None = None if row is None else row[0]
        if item_id is not None:
            await self.queue_drain(scope)
        return Stored(external_id, item_id)

    async def queue_drain(self, scope: str) -> None:
        """Queue the scope's drain for items committed before this call, with at most two
        queueing round trips per slot (`DRAIN_SLOT_SECONDS`) and scope in this process:

        * the slot's first store queues a drain to run at once (the slot's job id);
        * its second queues one deferred to the slot's end (`<slot>:end`);
        * any later store in the slot queues nothing: its row committed before the slot
          ended, so that deferred drain (or the drain holding the scope's lock then, which
          looks again after letting go) claims it. (The slot's end is by this process's
          clock; a worker whose clock runs ahead could start that drain early, and what it
          missed waits for `drain_inboxes`.)

        Never raises: the rows are stored already. A drain lost to a Redis outage is queued
        again by `drain_inboxes` (every second) once Redis is back, and `sweep_inbox` behind it.
        """
        now = time.time()
        slot = math.floor(now / DRAIN_SLOT_SECONDS)
        queued = self._drains_queued.get(scope)
        if queued is None or queued[0] != slot:
            if len(self._drains_queued) >= 4096:
                self._drains_queued.clear()  # scopes quiet since their last slot
            self._drains_queued[scope] = [slot, 1]
            tag, defer = str(slot), None
        elif queued[1] == 1:
            queued[1] = 2
            tag = f"{slot}:end"
            defer = timedelta(seconds=(slot + 1) * DRAIN_SLOT_SECONDS - now)
        else:
            return
        try:
            await self.batch_job.options(
                job_id=self.drain_job_id(scope, tag), defer_by=defer
            ).enqueue(scope)
        except Exception:
            logger.warning(
                "could not queue the %s drain of %r; drain_inboxes will",
                self.name,
                scope,
                exc_info=True,
            )

    async def store_unreadable(
        self,
        session: AsyncSession,
        raw_body: bytes,
        decoded: Decoded,
        *,
        headers: Mapping[str, str],
        scope: str = "",
    ) -> Stored:
        """Keep a body that cannot be used as `failed`, with the reason; nothing processes it."""
        external_id = body_digest(raw_body)
        now = datetime.now(UTC)
        item_id = await session.scalar(
            insert(InboxItem)
            .values(
                id=new_id(),
                source=self.name,
                scope=scope,
                external_id=external_id,
                payload=None,
                raw_body=decoded.text,
                headers=self.headers_to_keep(headers),
                status=InboxStatus.failed,
                error=decoded.problem,
                attempts=0,
                received_at=now,
                processed_at=now,
            )
            .on_conflict_do_nothing(constraint="uq_inbox_items_source_key")
            .returning(InboxItem.id)
        )
        logger.warning("stored an unusable %s webhook: %s", self.name, decoded.problem)
        return Stored(external_id, item_id)

    # Processing -------------------------------------------------------------------------

    async def drain(self, scope: str, *, try_number: int = 1) -> int:
        """The batch job: process the scope's waiting items, a batch per transaction, until
        none is left (or the budget is spent; a fresh job continues).

        One drain per scope runs at a time (a Redis lock), so the items of one WhatsApp session
        are applied in the order they arrived and two batches never wait on each other's
        chats. A drain that finds the lock taken leaves: the holder looks for new items once
        more after letting go. Stores queue a drain after commit; `drain_inboxes` (every
        second) and `sweep_inbox` pick up what a lost job left behind.
        """
        redis = get_redis()
        lock = f"{DRAIN_LOCK_PREFIX}{self.name}:{scope}"
        token = uuid.uuid4().hex
        lock_ms = int((DRAIN_BUDGET_SECONDS + 60) * 1000)
        done = 0
        started = time.monotonic()
        while True:
            if not await redis.set(lock, token, nx=True, px=lock_ms):
                return done
            try:
                while time.monotonic() - started < DRAIN_BUDGET_SECONDS:
                    count = await self.process_batch(scope, try_number=try_number)
                    if count == 0:
                        break
                    done += count
                    if count < self.batch_size:
                        await asyncio.sleep(DRAIN_GATHER_SECONDS)
                else:
                    await self.batch_job.options(
                        job_id=self.drain_job_id(scope, f"more:{token}")
                    ).enqueue(scope)
                    return done
            finally:
                if await redis.get(lock) == token.encode():
                    await redis.delete(lock)
            # An item stored after the last claim, whose own drain found the lock taken.
            if not await self.waiting(scope):
                return done

    async def waiting(self, scope: str) -> bool:
        async with no_transaction() as conn:
            found = await _WAITING.fetchrow(conn, source=self.name, scope=scope)
        return found is not None

    async def process_batch(self, scope: str, *, try_number: int = 1) -> int:
        """Claim up to `batch_size` waiting items of the scope (oldest first, `SKIP LOCKED`:
        never an item another transaction holds), run the handler on each in one transaction
        (or the batch handler on all of them, their statuses then set by one statement per
        distinct outcome), commit once. Returns how many were claimed.

        If any item raises, the whole batch rolls back and each of its items runs alone
        (`process`): the bad one is marked failed, the rest commit. A lost race (deadlock)
        retries the batch as `process` does an item."""
        claimed: list[uuid.UUID] = []
        try:
            async with unit_of_work() as session:
                if self.batch_handler is not None:
                    batch = [
                        ClaimedItem(row.id, row.scope, row.event_type, _stored_payload(row.payload))
                        for row in await session.execute(
                            _CLAIM_BATCH,
                            {"source": self.name, "scope": scope, "limit": self.batch_size},
                        )
                    ]
                    claimed = [item.id for item in batch]
                    if batch:
                        outcomes = await self.batch_handler(session, batch)
                        await _finish(session, batch, outcomes, datetime.now(UTC))
                    return len(claimed)
                items = list(
                    await session.scalars(
                        select(InboxItem)
                        .where(
                            InboxItem.source == self.name,
                            InboxItem.scope == scope,
                            _WAITING_STATUS,
                        )
                        .order_by(InboxItem.received_at, InboxItem.id)
                        .limit(self.batch_size)
                        .with_for_update(skip_locked=True)
                    )
                )
                claimed = [item.id for item in items]
                now = datetime.now(UTC)
                for item in items:
                    item.attempts += 1
                    item.processed_at = now
                    outcome = await self.handler(session, item)
                    item.status, item.error = outcome.status, outcome.error
            return len(claimed)
        except Exception as exc:
            if not claimed:
                raise
            if is_transient(exc) and try_number < self.max_tries:
                delay = TRANSIENT_RETRY_BASE * 2 ** (try_number - 1)
                logger.warning(
                    "a batch of %d %s inbox items lost a race (%s); retrying in %.1fs",
                    len(claimed),
                    self.name,
                    _reason(exc),
                    delay.total_seconds(),
                )
                raise Retry(defer=delay) from exc
            logger.warning(
                "a batch of %d %s inbox items failed (%s); taking them one by one",
                len(claimed),
                self.name,
                _reason(exc),
            )
            for item_id in claimed:
                await self.process(str(item_id), try_number=try_number)
            return len(claimed)

    async def process(self, item_id: str, *, try_number: int = 1) -> str:
        """The job body: run the handler on one stored item; failures land on the row.

        A deadlock or serialization failure is a race lost against another transaction, not a
        bad item: its work rolls back, the row stays `received` and the job runs again with
        backoff (arq `Retry`) while tries remain; only then is the row marked `failed`.
        """
        try:
            parsed = uuid.UUID(item_id)
        except ValueError:
            return "skipped"
        try:
            async with unit_of_work() as session:
                item = await session.scalar(
                    select(InboxItem)
                    .where(
                        InboxItem.id == parsed,
                        InboxItem.source == self.name,
                        _WAITING_STATUS,
                    )
                    .with_for_update(skip_locked=True)
                )
                if item is None:
                    return "skipped"  # done already, or another run holds it
                item.attempts += 1
                item.processed_at = datetime.now(UTC)
                outcome = await self.handler(session, item)
                item.status, item.error = outcome.status, outcome.error
                return outcome.status.value
        except Exception as exc:
            # The handler's work rolled back with its events; the payload stays as it was.
            if is_transient(exc) and try_number < self.max_tries:
                delay = TRANSIENT_RETRY_BASE * 2 ** (try_number - 1)
                logger.warning(
                    "%s inbox item %s lost a race (%s); retrying in %.1fs",
                    self.name,
                    item_id,
                    _reason(exc),
                    delay.total_seconds(),
                )
                raise Retry(defer=delay) from exc
            logger.exception("%s inbox item %s failed", self.name, item_id)
            await _mark_failed(parsed, _reason(exc))
            return InboxStatus.failed.value


async def _finish(
    session: AsyncSession,
    items: Sequence[ClaimedItem],
    outcomes: Sequence[Outcome],
    now: datetime,
) -> None:
    """Record a batch handler's outcomes: one UPDATE per distinct outcome, not one per item."""
    if len(outcomes) != len(items):
        raise RuntimeError(f"a batch handler returned {len(outcomes)} outcomes for {len(items)}")
    groups: dict[tuple[InboxStatus, str | None], list[uuid.UUID]] = {}
    for item, outcome in zip(items, outcomes, strict=True):
        groups.setdefault((outcome.status, outcome.error), []).append(item.id)
    for (status, error), ids in groups.items():
        await session.execute(_FINISH, {"ids": ids, "status": status, "error": error, "at": now})


def is_transient(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the same work succeeds when tried again."""
    return isinstance(exc, DBAPIError) and (
        getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
    )


def _reason(exc: BaseException) -> str:
    # A database error's text carries the whole statement; its first line says enough.
    detail = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
    return f"{type(exc).__name__}: {detail}"[:1000]


async def _mark_failed(item_id: uuid.UUID, error: str) -> None:
    async with unit_of_work() as session:
        item = await session.scalar(
            select(InboxItem).where(InboxItem.id == item_id).with_for_update()
        )
        if item is not None and item.status == InboxStatus.received:
            item.status, item.error = InboxStatus.failed, error
            item.attempts += 1
            item.processed_at = datetime.now(UTC)


def inbox_sources() -> list[InboxSource]:
    return list(_sources.values())


def forget_queued_drains() -> None:
    """Forget which drains this process queued (`queue_drain`): for a Redis emptied by hand
    (the tests, between scenarios), whose drains are gone with it."""
    for source in _sources.values():
        source._drains_queued.clear()


@cron_job("drain_inboxes", second=range(60), timeout=30)
async def drain_inboxes(ctx: JobContext) -> int:
    """Every second: a drain for each scope with items waiting longer than a slot (their
    drain job found the lock taken just as its holder finished, or was lost)."""
    # One statement on a connection outside any transaction: this runs every second, mostly
    # finding nothing.
    async with no_transaction() as conn:
        rows = await _STRANDED_SCOPES.fetch(
            conn, before=datetime.now(UTC) - timedelta(seconds=1), limit=SWEEP_BATCH
        )
    queued = 0
    tick = str(math.floor(time.time()))
    for name, scope in rows:
        source = _sources.get(name)
        if source is not None:
            job_id = source.drain_job_id(scope, f"tick:{tick}")
            queued += await source.batch_job.options(job_id=job_id).enqueue(scope)
    return queued


@cron_job("sweep_inbox", second={15, 45})
async def sweep_inbox(ctx: JobContext) -> int:
    """Re-queue items of every source whose processing job was lost."""
    async with unit_of_work() as session:
        rows = (
            await session.execute(
                select(InboxItem.source, InboxItem.id)
                .where(
                    _WAITING_STATUS,
                    InboxItem.received_at < datetime.now(UTC) - STUCK_AFTER,
                )
                .order_by(InboxItem.received_at)
                .limit(SWEEP_BATCH)
            )
        ).all()
    requeued = 0
    for source in _sources.values():
        lost = [
            Lost(str(item_id), source.job_id(item_id))
            for name, item_id in rows
            if name == source.name
        ]
        requeued += await requeue(source.job, lost)
    if requeued:
        logger.info("re-queued %d inbox item(s)", requeued)
    return requeued
