"""Actions an operator approves on an analysis: an order from its draft.

The order is the orders domain's (`orders.service.create_order`: CRM checks, product snapshots,
money, events); this unit fills its request from the analysis's draft and the operator's
overrides, refuses a second order from the same analysis unless asked, and records the applied
action on the analysis.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.ai.errors import (
    AnalysisNotCompleted,
    OrderAlreadyCreated,
    OrderCustomerRequired,
    OrderDraftEmpty,
)
from ticaret.ai.repository import orders as order_repository
from ticaret.ai.schemas import (
    AnalysisOrderCreate,
    AppliedAction,
    Commerce,
    CommerceStage,
    OrderDraft,
    OrderFromAnalysis,
    OrderReadiness,
)
from ticaret.ai.service.analyses import analysis_of
from ticaret.ai.service.views import analysis_out
from ticaret.core.auth import AccountContext
from ticaret.core.errors import ValidationFailed
from ticaret.models import AiAnalysis, AnalysisStatus
from ticaret.orders import service as orders
from ticaret.orders.schemas import OrderCreate, OrderItemIn, OrderSource
from ticaret.settings import Settings
from ticaret.wa.service.access import resolve_wa

CREATE_ORDER = "create_order"


def _draft(row: AiAnalysis) -> OrderDraft | None:
    if not row.commerce or not row.commerce.get("orderDraft"):
        return None
    return OrderDraft.model_validate(row.commerce["orderDraft"])


def _items(body: AnalysisOrderCreate, draft: OrderDraft | None) -> list[dict[str, Any]]:
    drafted = {item.product_id: item for item in (draft.items if draft else [])}
    if body.items:
        return [
            {
                "productId": item.product_id,
                "quantity": item.quantity
                or (drafted[item.product_id].quantity if item.product_id in drafted else 1),
                "variantNote": item.variant_note
                if item.variant_note is not None
                else (
                    drafted[item.product_id].variant_note if item.product_id in drafted else None
                ),
                "metadata": item.metadata,
            }
            for item in body.items
        ]
    return [
        {"productId": item.product_id, "quantity": item.quantity, "variantNote": item.variant_note}
        for item in (draft.items if draft else [])
    ]


def _order_request(
    body: AnalysisOrderCreate, row: AiAnalysis, draft: OrderDraft | None, psid: str
) -> OrderCreate:
    customer_id = body.customer_id or (draft.customer_id if draft else None)
    if customer_id is None:
        raise OrderCustomerRequired()
    if "contact_id" in body.model_fields_set:
        contact_id = body.contact_id
    else:
        # The chat's contact belongs to the chat's customer, not to one the operator chose.
        same_customer = draft is not None and draft.customer_id == customer_id
        contact_id = draft.contact_id if same_customer and draft is not None else None
    items = _items(body, draft)
    if not items:
        raise OrderDraftEmpty()
    try:
        return OrderCreate(
            customer_id=customer_id,
            contact_id=contact_id,
            items=[OrderItemIn.model_validate(item) for item in items],
            shipping=body.shipping,
            payment=body.payment,
            source=OrderSource(
                channel="provider_whatsapp",
                source_type="whatsapp_message",
                source_id=psid,
                thread_id=row.remote_jid,
                message_id=row.message_id,
            ),
            notes=body.notes if body.notes is not None else (draft.notes if draft else None),
            tags=body.tags,
            metadata={**body.metadata, "aiAnalysisId": str(row.id)},
            allow_duplicate=body.allow_duplicate,
        )
    except ValidationError as exc:
        raise ValidationFailed(
            details={
                "fields": [
                    {"path": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
                    for err in exc.errors()
                ]
            }
        ) from None


async def _refuse_a_second_order(
    session: AsyncSession, account_id: uuid.UUID, row: AiAnalysis
) -> None:
    """409 while an order this analysis made stands; a deleted one no longer counts, as for the
    orders domain's own check of an order's source message."""
    earlier = [a for a in row.applied_actions if a.get("type") == CREATE_ORDER]
    if not earlier:
        return
    live = await order_repository.live_order_ids(
        session, account_id, [uuid.UUID(a["orderId"]) for a in earlier]
    )
    standing = [a for a in earlier if uuid.UUID(a["orderId"]) in live]
    if standing:
        raise OrderAlreadyCreated(
            details={"orderId": standing[-1]["orderId"], "orderNo": standing[-1]["orderNo"]}
        )


async def create_order(
    session: AsyncSession,
    settings: Settings,
    ctx: AccountContext,
    remote_jid: str,
    message_id: str,
    provider_session_id: str | None,
    body: AnalysisOrderCreate,
) -> OrderFromAnalysis:
    wa_ctx = await resolve_wa(session, ctx, provider_session_id or body.provider_session_id)
    row = await analysis_of(session, wa_ctx, remote_jid, message_id, lock=True)
    if row.status != AnalysisStatus.completed:
        raise AnalysisNotCompleted()
    if not body.allow_duplicate:
        await _refuse_a_second_order(session, ctx.account_id, row)
    psid = wa_ctx.wa.provider_session_id
    request = _order_request(body, row, _draft(row), psid)
    order = await orders.create_order(session, settings, ctx.account_id, ctx.actor, request)
    applied = AppliedAction(
        type=CREATE_ORDER,
        order_id=order.id,
        order_no=order.order_no,
        actor_type=ctx.actor.type,
        actor_id=ctx.actor.id,
        allow_duplicate=body.allow_duplicate,
        created_at=datetime.now(UTC),
    )
    row.applied_actions = [*row.applied_actions, applied.model_dump(mode="json", by_alias=True)]
    if row.commerce:
        commerce = Commerce.model_validate(row.commerce)
        commerce.stage = CommerceStage.ordered
        commerce.order_readiness = OrderReadiness.ordered
        row.commerce = commerce.model_dump(mode="json", by_alias=True)
    await session.flush()
    return OrderFromAnalysis(order=order, analysis=analysis_out(row, psid))
