"""Short-lived in-process caches, dropped everywhere at once through Redis pub/sub.

Hot reads that every request repeats (who is calling, their role in the account, whether an
account has webhooks) are kept in the process for a few seconds:

    PRINCIPALS = SharedCache("principals", ttl=lambda: get_settings().auth.cache_ttl_seconds)

    entry = PRINCIPALS.get(key)
    if entry is MISSING:
        epoch = PRINCIPALS.epoch
        entry = await load_from_database()
        PRINCIPALS.put(key, entry, epoch, tags=[user_id])

A change that makes entries wrong (a key revoked, a role changed, a logout) drops them by tag:
`invalidate_after_commit(session, tags)` drops them in this process once the transaction has
committed and publishes the tags on one Redis channel that every process listens to.

Three things keep a stale entry from outliving its cause:

* the TTL bounds how long any entry lives, whatever happens to pub/sub (a lost message, a
  process that missed it): state it where the cache is declared;
* a load that started before an invalidation is not stored (`epoch`): it may have read the old
  row;
* while this process is not subscribed (starting, Redis away) nothing is cached at all, and every
  cache is emptied when the subscription drops, since messages may have been missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import after_commit
from ticaret.core.queue import get_redis

logger = logging.getLogger("ticaret.cache")

CHANNEL = "ticaret:cache-invalidations"
RECONNECT_DELAY_SECONDS = 1.0
MAX_ENTRIES = 50_000

V = TypeVar("V")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


@dataclass(slots=True)
class _Entry(Generic[V]):
    value: V
    expires: float
    tags: tuple[str, ...]


_caches: dict[str, SharedCache[Any]] = {}


class SharedCache(Generic[V]):
    def __init__(self, name: str, *, ttl: Callable[[], float]) -> None:
        if name in _caches:
            raise ValueError(f"cache {name!r} is declared twice")
        self.name = name
        self._ttl = ttl
        self._entries: dict[Hashable, _Entry[V]] = {}
        self._by_tag: dict[str, set[Hashable]] = {}
        # Bumped by every invalidation: a load begun before it may have read the old row.
        self.epoch = 0
        _caches[name] = self

    def get(self, key: Hashable) -> V | _Missing:
        if not _listener.subscribed:
            return MISSING
        entry = self._entries.get(key)
        if entry is None:
            return MISSING
        if entry.expires <= time.monotonic():
            self._forget(key, entry)
            return MISSING
        return entry.value

    def put(self, key: Hashable, value: V, epoch: int, *, tags: Iterable[str] = ()) -> None:
        """Keep `value` unless an invalidation happened since `epoch` was read."""
        ttl = self._ttl()
        if not _listener.subscribed or epoch != self.epoch or ttl <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self.clear()
        old = self._entries.get(key)
        if old is not None:
            self._forget(key, old)
        entry = _Entry(value, time.monotonic() + ttl, tuple(tags))
        self._entries[key] = entry
        for tag in entry.tags:
            self._by_tag.setdefault(tag, set()).add(key)

    def drop(self, tags: Iterable[str]) -> None:
        """Drop this process's entries carrying any of `tags` (no message to other processes);
        the tag `*` drops them all."""
        tags = list(tags)
        if "*" in tags:
            self.clear()
            return
        self.epoch += 1
        for tag in tags:
            for key in self._by_tag.pop(tag, set()):
                entry = self._entries.get(key)
                if entry is not None:
                    self._forget(key, entry)

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()
        self._by_tag.clear()

    def _forget(self, key: Hashable, entry: _Entry[V]) -> None:
        self._entries.pop(key, None)
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]

    async def invalidate(self, tags: Iterable[str]) -> None:
        """Drop entries with these tags here, then in every other process."""
        tags = [str(tag) for tag in tags]
        self.drop(tags)
        await _publish(self.name, tags)

    def invalidate_after_commit(self, session: AsyncSession, tags: Iterable[str]) -> None:
        """Drop entries with these tags everywhere once `session` commits.

        Dropped here before the commit too, so this process cannot keep serving the old value
        while the commit is in flight.
        """
        tags = [str(tag) for tag in tags]
        self.drop(tags)

        async def _after() -> None:
            await self.invalidate(tags)

        after_commit(session, _after)


async def _publish(name: str, tags: list[str]) -> None:
    try:
        await get_redis().publish(CHANNEL, json.dumps({"cache": name, "tags": tags}))
    except (RedisError, OSError, RuntimeError):
        # Other processes keep their entries until the TTL: the bound every cache states.
        logger.warning("could not publish a %s cache invalidation", name, exc_info=True)


def clear_caches() -> None:
    for cache in _caches.values():
        cache.clear()


def _apply(raw: bytes | str) -> None:
    try:
        message = json.loads(raw)
        cache = _caches.get(str(message["cache"]))
        tags = [str(tag) for tag in message["tags"]]
    except (ValueError, KeyError, TypeError):
        logger.warning("ignored a malformed cache invalidation")
        return
    if cache is not None:
        cache.drop(tags)


class _Listener:
    """The process's one subscription to the invalidation channel."""

    def __init__(self) -> None:
        self.subscribed = False
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self, wait_seconds: float = 5.0) -> None:
        if self._task is None or self._task.done():
            self._ready = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="cache-invalidations")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), wait_seconds)

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._lose()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _lose(self) -> None:
        if self.subscribed:
            self.subscribed = False
        # Whatever was published while we were not listening is unknown: start afresh.
        clear_caches()

    async def _run(self) -> None:
        while True:
            pubsub = get_redis().pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        clear_caches()
                        self.subscribed = True
                        self._ready.set()
                    elif message["type"] == "message":
                        _apply(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("cache invalidation channel lost; caching is off", exc_info=True)
            finally:
                self._lose()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(RECONNECT_DELAY_SECONDS)


_listener = _Listener()


async def start_cache_listener() -> None:
    """Subscribe this process to cache invalidations (API and worker start-up)."""
    await _listener.start()


async def stop_cache_listener() -> None:
    await _listener.stop()
