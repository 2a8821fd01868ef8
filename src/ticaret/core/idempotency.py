"""`Idempotency-Key` for any POST that sends or creates: the same key and body get the first answer.

A route takes the `Idempotent` dependency and runs its work through it:

    async def create_order(body: OrderCreate, ctx: Agent, session: DbSession,
                           idempotency: Idempotent) -> Envelope[OrderOut] | JSONResponse:
        return await idempotency.run(
            session, ctx.account_id, lambda: service.create(...), status_code=201
        )

Without the header the work simply runs. With it, the key row is inserted in the request's own
transaction before any work, so a concurrent retry with the same key waits on the unique index
until the first request commits (and then replays its answer) or rolls back (and then runs
itself). A reused key with a different body, or one whose first request is still running, is a
409. Keys live 24 hours (`purge_idempotency_keys`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import unit_of_work
from ticaret.core.envelope import Envelope
from ticaret.core.errors import Conflict
from ticaret.core.ids import new_id
from ticaret.core.jobs import JobContext, cron_job
from ticaret.models import IdempotencyKey

TTL = timedelta(hours=24)

T = TypeVar("T")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was used with a different request."


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"
    default_message = "A request with this Idempotency-Key is still in progress."


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: dict[str, Any]


def request_hash(*parts: Any) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(
    session: AsyncSession, account_id: uuid.UUID, scope: str, key: str, fingerprint: str
) -> Replay | None:
    """None: go ahead (the key is ours now). A Replay: answer with it and do nothing."""
    now = datetime.now(UTC)
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.account_id == account_id,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at < now - TTL,
        )
    )
    claimed = await session.scalar(
        insert(IdempotencyKey)
        .values(
            id=new_id(),
            account_id=account_id,
            scope=scope,
            key=key,
            request_hash=fingerprint,
            created_at=now,
        )
        .on_conflict_do_nothing(constraint="uq_idempotency_keys_account_key")
        .returning(IdempotencyKey.id)
    )
    if claimed is not None:
        return None
    row = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.account_id == account_id,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
        )
    )
    if row is None or row.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if row.response is None or row.status_code is None:
        raise IdempotencyInProgress()
    return Replay(row.status_code, row.response)


async def remember(
    session: AsyncSession,
    account_id: uuid.UUID,
    scope: str,
    key: str,
    status_code: int,
    body: dict[str, Any],
) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.account_id == account_id,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
        )
        .values(status_code=status_code, response=body)
    )


class Idempotency:
    """The `Idempotency-Key` of one request, and the way to run its work exactly once."""

    def __init__(self, key: str | None, request: Request) -> None:
        self.key = key
        self._request = request

    async def _request_fingerprint(self) -> str:
        body = await self._request.body()
        try:
            # Canonical JSON: the same object sent with other spacing or key order matches.
            content: Any = json.loads(body) if body else None
        except ValueError:
            content = hashlib.sha256(body).hexdigest()
        query = sorted(self._request.query_params.multi_items())
        return request_hash(self._request.method, self._request.url.path, query, content)

    async def run(
        self,
        session: AsyncSession,
        account_id: uuid.UUID,
        produce: Callable[[], Awaitable[Envelope[T]]],
        *,
        status_code: int | Callable[[Envelope[T]], int],
        scope: str | None = None,
        fingerprint: Any = None,
    ) -> Envelope[T] | JSONResponse:
        """`produce()` once per key. `scope` groups keys (default: the route's path);
        `fingerprint` says what makes two requests the same (default: method, path, query
        and JSON body; routes with a multipart body pass their parsed content). A route whose
        answer's status depends on the outcome (200 done, 202 queued) gives `status_code` as a
        function of the result, so a replay answers with the same status."""
        if not self.key:
            return await produce()
        scope = scope or self._request.url.path[:100]
        digest = (
            request_hash(fingerprint)
            if fingerprint is not None
            else await self._request_fingerprint()
        )
        replay = await claim(session, account_id, scope, self.key, digest)
        if replay is not None:
            return JSONResponse(replay.body, status_code=replay.status_code)
        result = await produce()
        body = result.model_dump(mode="json", by_alias=True)
        code = status_code(result) if callable(status_code) else status_code
        await remember(session, account_id, scope, self.key, code, body)
        return result


async def idempotency(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Retrying with the same key within 24 h returns the first result.",
        ),
    ] = None,
) -> Idempotency:
    return Idempotency(key, request)


Idempotent = Annotated[Idempotency, Depends(idempotency)]


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.created_at < datetime.now(UTC) - TTL)
        .returning(IdempotencyKey.id)
    )
    return len(result.all())


@cron_job("purge_idempotency_keys", minute={7}, second={0})
async def purge_idempotency_keys(ctx: JobContext) -> int:
    async with unit_of_work() as session:
        return await purge_expired(session)
