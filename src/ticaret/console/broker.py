"""One Redis pub/sub connection per process, fanned out to every console stream it serves.

A thousand open consoles cost one Redis connection and one subscription per account, not a
thousand. Each stream gets a bounded local queue. Whenever a stream could have missed something
(its queue overflowed, the Redis connection dropped, the app is stopping) the stream is ended
instead: the browser reconnects with `Last-Event-ID` and the outbox replays the gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from ticaret.core.events import account_channel
from ticaret.core.queue import get_redis

logger = logging.getLogger("ticaret.console")

QUEUE_SIZE = 1000
SUBSCRIBE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One wake-up of an account's channel (`core.events.wake_up`: the ids and types of the
    events one commit relayed), parsed once per process and shared by every stream that gets
    it. Streams read the events themselves from the outbox."""

    raw: str
    payload: dict[str, Any]


class Subscription:
    """The live events of one account, for one stream."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(maxsize=QUEUE_SIZE + 1)
        self.ended = False

    def offer(self, message: LiveEvent) -> None:
        if self.ended:
            return
        if self._queue.qsize() >= QUEUE_SIZE:
            # Too slow a reader: end the stream rather than silently skip events.
            self.end()
            return
        self._queue.put_nowait(message)

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)

    async def next_message(self) -> LiveEvent | None:
        """The next event, or None once the stream must end."""
        return await self._queue.get()

    def drain(self) -> None:
        """Forget what is queued (one outbox read covers it all), keeping an end marker."""
        while not self._queue.empty():
            if self._queue.get_nowait() is None:
                self._queue.put_nowait(None)
                return


class EventBroker:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}
        # SUBSCRIBE commands sent and not yet confirmed, per channel, in order.
        self._pending: dict[str, deque[asyncio.Event]] = {}
        self._channels: set[str] = set()
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def stream_count(self) -> int:
        return sum(len(subs) for subs in self._subscribers.values())

    async def subscribe(self, account_id: object) -> Subscription:
        """Subscribe and return once Redis has confirmed, so nothing published after is missed."""
        if self._closed:
            raise RuntimeError("the event broker is closed")
        channel = account_channel(str(account_id))
        subscription = Subscription(channel)
        confirmed: asyncio.Event | None = None
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = get_redis().pubsub()
            self._subscribers.setdefault(channel, set()).add(subscription)
            if channel not in self._channels:
                confirmed = asyncio.Event()
                self._pending.setdefault(channel, deque()).append(confirmed)
                self._channels.add(channel)
                try:
                    await self._pubsub.subscribe(channel)
                except (RedisError, OSError):
                    self._subscribers[channel].discard(subscription)
                    self._channels.discard(channel)
                    self._pending[channel].pop()
                    raise
            else:
                # Already subscribed, or a SUBSCRIBE for it is on its way: wait for the newest.
                pending = self._pending.get(channel)
                confirmed = pending[-1] if pending else None
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(self._pubsub))
        if confirmed is not None:
            try:
                await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_TIMEOUT_SECONDS)
            except TimeoutError:
                self.unsubscribe(subscription)
                raise
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.end()
        subscribers = self._subscribers.get(subscription.channel)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if not subscribers:
            del self._subscribers[subscription.channel]
            if not self._closed:
                # The UNSUBSCRIBE goes out later: this runs in a stream's cleanup, maybe cancelled.
                asyncio.get_running_loop().create_task(self._drop_channel(subscription.channel))

    async def _drop_channel(self, channel: str) -> None:
        async with self._lock:
            if self._subscribers.get(channel) or channel not in self._channels:
                return
            self._channels.discard(channel)
            if self._pubsub is not None:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(channel)

    async def _read(self, pubsub: PubSub) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is None:
                    continue
                kind = message["type"]
                channel = _text(message["channel"])
                if kind == "message":
                    subscribers = tuple(self._subscribers.get(channel, ()))
                    if not subscribers:
                        continue
                    event = _parse(_text(message["data"]))
                    if event is None:
                        continue
                    for subscription in subscribers:
                        subscription.offer(event)
                elif kind == "subscribe":
                    pending = self._pending.get(channel)
                    if pending:
                        pending.popleft().set()
                        if not pending:
                            del self._pending[channel]
        except asyncio.CancelledError:
            raise
        except (RedisError, OSError, RuntimeError):
            logger.warning(
                "console pub/sub connection lost; open streams will resume", exc_info=True
            )
            await self._reset(pubsub)

    async def _reset(self, pubsub: PubSub) -> None:
        """Forget the connection and end every stream: each resumes from the outbox."""
        async with self._lock:
            if self._pubsub is pubsub:
                self._pubsub = None
                self._channels.clear()
                for waiters in self._pending.values():
                    for waiter in waiters:
                        waiter.set()
                self._pending.clear()
                subscribers = [s for subs in self._subscribers.values() for s in subs]
                self._subscribers.clear()
                for subscription in subscribers:
                    subscription.end()
        with contextlib.suppress(RedisError, OSError, RuntimeError):
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        self._closed = True
        for subscription in [s for subs in self._subscribers.values() for s in subs]:
            subscription.end()
        self._subscribers.clear()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError, RuntimeError):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        self._pubsub = None


def _parse(raw: str) -> LiveEvent | None:
    try:
        payload = json.loads(raw)
    except ValueError:
        logger.warning("ignoring a console message that is not JSON")
        return None
    return LiveEvent(raw, payload) if isinstance(payload, dict) else None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


_broker: EventBroker | None = None


def get_broker() -> EventBroker:
    global _broker
    if _broker is None or _broker._closed:
        _broker = EventBroker()
    return _broker


async def close_broker() -> None:
    global _broker
    if _broker is not None:
        await _broker.close()
    _broker = None
