"""What an analysis concludes, from either analyser, written onto its row: intent and the
rest, product matches, the photo search, the commerce block, usage.

The deterministic analyser runs here whole (rules, catalog, CRM; no network). The LLM path
asks the model in `ask_llm` (no database) and comes back to `llm_results` to match, draft
and record.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.ai.analysis import lexicon, replies
from ticaret.ai.analysis.commerce import CustomerLink, build_commerce
from ticaret.ai.analysis.llm import (
    ChatLine,
    MessageAnalysis,
    PhotoReading,
    analysis_messages,
    photo_messages,
    understanding_from,
)
from ticaret.ai.analysis.matching import Candidate, Matching, match_products
from ticaret.ai.analysis.understanding import Understanding, by_rules
from ticaret.ai.providers.base import LlmProvider, Usage
from ticaret.ai.providers.structured import StructuredResult, complete_json
from ticaret.ai.repository import settings as settings_repository
from ticaret.ai.schemas import (
    AnalysisAction,
    Commerce,
    DraftSource,
    Entities,
    OrderReadiness,
    ProductMatch,
    VisualAttributes,
    VisualMatchStatus,
    VisualSearch,
)
from ticaret.crm.repository import customers as crm_customers
from ticaret.crm.service.identities import links_for_messages
from ticaret.models import (
    AccountAiSettings,
    AiAnalysis,
    Intent,
    MatchStatus,
    StructuredOutput,
    WaMessage,
    WaSession,
)
from ticaret.settings import get_settings
from ticaret.wa.gateways import GatewayError
from ticaret.wa.gateways.factory import session_gateway
from ticaret.wa.repository import chats as chat_repository

RULES_MODEL = "ticaret-rules-1"
DEFAULT_LANGUAGE = "tr"
_SHOPPING = (Intent.stock_question, Intent.price_question, Intent.order, Intent.product_inquiry)


def language_of(settings_row: AccountAiSettings | None) -> str:
    return settings_row.language if settings_row is not None else DEFAULT_LANGUAGE


# Shared by both analysers -------------------------------------------------------------------


def final_action(understanding: Understanding, commerce: Commerce) -> AnalysisAction:
    intent = understanding.intent
    if intent is Intent.complaint:
        urgent = understanding.priority.value == "urgent"
        return AnalysisAction.escalate_to_human if urgent else AnalysisAction.handle_complaint
    if intent is Intent.order:
        ready = commerce.order_readiness is OrderReadiness.ready
        return AnalysisAction.create_order if ready else AnalysisAction.collect_order_details
    return {
        Intent.stock_question: AnalysisAction.confirm_stock,
        Intent.price_question: AnalysisAction.send_price,
        Intent.product_inquiry: AnalysisAction.send_product_info,
    }.get(intent, AnalysisAction.reply)


def overall_confidence(understanding: Understanding, matching: Matching) -> float:
    """How sure the analysis is: of the intent, and of the product where one is asked about."""
    if understanding.intent not in _SHOPPING:
        return round(understanding.confidence, 3)
    best = matching.best
    match = best.confidence if best is not None else 0.0
    if matching.status is MatchStatus.ambiguous:
        match *= 0.7
    return round(understanding.confidence * (0.5 + 0.5 * match), 3)


def product_match_models(matching: Matching) -> list[ProductMatch]:
    return [
        ProductMatch(
            product_id=c.product.id,
            sku=c.product.sku,
            name=c.product.name,
            confidence=c.confidence,
            price=c.price,
            currency=c.product.currency,
            stock_status=c.stock_status,
            stock_quantity=c.stock_quantity,
            product_url=c.product.product_url,
            match_status=c.match_status,
        )
        for c in matching.candidates
    ]


def entities(understanding: Understanding, matching: Matching) -> Entities:
    wanted = understanding.wanted
    best = matching.best
    named = (
        best.product.name
        if best is not None and matching.status is MatchStatus.high_confidence
        else None
    )
    return Entities(
        product_name=understanding.product_text or named,
        color=", ".join(lexicon.colour_name(c) for c in wanted.colours) or None,
        size=", ".join(wanted.sizes) or None,
        amount=str(understanding.quantity) if understanding.quantity else None,
        date=understanding.date,
    )


def match_details(matching: Matching) -> dict[str, Any]:
    return {
        "searched": matching.searched,
        "query": matching.query,
        "candidateCount": matching.candidate_count,
        "matchStatus": matching.status.value if matching.status else None,
        "unknownWords": matching.unknown_words,
        "ranking": [
            {
                "productId": str(c.product.id),
                "confidence": c.confidence,
                "searchScore": round(c.search_score, 4),
                "variantSku": c.variant.sku if c.variant is not None else None,
                "colourAgrees": c.colour_agrees,
                "sizeAvailable": c.size_available,
                "reasons": c.reasons,
            }
            for c in matching.candidates
        ],
    }


async def customer_link(
    session: AsyncSession, account_id: uuid.UUID, wa: WaSession, message: WaMessage
) -> CustomerLink | None:
    """The CRM customer (and contact) of the chat, from the chat's customer link."""
    chat = await chat_repository.chat(session, wa.id, message.remote_jid)
    if chat is None:
        return None
    link = (await links_for_messages(session, account_id, chat, [message])).get(message.id)
    if link is None:
        return None
    customer = await crm_customers.customer(session, account_id, link.customer.id)
    return CustomerLink(
        customer_id=link.customer.id,
        contact_id=link.contact.id if link.contact is not None else None,
        has_address=bool(customer is not None and customer.address),
    )


