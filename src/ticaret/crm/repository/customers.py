"""Customers, their representatives and teams."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Exists, and_, delete, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery, written_in
from ticaret.crm.repository import fold, plan_for_these_values, search_distance, search_matches
from ticaret.models import (
    OPEN_TASK_STATUSES,
    CrmCustomer,
    CrmCustomerRepresentative,
    CrmCustomerTeam,
    CrmGroup,
    CrmTask,
)


@dataclass(frozen=True)
class CustomerFilter:
    tokens: list[str] = field(default_factory=list)
    rank_text: str | None = None
    status: str | None = None
    type: str | None = None
    tags: list[str] = field(default_factory=list)
    city: str | None = None
    representative_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    has_open_tasks: bool | None = None


# Written into the SQL (not bound): `ix_crm_tasks_open` is partial (see `written_in`).
_OPEN_TASK = written_in(CrmTask.status, *OPEN_TASK_STATUSES)


def _open_tasks_of(customer_id: Any) -> Exists:
    return exists().where(
        CrmTask.customer_id == customer_id,
        CrmTask.deleted_at.is_(None),
        _OPEN_TASK,
    )


async def customer(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> CrmCustomer | None:
    stmt = select(CrmCustomer).where(
        CrmCustomer.account_id == account_id,
        CrmCustomer.id == customer_id,
        CrmCustomer.deleted_at.is_(None),
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def customers_by_id(
    session: AsyncSession, account_id: uuid.UUID, customer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CrmCustomer]:
    if not customer_ids:
        return {}
    rows = await session.scalars(
        select(CrmCustomer).where(
            CrmCustomer.account_id == account_id,
            CrmCustomer.id.in_(list(set(customer_ids))),
            CrmCustomer.deleted_at.is_(None),
        )
    )
    return {row.id: row for row in rows}


async def customers_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    filters: CustomerFilter,
    *,
    after: tuple[float, uuid.UUID] | uuid.UUID | None,
    limit: int,
) -> list[tuple[CrmCustomer, float | None]]:
    """Newest first; with a search, best match first (`after` is then (distance, id))."""
    score = (
        search_distance(CrmCustomer.search_text, filters.rank_text)
        if filters.rank_text is not None
        else None
    )
    columns = [CrmCustomer] if score is None else [CrmCustomer, score.label("score")]
    stmt = select(*columns).where(
        CrmCustomer.account_id == account_id, CrmCustomer.deleted_at.is_(None)
    )
    if filters.tokens:
        await plan_for_these_values(session)
        stmt = stmt.where(search_matches(CrmCustomer.search_text, filters.tokens))
    if filters.status is not None:
        stmt = stmt.where(CrmCustomer.status == filters.status)
    if filters.type is not None:
        stmt = stmt.where(CrmCustomer.type == filters.type)
    if filters.tags:
        stmt = stmt.where(CrmCustomer.tags.contains(filters.tags))
    if filters.city is not None:
        stmt = stmt.where(fold(CrmCustomer.city) == fold(filters.city))
    if filters.representative_id is not None:
        stmt = stmt.where(
            exists().where(
                CrmCustomerRepresentative.customer_id == CrmCustomer.id,
                CrmCustomerRepresentative.user_id == filters.representative_id,
            )
        )
    if filters.team_id is not None:
        stmt = stmt.where(
            exists().where(
                CrmCustomerTeam.customer_id == CrmCustomer.id,
                CrmCustomerTeam.group_id == filters.team_id,
            )
        )
    if filters.has_open_tasks is not None:
        open_tasks = _open_tasks_of(CrmCustomer.id)
        stmt = stmt.where(open_tasks if filters.has_open_tasks else ~open_tasks)
    if score is None:
        if isinstance(after, uuid.UUID):
            stmt = stmt.where(CrmCustomer.id < after)
        stmt = stmt.order_by(CrmCustomer.id.desc())
        rows = await session.scalars(stmt.limit(limit + 1))
        return [(row, None) for row in rows]
    if isinstance(after, tuple):
        stmt = stmt.where(or_(score > after[0], and_(score == after[0], CrmCustomer.id < after[1])))
    stmt = stmt.order_by(score, CrmCustomer.id.desc())
    result = await session.execute(stmt.limit(limit + 1))
    return [(row[0], float(row[1])) for row in result]


async def open_task_counts(
    session: AsyncSession, account_id: uuid.UUID, customer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(CrmTask.customer_id, func.count())
        .where(
            CrmTask.account_id == account_id,
            CrmTask.customer_id.in_(list(customer_ids)),
            CrmTask.deleted_at.is_(None),
            _OPEN_TASK,
        )
        .group_by(CrmTask.customer_id)
    )
    return {customer_id: count for customer_id, count in rows.tuples()}


async def primaries(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, uuid.UUID], dict[uuid.UUID, uuid.UUID]]:
    """(primary representative, primary team) by customer, for customers already loaded
    through the account."""
    if not customer_ids:
        return {}, {}
    reps = await session.execute(
        select(CrmCustomerRepresentative.customer_id, CrmCustomerRepresentative.user_id).where(
            CrmCustomerRepresentative.customer_id.in_(list(customer_ids)),
            CrmCustomerRepresentative.is_primary.is_(True),
        )
    )
    teams = await session.execute(
        select(CrmCustomerTeam.customer_id, CrmCustomerTeam.group_id).where(
            CrmCustomerTeam.customer_id.in_(list(customer_ids)),
            CrmCustomerTeam.is_primary.is_(True),
        )
    )
    return dict(reps.tuples().all()), dict(teams.tuples().all())


async def customers_with_phone(
    session: AsyncSession, account_id: uuid.UUID, e164: str
) -> list[CrmCustomer]:
    return list(
        await session.scalars(
            select(CrmCustomer).where(
                CrmCustomer.account_id == account_id,
                CrmCustomer.deleted_at.is_(None),
                CrmCustomer.phones.contains([e164]),
            )
        )
    )


async def customers_with_email(
    session: AsyncSession, account_id: uuid.UUID, email: str
) -> list[CrmCustomer]:
    """Live customers with this address (stored lower case), oldest first."""
    return list(
        await session.scalars(
            select(CrmCustomer)
            .where(
                CrmCustomer.account_id == account_id,
                CrmCustomer.deleted_at.is_(None),
                CrmCustomer.emails.contains([email.lower()]),
            )
            .order_by(CrmCustomer.id)
        )
    )


# Representatives and teams -------------------------------------------------------------------


async def representatives(
    session: AsyncSession, account_id: uuid.UUID, customer_id: uuid.UUID
) -> list[CrmCustomerRepresentative]:
    return list(
        await session.scalars(
            select(CrmCustomerRepresentative)
            .where(
                CrmCustomerRepresentative.account_id == account_id,
                CrmCustomerRepresentative.customer_id == customer_id,
            )
            .order_by(
                CrmCustomerRepresentative.is_primary.desc(), CrmCustomerRepresentative.created_at
            )
            # The set below changes flags with UPDATE statements: read what the rows say now.
            .execution_options(populate_existing=True)
        )
    )


async def set_representatives(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    user_ids: Sequence[uuid.UUID],
    primary: uuid.UUID | None,
) -> None:
    """The customer's representatives become exactly `user_ids` (rows of the ones kept stay,
    with their time); `primary` is the one flagged."""
    await session.execute(
        delete(CrmCustomerRepresentative).where(
            CrmCustomerRepresentative.account_id == account_id,
            CrmCustomerRepresentative.customer_id == customer_id,
            CrmCustomerRepresentative.user_id.not_in(list(user_ids)),
        )
    )
    # Clear the flag first: the partial unique index allows one primary at a time.
    await session.execute(
        update(CrmCustomerRepresentative)
        .where(
            CrmCustomerRepresentative.customer_id == customer_id,
            CrmCustomerRepresentative.is_primary.is_(True),
        )
        .values(is_primary=False)
        .execution_options(synchronize_session=False)
    )
    existing = set(
        await session.scalars(
            select(CrmCustomerRepresentative.user_id).where(
                CrmCustomerRepresentative.customer_id == customer_id
            )
        )
    )
    for user_id in user_ids:
        if user_id not in existing:
            session.add(
                CrmCustomerRepresentative(
                    account_id=account_id,
                    customer_id=customer_id,
                    user_id=user_id,
                    is_primary=False,
                )
            )
    await session.flush()
    if primary is not None:
        await session.execute(
            update(CrmCustomerRepresentative)
            .where(
                CrmCustomerRepresentative.customer_id == customer_id,
                CrmCustomerRepresentative.user_id == primary,
            )
            .values(is_primary=True)
            .execution_options(synchronize_session=False)
        )


async def teams(
    session: AsyncSession, account_id: uuid.UUID, customer_id: uuid.UUID
) -> list[tuple[CrmCustomerTeam, CrmGroup]]:
    rows = await session.execute(
        select(CrmCustomerTeam, CrmGroup)
        .join(CrmGroup, CrmGroup.id == CrmCustomerTeam.group_id)
        .where(
            CrmCustomerTeam.account_id == account_id,
            CrmCustomerTeam.customer_id == customer_id,
        )
        .order_by(CrmCustomerTeam.is_primary.desc(), CrmCustomerTeam.created_at)
        .execution_options(populate_existing=True)
    )
    return [(team, group) for team, group in rows.tuples()]


async def set_teams(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    group_ids: Sequence[uuid.UUID],
    primary: uuid.UUID | None,
) -> None:
    await session.execute(
        delete(CrmCustomerTeam).where(
            CrmCustomerTeam.account_id == account_id,
            CrmCustomerTeam.customer_id == customer_id,
            CrmCustomerTeam.group_id.not_in(list(group_ids)),
        )
    )
    await session.execute(
        update(CrmCustomerTeam)
        .where(CrmCustomerTeam.customer_id == customer_id, CrmCustomerTeam.is_primary.is_(True))
        .values(is_primary=False)
        .execution_options(synchronize_session=False)
    )
    existing = set(
        await session.scalars(
            select(CrmCustomerTeam.group_id).where(CrmCustomerTeam.customer_id == customer_id)
        )
    )
    for group_id in group_ids:
        if group_id not in existing:
            session.add(
                CrmCustomerTeam(
                    account_id=account_id,
                    customer_id=customer_id,
                    group_id=group_id,
                    is_primary=False,
                )
            )
    await session.flush()
    if primary is not None:
        await session.execute(
            update(CrmCustomerTeam)
            .where(CrmCustomerTeam.customer_id == customer_id, CrmCustomerTeam.group_id == primary)
            .values(is_primary=True)
            .execution_options(synchronize_session=False)
        )


async def customers_with_any_phone(
    session: AsyncSession, account_id: uuid.UUID, numbers: Sequence[str]
) -> list[CrmCustomer]:
    if not numbers:
        return []
    return list(
        await session.scalars(
            select(CrmCustomer).where(
                CrmCustomer.account_id == account_id,
                CrmCustomer.deleted_at.is_(None),
                CrmCustomer.phones.overlap(list(numbers)),
            )
        )
    )


async def accounts_with_live_customers(
    session: AsyncSession, account_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these accounts have at least one customer that is not deleted."""
    if not account_ids:
        return set()
    rows = await _ACCOUNTS_WITH_LIVE_CUSTOMERS.fetch(session, account_ids=list(account_ids))
    return {row[0] for row in rows}


# One EXISTS per account, which stops at its first customer (a DISTINCT over the accounts'
# customers read every one of them), and one statement text for any number of accounts.
_ACCOUNTS_WITH_LIVE_CUSTOMERS = RawQuery(
    text(
        """
        SELECT a.id FROM unnest(CAST(:account_ids AS uuid[])) AS a(id)
        WHERE EXISTS (
            SELECT 1 FROM crm_customers c WHERE c.account_id = a.id AND c.deleted_at IS NULL
        )
        """
    )
)
