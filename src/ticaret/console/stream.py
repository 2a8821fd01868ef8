"""The console's event stream: the account's outbox, read in replay order, woken by Redis.

The stream hands out events in the order of (writing transaction id, seq), and only below the
*horizon*: the oldest transaction still running (`pg_snapshot_xmin`). Every transaction below it
has ended, so no event can ever appear behind what a client was given. Ordering by `seq` alone
was not enough: `seq` is taken at insert, so a transaction can commit a lower number after
another committed a higher one, and a client that resumed from the higher one in that window
never saw the lower (the hold-back is what that costs: an event waits while an older transaction
is still running, usually milliseconds).

Redis pub/sub only wakes the stream: take the client's position, subscribe (confirmed by Redis),
then read the outbox from that position, and again whenever the account publishes an event (or,
while events wait behind an older transaction, every `HOLD_POLL_SECONDS`). Every event comes
from the outbox, after the client's position, so there is no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sse_starlette import ServerSentEvent

from ticaret.console import repository
from ticaret.console.broker import EventBroker
from ticaret.core.db import get_sessionmaker
from ticaret.core.events import event_payload
from ticaret.models import Event

# A client away for longer than this many events gets the newest ones (and a comment saying so).
REPLAY_LIMIT = 1000
# Events read from the outbox per query.
BATCH = 500
# While events wait behind an older, still running transaction, look again this often.
HOLD_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class StreamFilter:
    # Type prefixes as the console sends them ("wa.message", "crm."); "wa.*" means "wa.".
    type_prefixes: tuple[str, ...] = ()
    provider_session_id: str | None = None

    @classmethod
    def parse(cls, types: str | None, provider_session_id: str | None) -> StreamFilter:
        prefixes = tuple(
            p.strip().rstrip("*") for p in (types or "").split(",") if p.strip().rstrip("*")
        )
        return cls(prefixes, provider_session_id or None)

    def matches(self, payload: dict[str, Any]) -> bool:
        event_type = str(payload.get("type", ""))
        if self.type_prefixes and not event_type.startswith(self.type_prefixes):
            return False
        if self.provider_session_id is not None:
            data = payload.get("data")
            session = data.get("providerSessionId") if isinstance(data, dict) else None
            return session == self.provider_session_id
        return True


def _sse(event: Event) -> ServerSentEvent:
    payload = event_payload(event)
    return ServerSentEvent(
        id=event.id, event=event.type, data=json.dumps(payload, separators=(",", ":"))
    )


async def _start(
    account_id: uuid.UUID, last_event_id: str | None, stream_filter: StreamFilter
) -> tuple[repository.Position, list[Event], bool]:
    """Where the stream starts, what it replays first, and whether that replay was cut.

    An unknown id (or another account's) replays nothing: the stream starts from now."""
    async with get_sessionmaker()() as session:
        known = (
            await repository.event_position(session, account_id, last_event_id)
            if last_event_id
            else None
        )
        if known is None:
            return await repository.tail_position(session, account_id), [], False
        newest = await repository.events_after(
            session,
            account_id,
            known,
            type_prefixes=stream_filter.type_prefixes,
            provider_session_id=stream_filter.provider_session_id,
            limit=REPLAY_LIMIT + 1,
            newest=True,
        )
    truncated = len(newest) > REPLAY_LIMIT
    replay = list(reversed(newest[:REPLAY_LIMIT]))
    if truncated:
        # Skipped ones are older than the oldest replayed: start right before it.
        first = replay[0]
        known = (first.xid, first.seq - 1)
    return known, replay, truncated


async def _next_batch(
    account_id: uuid.UUID, position: repository.Position, stream_filter: StreamFilter
) -> tuple[list[Event], bool]:
    """The events after `position` below the horizon, and whether more wait above it."""
    async with get_sessionmaker()() as session:
        rows = await repository.events_after(
            session,
            account_id,
            position,
            type_prefixes=stream_filter.type_prefixes,
            provider_session_id=stream_filter.provider_session_id,
            limit=BATCH,
        )
        waiting = len(rows) < BATCH and await repository.held_back(
            session,
            account_id,
            (rows[-1].xid, rows[-1].seq) if rows else position,
            type_prefixes=stream_filter.type_prefixes,
            provider_session_id=stream_filter.provider_session_id,
        )
    return rows, waiting


async def account_events(
    broker: EventBroker,
    account_id: uuid.UUID,
    *,
    last_event_id: str | None,
    stream_filter: StreamFilter,
) -> AsyncIterator[ServerSentEvent]:
    # The starting position is read before subscribing: an event committed in between comes
    # after it, so the first read below finds it (read after, "now" would have skipped it).
    position, replay, truncated = await _start(account_id, last_event_id, stream_filter)
    subscription = await broker.subscribe(account_id)
    try:
        if truncated:
            yield ServerSentEvent(comment=f"replay limited to the newest {REPLAY_LIMIT} events")
        for event in replay:
            position = (event.xid, event.seq)
            yield _sse(event)
        while True:
            rows, waiting = await _next_batch(account_id, position, stream_filter)
            for event in rows:
                position = (event.xid, event.seq)
                yield _sse(event)
            if len(rows) == BATCH:
                continue
            try:
                woken = await asyncio.wait_for(
                    subscription.next_message(), HOLD_POLL_SECONDS if waiting else None
                )
            except TimeoutError:
                continue
            if woken is None:
                return  # the client reconnects with Last-Event-ID and resumes from the outbox
            subscription.drain()
    finally:
        broker.unsubscribe(subscription)
