"""Engine, sessions and the unit of work: one transaction per request or job, committed once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

logger = logging.getLogger("ticaret.db")

PostCommitHook = Callable[[], Awaitable[None]]

_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def to_async_url(url: str) -> str:
    """Accept `postgres://`, `postgresql://` or `postgresql+asyncpg://` and use asyncpg."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def init_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    global _engine, _sessionmaker
    _engine = create_async_engine(
        to_async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping (a round trip per checkout); dead connections are recycled instead.
        pool_recycle=1800,
        # Server-side timeouts so a stuck statement cannot hold a connection forever.
        connect_args={
            "server_settings": {"statement_timeout": "30000", "application_name": "ticaret"}
        },
    )
    _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False, autoflush=False)
    return _engine


async def dispose_engine() -> None:
    global _engine, _sessionmaker
    if _engine is not None:
        await _engine.dispose()
    _engine, _sessionmaker = None, None


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


async def request_session() -> AsyncIterator[AsyncSession]:
    async with unit_of_work() as session:
        yield session


# scope="function": the commit (and the post-commit relay) runs when the route returns,
# before the response is sent, so a client never sees a success that was not stored.
DbSession = Annotated[AsyncSession, Depends(request_session, scope="function")]
