"""The console's event stream: replay from the outbox after `Last-Event-ID`, then live events.

Order of operations makes the hand-over gap-free: subscribe first (confirmed by Redis), then read
the outbox for what was missed, then forward live events, skipping any the replay already sent.
An event committed before the replay query is in the replay; one committed after it is published
after the subscription exists, so it arrives live.
"""

from __future__ import annotations

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


async def replay_after(
    account_id: uuid.UUID, last_event_id: str, stream_filter: StreamFilter
) -> tuple[list[Event], bool]:
    """Events of the account after `last_event_id`, oldest first, and whether some were cut.

    An id that is unknown (or another account's) replays nothing: the stream starts from now.
    """
    async with get_sessionmaker()() as session:
        last_seq = await repository.event_seq(session, account_id, last_event_id)
        if last_seq is None:
            return [], False
        rows = await repository.newest_events_after(
            session,
            account_id,
            last_seq,
            type_prefixes=stream_filter.type_prefixes,
            provider_session_id=stream_filter.provider_session_id,
            limit=REPLAY_LIMIT + 1,
        )
    truncated = len(rows) > REPLAY_LIMIT
    return list(reversed(rows[:REPLAY_LIMIT])), truncated


def _sse(event_id: str, event_type: str, data: str) -> ServerSentEvent:
    return ServerSentEvent(id=event_id, event=event_type, data=data)


async def account_events(
    broker: EventBroker,
    account_id: uuid.UUID,
    *,
    last_event_id: str | None,
    stream_filter: StreamFilter,
) -> AsyncIterator[ServerSentEvent]:
    subscription = await broker.subscribe(account_id)
    try:
        replayed: set[str] = set()
        if last_event_id:
            events, truncated = await replay_after(account_id, last_event_id, stream_filter)
            if truncated:
                yield ServerSentEvent(comment=f"replay limited to the newest {REPLAY_LIMIT} events")
            for event in events:
                replayed.add(event.id)
                payload = event_payload(event)
                yield _sse(event.id, event.type, json.dumps(payload, separators=(",", ":")))
        while True:
            live = await subscription.next_message()
            if live is None:
                return  # the client reconnects with Last-Event-ID and resumes from the outbox
            if live.id in replayed:
                replayed.discard(live.id)
                continue
            if stream_filter.matches(live.payload):
                yield _sse(live.id, live.type, live.raw)
    finally:
        broker.unsubscribe(subscription)