def draft_source(wa: WaSession, message: WaMessage) -> DraftSource:
    return DraftSource(
        source_id=wa.provider_session_id,
        thread_id=message.remote_jid,
        message_id=message.message_id,
    )


@dataclass
class Findings:
    """Everything an analysis concluded, ready to be written onto its row."""

    understanding: Understanding
    matching: Matching
    commerce: Commerce
    action: AnalysisAction
    suggested_reply: str | None
    confidence: float
    result: dict[str, Any]
    visual_search: VisualSearch | None = None
    warnings: list[str] = field(default_factory=list)


async def conclude(
    session: AsyncSession,
    account_id: uuid.UUID,
    wa: WaSession,
    message: WaMessage,
    understanding: Understanding,
    matching: Matching,
    language: str,
    *,
    llm_reply: bool,
    has_customers: bool = True,
) -> Findings:
    """Commerce, action, reply and summary once the understanding and matches are known.
    `has_customers=False`: the caller knows the account has no customer to link the chat to."""
    link = await customer_link(session, account_id, wa, message) if has_customers else None
    if matching.wanted is not None:
        understanding.wanted = matching.wanted
    if understanding.summary is None:
        understanding.summary = replies.summary(understanding, matching, language)
    commerce = build_commerce(understanding, matching, link, draft_source(wa, message))
    if llm_reply and understanding.suggested_reply:
        reply: str | None = understanding.suggested_reply
        llm_action = understanding.details.get("action")
        action = AnalysisAction(llm_action) if llm_action else final_action(understanding, commerce)
    else:
        reply = replies.suggested_reply(understanding, matching, commerce, language)
        action = final_action(understanding, commerce)
    warnings = list(understanding.warnings)
    if matching.unknown_words:
        warnings.append("Words not found in the catalog: " + ", ".join(matching.unknown_words))
    best = matching.best
    if best is not None and best.reasons:
        warnings.extend(f"{best.product.name}: {reason}" for reason in best.reasons)
    return Findings(
        understanding=understanding,
        matching=matching,
        commerce=commerce,
        action=action,
        suggested_reply=reply,
        confidence=overall_confidence(understanding, matching),
        result={
            "understanding": understanding.details,
            "matching": match_details(matching),
        },
        warnings=warnings,
    )


def findings_models(findings: Findings) -> dict[str, Any]:
    """The findings' parts that are models in the published analysis (`AnalysisOut`), by
    field name: stored dumped, published as they are."""
    models: dict[str, Any] = {
        "entities": entities(findings.understanding, findings.matching),
        "product_matches": product_match_models(findings.matching),
        "commerce": findings.commerce,
    }
    if findings.visual_search is not None:
        models["visual_search"] = findings.visual_search
    return models


