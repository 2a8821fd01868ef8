"""`Idempotency-Key` for POSTs that send or create: same key and body -> the first answer.

The key row is inserted in the request's own transaction before any work, so a concurrent
retry with the same key waits on the unique index until the first request commits (and then
replays its answer) or rolls back (and then runs itself). Keys live 24 hours.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Header
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.errors import Conflict
from ticaret.core.ids import new_id
from ticaret.models import IdempotencyKey

TTL = timedelta(hours=24)

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Retrying with the same key within 24 h returns the first result.",
    ),
]


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
        raise Conflict(
            "This Idempotency-Key was used with a different request.",
            code="idempotency_key_reused",
        )
    if row.response is None or row.status_code is None:
        raise Conflict(
            "A request with this Idempotency-Key is still in progress.",
            code="idempotency_in_progress",
        )
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


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.created_at < datetime.now(UTC) - TTL)
        .returning(IdempotencyKey.id)
    )
    return len(result.all())
