"""Engine, sessions and the unit of work: one transaction per request or job, committed once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Annotated, Any, TypeAlias, cast

import asyncpg
from fastapi import Depends
from sqlalchemy import ColumnElement, SQLColumnExpression, event, literal_column
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement

from ticaret.core import jsontext

logger = logging.getLogger("ticaret.db")

_RAW_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]

PostCommitHook = Callable[[], Awaitable[None]]

_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None
_read_sessionmaker: async_sessionmaker[AsyncSession] | None = None
# Connections that never open a transaction (hot reads, auth lookups, single-statement
# bookkeeping): plain asyncpg, a pool of their own, statements compiled once (`RawQuery`).
_raw_url: str | None = None
_raw_size = 20
_raw_pool: asyncpg.Pool | None = None
_raw_opening: asyncio.Lock | None = None


# Server-side timeouts so a stuck statement cannot hold a connection forever.
SERVER_SETTINGS = {"statement_timeout": "30000", "application_name": "ticaret"}


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
    global _engine, _sessionmaker, _read_sessionmaker, _raw_url, _raw_size
    options: dict[str, Any] = {
        # No pre-ping (a round trip per checkout); dead connections are recycled instead.
        "pool_recycle": 1800,
        "connect_args": {"server_settings": dict(SERVER_SETTINGS)},
        # JSON and JSONB columns read as `json.loads` reads them, by orjson when that is the
        # same (most rows): decoding them was a few per cent of a worker's CPU.
        "json_deserializer": jsontext.loads,
    }
    _engine = create_async_engine(
        to_async_url(url), pool_size=pool_size, max_overflow=max_overflow, **options
    )
    _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False, autoflush=False)
    _read_sessionmaker = async_sessionmaker(
        _engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        autoflush=False,
        sync_session_class=ReadOnlySession,
    )
    _raw_url = to_async_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)
    _raw_size = autocommit_pool_size
    return _engine


async def dispose_engine() -> None:
    global _engine, _sessionmaker, _read_sessionmaker, _raw_pool, _raw_opening
    if _engine is not None:
        await _engine.dispose()
    if _raw_pool is not None:
        await _raw_pool.close()
    _engine, _sessionmaker, _read_sessionmaker = None, None, None
    _raw_pool, _raw_opening = None, None


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


async def _prepare_connection(conn: asyncpg.Connection) -> None:
    # JSON columns as Python values, exactly as the SQLAlchemy engine gives them: orjson alone
    # would read an integer past 64 bits as a float, so a hot read (a message list) would show
    # a value the ORM path shows otherwise, and could not write such an integer at all.
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name,
            schema="pg_catalog",
            encoder=jsontext.dumps,
            decoder=jsontext.loads,
            format="text",
        )


async def _keep_as_is(conn: asyncpg.Connection) -> None:
    """Nothing to reset between checkouts: these connections never LISTEN, lock, SET or
    leave a transaction open (asyncpg's default reset is a round trip per release)."""


async def _open_raw_pool() -> asyncpg.Pool:
    global _raw_pool, _raw_opening
    if _raw_url is None:
        raise RuntimeError("database engine is not initialised")
    if _raw_opening is None:
        _raw_opening = asyncio.Lock()
    async with _raw_opening:
        if _raw_pool is None:
            # min_size 0: connections open on first use and stay (no overflow, no churn).
            _raw_pool = await asyncpg.create_pool(
                _raw_url,
                min_size=0,
                max_size=_raw_size,
                max_inactive_connection_lifetime=1800,
                server_settings=dict(SERVER_SETTINGS),
                init=_prepare_connection,
                reset=_keep_as_is,
            )
        return _raw_pool


@asynccontextmanager
async def no_transaction() -> AsyncIterator[asyncpg.Connection]:
    """A connection outside any transaction: each statement stands alone, with no BEGIN/COMMIT
    round trips. For reads of hot paths and single-statement bookkeeping, never for work that
    must commit together. Run `RawQuery` statements on it."""
    pool = _raw_pool or await _open_raw_pool()
    async with pool.acquire() as conn:
        yield conn


# What read-only paths use: the same, under the name that says what it is for.
reading = no_transaction


class RowView:
    """A raw row read by attribute, as code written for ORM rows reads them (views, overlays);
    `extra` adds or replaces attributes."""

    __slots__ = ("_extra", "_record")

    def __init__(self, record: Any, **extra: Any) -> None:
        self._record = record
        self._extra = extra

    def __getattr__(self, name: str) -> Any:
        if name in self._extra:
            return self._extra[name]
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None


def written_in(column: SQLColumnExpression[str], *values: StrEnum) -> ColumnElement[bool]:
    """`column = 'v'`, or `column IN ('v', 'w')`, with the values written into the SQL rather
    than bound, for a filter that must match a partial index's predicate (`WHERE status =
    'pending'`). asyncpg prepares every statement, and after five runs PostgreSQL may switch it
    to a generic plan, made without the bound values: with `status = $1` that plan cannot prove
    the index's predicate, so it reads the whole table. The values are our enums' (never
    input); quoted all the same."""
    written: list[ColumnElement[str]] = [
        literal_column("'" + value.value.replace("'", "''") + "'") for value in values
    ]
    if len(written) == 1:
        return column == written[0]
    return column.in_(written)


# A `RawQuery` runs on a connection outside any transaction (`no_transaction`), or in a
# session's transaction (`driver`).
RawTarget: TypeAlias = asyncpg.Connection | AsyncSession


class RawQuery:
    """A SQLAlchemy Core statement compiled once for asyncpg (repositories write them; the
    statement text and its parameter order are fixed at import), run without the engine:

        _ACCOUNT = RawQuery(select(Account.name).where(Account.id == bindparam("account_id")))
        rows = await _ACCOUNT.fetch(conn, account_id=account_id)

    `conn` is a connection outside any transaction (`no_transaction`) or a session, whose
    transaction the statement then joins (`driver`). Pass JSON as text and CAST it in the
    statement: a session's connection takes JSON parameters as text (SQLAlchemy's codec)."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=_RAW_DIALECT)
        self.sql = compiled.string
        self._names: tuple[str, ...] = tuple(getattr(compiled, "positiontup", None) or ())
        # Literal values written into the statement (an enum member in a WHERE, say).
        self._fixed = {k: v for k, v in compiled.params.items() if v is not None}

    def _args(self, params: dict[str, Any]) -> list[Any]:
        merged = {**self._fixed, **params}
        return [merged.get(name) for name in self._names]

    async def fetch(self, on: RawTarget, **params: Any) -> list[asyncpg.Record]:
        if isinstance(on, AsyncSession):
            try:
                return list(await (await driver(on)).fetch(self.sql, *self._args(params)))
            except asyncpg.PostgresError as error:
                raise _as_sqlalchemy_error(self.sql, error) from error
        return list(await on.fetch(self.sql, *self._args(params)))

    async def fetchrow(self, on: RawTarget, **params: Any) -> asyncpg.Record | None:
        if isinstance(on, AsyncSession):
            rows = await self.fetch(on, **params)
            return rows[0] if rows else None
        row: asyncpg.Record | None = await on.fetchrow(self.sql, *self._args(params))
        return row

    async def execute(self, on: RawTarget, **params: Any) -> None:
        if isinstance(on, AsyncSession):
            try:
                await (await driver(on)).execute(self.sql, *self._args(params))
            except asyncpg.PostgresError as error:
                raise _as_sqlalchemy_error(self.sql, error) from error
            return
        await on.execute(self.sql, *self._args(params))


async def driver(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `session`, inside its transaction: `RawQuery` statements
    run on it commit or roll back with the session's own work, without SQLAlchemy's execution
    path (for a prebuilt statement that path cost twice the statement's own client time; a
    statement built per call, five times). Autoflush is off, so the session has nothing to
    write first, as with `session.execute`."""
    # Remembered for the session's transaction (a batch runs a dozen statements in one); a
    # commit or rollback ends it, and the next statement looks again.
    transaction = session.sync_session.get_transaction()
    known = session.info.get(_DRIVER)
    if known is not None and transaction is not None and known[0] is transaction:
        raw: asyncpg.Connection = known[1]
        return raw
    connection = await session.connection()
    fairy = await connection.get_raw_connection()
    raw = fairy.driver_connection
    if not raw.is_in_transaction():
        # SQLAlchemy's asyncpg adapter begins the transaction lazily, on its own first
        # statement: a raw statement first would run (and stay) outside it. An autocommit
        # session's adapter begins nothing, as it should.
        await cast(Any, fairy.dbapi_connection)._start_transaction()
    session.info[_DRIVER] = (session.sync_session.get_transaction(), raw)
    return raw


_DRIVER = "ticaret.driver"


def _as_sqlalchemy_error(sql: str, error: asyncpg.PostgresError) -> DBAPIError:
    """What `session.execute` would have raised: callers tell a conflict, a lost race or bad
    text by the SQLAlchemy class and the driver error's `sqlstate` (`orig`)."""
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(sql, None, error)
    return DBAPIError(sql, None, error)


async def request_session() -> AsyncIterator[AsyncSession]:
    async with unit_of_work() as session:
        yield session


class ReadOnlySession(Session):
    """The session of a read-only route: no transaction, so nothing it could flush would be
    atomic; flushing is refused outright."""


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session: Session, *_: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only session cannot write; use DbSession")


async def read_session() -> AsyncIterator[AsyncSession]:
    """A session outside any transaction for a read-only route: no BEGIN/COMMIT round trips."""
    if _read_sessionmaker is None:
        raise RuntimeError("database engine is not initialised")
    async with _read_sessionmaker() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(read_session)]

# scope="function": the commit (and the post-commit relay) runs when the route returns,
# before the response is sent, so a client never sees a success that was not stored.
DbSession = Annotated[AsyncSession, Depends(request_session, scope="function")]
