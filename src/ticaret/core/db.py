"""Engine, sessions and the unit of work: one transaction per request or job, committed once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

logger = logging.getLogger("ticaret.db")

PostCommitHook = Callable[[], Awaitable[None]]

_engine: AsyncEngine | None = None
# Connections that never open a transaction: reads of hot paths, auth lookups, single-statement
# bookkeeping. A pool of their own, so no checkout switches a connection's mode back and forth.
_autocommit_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def to_async_url(url: str) -> str:
    """Accept `postgres://`, `postgresql://` or `postgresql+asyncpg://` and use asyncpg."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def init_engine(
    url: str, *, pool_size: int = 20, max_overflow: int = 10, autocommit_pool_size: int = 20
) -> AsyncEngine:
    """The process's engines. Size `pool_size` to the transactions a process runs at once
    (requests or jobs in flight): a connection past it is opened for one checkout and closed
    when returned, which at steady load means a new Postgres connection per request."""
    global _engine, _autocommit_engine, _sessionmaker
    options: dict[str, Any] = {
        # No pre-ping (a round trip per checkout); dead connections are recycled instead.
        "pool_recycle": 1800,
        # Server-side timeouts so a stuck statement cannot hold a connection forever.
        "connect_args": {
            "server_settings": {"statement_timeout": "30000", "application_name": "ticaret"}
        },
    }
    _engine = create_async_engine(
        to_async_url(url), pool_size=pool_size, max_overflow=max_overflow, **options
    )
    # No overflow: a read holds its connection for one statement, so waiting for one of these
    # is shorter than opening a new one.
    _autocommit_engine = create_async_engine(
        to_async_url(url),
        pool_size=autocommit_pool_size,
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
        **options,
    )
    _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False, autoflush=False)
    return _engine


async def dispose_engine() -> None:
    global _engine, _autocommit_engine, _sessionmaker
    for engine in (_engine, _autocommit_engine):
        if engine is not None:
            await engine.dispose()
    _engine, _autocommit_engine, _sessionmaker = None, None, None


def get_engine() -> AsyncEngine:
    if _engine is None:
        raise RuntimeError("database engine is not initialised")
    return _engine


def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    if _sessionmaker is None:
        raise RuntimeError("database engine is not initialised")
    return _sessionmaker


def after_commit(session: AsyncSession, hook: PostCommitHook) -> None:
    """Run `hook` once this session's transaction has committed; dropped on rollback."""
    session.info.setdefault("post_commit", []).append(hook)


async def _run_post_commit(session: AsyncSession) -> None:
    hooks: list[PostCommitHook] = session.info.pop("post_commit", [])
    for hook in hooks:
        # The data is durable already; a failed relay/enqueue is retried by the sweepers.
        try:
            await hook()
        except Exception:
            logger.warning("post-commit hook failed; the sweeper will retry", exc_info=True)


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[AsyncSession]:
    """A session whose work commits once at the end (or rolls back on error)."""
    async with get_sessionmaker()() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            session.info.pop("post_commit", None)
            raise
        await _run_post_commit(session)


@asynccontextmanager
async def no_transaction() -> AsyncIterator[AsyncConnection]:
    """A connection outside any transaction: each statement stands alone, with no BEGIN/COMMIT
    round trips. For reads of hot paths and single-statement bookkeeping, never for work that
    must commit together."""
    if _autocommit_engine is None:
        raise RuntimeError("database engine is not initialised")
    async with _autocommit_engine.connect() as conn:
        yield conn


# What read-only routes use: the same, under the name that says what it is for.
reading = no_transaction


async def request_session() -> AsyncIterator[AsyncSession]:
    async with unit_of_work() as session:
        yield session


# scope="function": the commit (and the post-commit relay) runs when the route returns,
# before the response is sent, so a client never sees a success that was not stored.
DbSession = Annotated[AsyncSession, Depends(request_session, scope="function")]