def findings_columns(findings: Findings, models: dict[str, Any] | None = None) -> dict[str, Any]:
    """The row's columns the findings set (by column name); `models`: their
    `findings_models`, when the caller made them already."""
    understanding = findings.understanding
    models = models if models is not None else findings_models(findings)
    columns: dict[str, Any] = {
        "intent": understanding.intent,
        "action": findings.action,
        "priority": understanding.priority,
        "sentiment": understanding.sentiment,
        "summary": understanding.summary,
        "suggested_reply": findings.suggested_reply,
        "confidence": findings.confidence,
        "entities": _dump(models["entities"]),
        "warnings": findings.warnings,
        "result": findings.result,
        "product_matches": [_dump(m) for m in models["product_matches"]],
        "match_status": findings.matching.status,
        "commerce": _dump(models["commerce"]),
    }
    if findings.visual_search is not None:
        columns["visual_search"] = _dump(models["visual_search"])
        columns["visual_description"] = findings.visual_search.visual_description
    return columns


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


def apply(row: AiAnalysis, findings: Findings) -> None:
    for name, value in findings_columns(findings).items():
        setattr(row, name, value)


# The deterministic analyser -----------------------------------------------------------------


class EarlierLine(Protocol):
    """What the rules read of an earlier message of the chat (a `WaMessage`, or the few
    columns a batch reads of it)."""

    @property
    def text(self) -> str | None: ...

    @property
    def from_me(self) -> bool: ...

    @property
    def deleted_for_everyone(self) -> bool: ...


def rules_input(
    message: WaMessage, earlier: Sequence[EarlierLine], settings_row: AccountAiSettings | None
) -> dict[str, Any]:
    """What the rules were given (the row's `input`)."""
    return {
        "text": message.text or "",
        "messageType": message.type,
        "contextMessages": len(earlier),
        "language": language_of(settings_row),
    }


async def rules_findings(
    session: AsyncSession,
    account_id: uuid.UUID,
    wa: WaSession,
    message: WaMessage,
    earlier: Sequence[EarlierLine],
    settings_row: AccountAiSettings | None,
    *,
    has_customers: bool = True,
    has_products: bool = True,
) -> Findings:
    """The deterministic analysis of a message. `has_customers`/`has_products=False`: the
    caller knows the account has no customer to link the chat to / no live product."""
    earlier_texts = [m.text for m in earlier if not m.from_me and m.text]
    understanding = by_rules(message.text or "", earlier_texts)
    matching = await match_products(
        session, account_id, understanding.wanted, no_products=not has_products
    )
    return await conclude(
        session,
        account_id,
        wa,
        message,
        understanding,
        matching,
        language_of(settings_row),
        llm_reply=False,
        has_customers=has_customers,
    )


async def by_rules_now(
    session: AsyncSession,
    row: AiAnalysis,
    wa: WaSession,
    message: WaMessage,
    earlier: Sequence[EarlierLine],
    settings_row: AccountAiSettings | None,
    *,
    has_customers: bool = True,
) -> Findings:
    row.input = rules_input(message, earlier, settings_row)
    return await rules_findings(
        session, row.account_id, wa, message, earlier, settings_row, has_customers=has_customers
    )


# The LLM path -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LlmQuestion:
    """What the model is asked about one message (everything read from the database)."""

    analysis_id: uuid.UUID
    attempt: int
    account_id: uuid.UUID
    model: str
    vision_model: str
    temperature: float
    language: str
    mode: StructuredOutput | None
    text: str
    wa: WaSession
    message: WaMessage
    context: list[ChatLine]
    rules: Understanding
    candidates: list[Candidate]


@dataclass(frozen=True)
class LlmAnswer:
    analysis: StructuredResult[MessageAnalysis]
    photo: StructuredResult[PhotoReading] | None
    warnings: list[str]

    @property
    def usage(self) -> Usage:
        usage = self.analysis.usage
        return usage + self.photo.usage if self.photo is not None else usage


async def image_data_url(wa: WaSession, message: WaMessage) -> str | None:
    """The customer's photo as a data URL (the gateway's media URL is not public), or None
    when the gateway cannot give it or it is too large."""
    limit = get_settings().ai.max_image_bytes
    try:
        stream = await session_gateway(wa).open_media(
            message.remote_jid,
            message.provider_message_id or message.message_id,
            message.media or {},
        )
    except GatewayError:
        return None
    chunks: list[bytes] = []
    size = 0
    async with stream:
        if stream.status_code >= 400:
            return None
        async for chunk in stream.aiter_bytes():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    mimetype = (stream.content_type or message.mimetype or "image/jpeg").split(";")[0]
    return f"data:{mimetype};base64,{base64.b64encode(b''.join(chunks)).decode()}"


