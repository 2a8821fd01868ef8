"""An account's AI settings and its monthly token meter."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import AccountAiSettings, AiTokenUsage


async def settings_of(
    session: AsyncSession, account_id: uuid.UUID, *, lock: bool = False
) -> AccountAiSettings | None:
    stmt = select(AccountAiSettings).where(AccountAiSettings.account_id == account_id)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def settings_of_accounts(
    session: AsyncSession, account_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, AccountAiSettings]:
    """A batch's accounts' settings in one query (an account with none is left out)."""
    if not account_ids:
        return {}
    stmt = select(AccountAiSettings).where(AccountAiSettings.account_id.in_(list(account_ids)))
    return {row.account_id: row for row in await session.scalars(stmt)}


async def record_structured_output(session: AsyncSession, account_id: uuid.UUID, mode: str) -> None:
    """What the endpoint turned out to support; a plain UPDATE (no new entityVersion), so a
    worker learning it never conflicts with an admin editing the settings."""
    await session.execute(
        update(AccountAiSettings)
        .where(
            AccountAiSettings.account_id == account_id,
            AccountAiSettings.structured_output.is_distinct_from(mode),
        )
        .values(structured_output=mode)
        .execution_options(synchronize_session=False)
    )


async def month_usage(
    session: AsyncSession, account_id: uuid.UUID, month: date
) -> AiTokenUsage | None:
    return await session.scalar(
        select(AiTokenUsage).where(
            AiTokenUsage.account_id == account_id, AiTokenUsage.month == month
        )
    )


async def add_usage(
    session: AsyncSession,
    account_id: uuid.UUID,
    month: date,
    *,
    prompt_tokens: int,
    completion_tokens: int,
    total_tokens: int,
    cost: Decimal,
    requests: int,
) -> None:
    stmt = insert(AiTokenUsage).values(
        account_id=account_id,
        month=month,
        requests=requests,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=total_tokens,
        cost_estimate=cost,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[AiTokenUsage.account_id, AiTokenUsage.month],
            set_={
                "requests": AiTokenUsage.requests + stmt.excluded.requests,
                "prompt_tokens": AiTokenUsage.prompt_tokens + stmt.excluded.prompt_tokens,
                "completion_tokens": AiTokenUsage.completion_tokens
                + stmt.excluded.completion_tokens,
                "total_tokens": AiTokenUsage.total_tokens + stmt.excluded.total_tokens,
                "cost_estimate": AiTokenUsage.cost_estimate + stmt.excluded.cost_estimate,
            },
        )
    )
