"""The orders' source of the CRM customer timeline: one item per order, when it was created.

Registered by importing this module (`ticaret.wiring` does), like every timeline source."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.envelope import from_row
from ticaret.crm.repository.timeline import Position
from ticaret.crm.schemas.timeline import OrderItem, TimelineItem, TimelineOrder
from ticaret.crm.service.timeline import Entry, Scope, source
from ticaret.orders import repository


@source("order")
class CustomerOrders:
    async def fetch(
        self, session: AsyncSession, scope: Scope, position: Position | None, limit: int
    ) -> list[Entry]:
        rows = await repository.customer_orders_from(
            session, scope.account_id, scope.customer_id, position, limit
        )
        return [Entry(o.created_at, "order", o.id, o) for o in rows]

    async def render(
        self, session: AsyncSession, scope: Scope, entries: list[Entry]
    ) -> list[TimelineItem]:
        counts = await repository.item_counts(session, scope.account_id, [e.id for e in entries])
        return [
            OrderItem(
                id=entry.id,
                at=entry.at,
                order=from_row(TimelineOrder, entry.row, item_count=counts.get(entry.id, 0)),
            )
            for entry in entries
        ]