async def ask_llm(provider: LlmProvider, question: LlmQuestion) -> LlmAnswer:
    warnings: list[str] = []
    photo: StructuredResult[PhotoReading] | None = None
    if question.message.type == "image":
        image_url = await image_data_url(question.wa, question.message)
        if image_url is None:
            warnings.append("The photo could not be read from the gateway.")
        else:
            photo = await complete_json(
                provider,
                model_name=question.vision_model,
                messages=photo_messages(
                    language=question.language, caption=question.text, image_url=image_url
                ),
                output=PhotoReading,
                temperature=question.temperature,
                mode=question.mode,
            )
    analysis = await complete_json(
        provider,
        model_name=question.model,
        messages=analysis_messages(
            language=question.language,
            text=question.text,
            context=question.context,
            photo=photo.output if photo is not None else None,
            candidates=question.candidates,
        ),
        output=MessageAnalysis,
        temperature=question.temperature,
        mode=photo.mode if photo is not None else question.mode,
    )
    return LlmAnswer(analysis, photo, warnings)


def usage_record(usage: Usage, model: str, calls: int) -> dict[str, Any]:
    cost = cost_estimate(usage, model)
    return {
        "promptTokens": usage.prompt_tokens,
        "completionTokens": usage.completion_tokens,
        "totalTokens": usage.total_tokens,
        "calls": calls,
        "model": model,
        "costEstimate": str(cost) if cost is not None else None,
        "currency": "USD",
    }


def cost_estimate(usage: Usage, model: str) -> Decimal | None:
    prices = get_settings().ai.model_prices
    # "gpt-4o-mini-2024-07-18" is priced as "gpt-4o-mini": the longest known prefix.
    known = max((name for name in prices if model.startswith(name)), key=len, default=None)
    if known is None:
        return None
    per_input, per_output = prices[known]
    cost = (usage.prompt_tokens * per_input + usage.completion_tokens * per_output) / 1_000_000
    return cost.quantize(Decimal("0.000001"))


def this_month(now: datetime | None = None) -> date:
    now = now or datetime.now(UTC)
    return date(now.year, now.month, 1)


async def record_usage(
    session: AsyncSession, account_id: uuid.UUID, usage: Usage, model: str, calls: int
) -> None:
    await settings_repository.add_usage(
        session,
        account_id,
        this_month(),
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
        cost=cost_estimate(usage, model) or Decimal(0),
        requests=calls,
    )


async def llm_findings(
    session: AsyncSession,
    row: AiAnalysis,
    question: LlmQuestion,
    answer: LlmAnswer,
) -> Findings:
    photo = answer.photo.output if answer.photo is not None else None
    understanding = understanding_from(answer.analysis.output, question.text, question.rules, photo)
    matching = await match_products(session, row.account_id, understanding.wanted)
    findings = await conclude(
        session,
        row.account_id,
        question.wa,
        question.message,
        understanding,
        matching,
        question.language,
        llm_reply=True,
    )
    findings.warnings[:0] = answer.warnings
    findings.result["llm"] = answer.analysis.raw
    findings.result["structuredOutput"] = answer.analysis.mode.value
    findings.result["repaired"] = answer.analysis.repaired
    if answer.photo is not None and photo is not None:
        findings.result["photo"] = answer.photo.raw
        findings.visual_search = VisualSearch(
            query=photo.search_query,
            visual_description=photo.visual_description,
            attributes=VisualAttributes.model_validate(photo.attributes.model_dump()),
            warnings=list(photo.warnings),
            candidate_count=matching.candidate_count,
            match_status=VisualMatchStatus(matching.status.value)
            if matching.status is not None
            else VisualMatchStatus.no_match,
            response_id=answer.photo.final.response_id,
            usage=usage_record(answer.photo.usage, question.vision_model, 1),
        )
    return findings


def not_searched(message_type: str) -> VisualSearch | None:
    """The photo search of an image message the deterministic analyser cannot look at."""
    if message_type != "image":
        return None
    return VisualSearch(
        query=None,
        visual_description=None,
        attributes=VisualAttributes(),
        warnings=["No vision model is configured: the photo was not looked at."],
        candidate_count=0,
        match_status=VisualMatchStatus.not_searched,
        response_id=None,
        usage={},
    )
