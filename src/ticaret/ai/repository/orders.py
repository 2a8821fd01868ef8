"""What the AI asks of the account's orders: which of the orders an analysis made still stand."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.models import Order


async def live_order_ids(
    session: AsyncSession, account_id: uuid.UUID, order_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of the ids that are the account's orders and not deleted."""
    if not order_ids:
        return set()
    rows = await session.scalars(
        select(Order.id).where(
            Order.account_id == account_id,
            Order.id.in_(list(order_ids)),
            Order.deleted_at.is_(None),
        )
    )
    return set(rows)
