"""The commerce block of an analysis: where the customer is (stage), what an order still needs
(readiness, missing fields), the order draft an operator can turn into an order with one
click, and what to do next."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ticaret.ai.analysis.lexicon import colour_name
from ticaret.ai.analysis.matching import Candidate, Matching
from ticaret.ai.analysis.understanding import Understanding
from ticaret.ai.schemas import (
    Commerce,
    CommerceStage,
    DraftItem,
    DraftSource,
    MissingField,
    NextAction,
    OrderDraft,
    OrderReadiness,
)
from ticaret.models import Intent, MatchStatus


@dataclass(frozen=True)
class CustomerLink:
    """The CRM customer (and contact) the chat is linked to, and whether we know where to
    ship."""

    customer_id: uuid.UUID
    contact_id: uuid.UUID | None
    has_address: bool


_STAGES = {
    Intent.complaint: CommerceStage.support,
    Intent.order: CommerceStage.purchase,
    Intent.stock_question: CommerceStage.interest,
    Intent.price_question: CommerceStage.interest,
    Intent.product_inquiry: CommerceStage.interest,
}


def variant_note(candidate: Candidate, understanding: Understanding) -> str | None:
    """What the customer chose, as the order line's note: "Renk: mor, Beden: M"."""
    parts: list[str] = []
    wanted = understanding.wanted
    if candidate.variant is not None:
        parts.append(f"SKU: {candidate.variant.sku}")
    if wanted.colours:
        parts.append("Renk: " + ", ".join(colour_name(c) for c in wanted.colours))
    if wanted.sizes:
        parts.append("Beden: " + ", ".join(wanted.sizes))
    return ", ".join(parts) or None


def _item(candidate: Candidate, understanding: Understanding) -> DraftItem:
    product = candidate.product
    return DraftItem(
        product_id=product.id,
        sku=candidate.variant.sku if candidate.variant is not None else product.sku,
        name=product.name,
        quantity=understanding.quantity or 1,
        variant_note=variant_note(candidate, understanding),
        notes=None,
        unit_price=candidate.price,
        currency=product.currency,
        stock_status=candidate.stock_status,
        stock_quantity=candidate.stock_quantity,
        product_url=product.product_url,
        variant_required=bool(candidate.variants) and candidate.variant is None,
    )


def build_commerce(
    understanding: Understanding,
    matching: Matching,
    link: CustomerLink | None,
    source: DraftSource,
) -> Commerce:
    intent = understanding.intent
    best = matching.best
    stage = _STAGES.get(intent, CommerceStage.none)
    if stage is CommerceStage.none and best is not None:
        stage = CommerceStage.interest
    if stage in (CommerceStage.none, CommerceStage.support):
        actions: list[NextAction] = {
            Intent.complaint: [NextAction.handle_complaint, NextAction.reply],
            Intent.greeting: [NextAction.reply, NextAction.ask_product],
        }.get(intent, [NextAction.reply])
        if intent is Intent.complaint and link is None:
            actions.append(NextAction.link_customer)
        return Commerce(
            stage=stage,
            order_readiness=OrderReadiness.not_applicable,
            missing_fields=[],
            order_draft=None,
            next_best_actions=actions,
        )

    missing: list[MissingField] = []
    items: list[DraftItem] = []
    if best is None or matching.status in (MatchStatus.no_match, MatchStatus.ambiguous):
        missing.append(MissingField.product)
    if best is not None:
        item = _item(best, understanding)
        items.append(item)
        if item.variant_required:
            missing.append(MissingField.variant)
        if not best.in_stock or best.size_available is False:
            missing.append(MissingField.stock)
    if understanding.quantity is None:
        missing.append(MissingField.quantity)
    if link is None:
        missing.append(MissingField.customer)
    elif not link.has_address:
        missing.append(MissingField.address)
    readiness = OrderReadiness.ready if not missing else OrderReadiness.incomplete

    actions = []
    if intent is Intent.price_question:
        actions.append(NextAction.send_price)
    if intent is Intent.stock_question:
        actions.append(NextAction.confirm_stock)
    if MissingField.product in missing:
        actions.append(NextAction.ask_product if best is None else NextAction.reply)
    if MissingField.stock in missing:
        actions.append(NextAction.suggest_alternatives)
    if MissingField.variant in missing:
        actions.append(NextAction.ask_variant)
    if MissingField.quantity in missing and intent is Intent.order:
        actions.append(NextAction.ask_quantity)
    if MissingField.customer in missing:
        actions.append(NextAction.link_customer)
    if MissingField.address in missing and intent is Intent.order:
        actions.append(NextAction.ask_address)
    if items and (readiness is OrderReadiness.ready or intent is Intent.order):
        actions.append(NextAction.create_order)
    if not actions:
        actions.append(NextAction.reply)
    notes = understanding.summary
    return Commerce(
        stage=stage,
        order_readiness=readiness,
        missing_fields=missing,
        order_draft=OrderDraft(
            customer_id=link.customer_id if link else None,
            contact_id=link.contact_id if link else None,
            items=items,
            source=source,
            notes=notes,
        )
        if items or link is not None
        else None,
        next_best_actions=list(dict.fromkeys(actions)),
    )
