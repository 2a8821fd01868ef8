"""Request and response models of the AI domain (camelCase on the wire).

The analysis object is the published one (`POST .../ai-analysis/retry`): every field, enum and
nesting of it, plus `skipReason`. Its nested parts are stored as they are shown (JSONB in the
wire shape), so what was stored is what is read back.
"""

from __future__ import annotations

import enum
import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.core.events import EventPayload
from ticaret.core.money import Money
from ticaret.models import (
    AiProvider,
    AnalysisProvider,
    AnalysisSource,
    AnalysisStatus,
    AnalysisTrigger,
    Intent,
    MatchStatus,
    SkipReason,
    StructuredOutput,
)
from ticaret.orders.schemas import OrderOut, PaymentInfo, ShippingInfo

ProviderSessionField = Annotated[
    str | None,
    Field(default=None, max_length=100, description="Session; may also be a query parameter."),
]

# Settings -----------------------------------------------------------------------------------

ModelName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^\S+$")
]
ApiKey = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=8, max_length=500, pattern=r"^\S+$")
]
Language = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z]{2}(-[A-Za-z]{2})?$")
]


class MonthUsage(ResponseModel):
    month: str = Field(description="YYYY-MM (UTC)")
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_estimate: Money = Field(description="USD, from the operator's price list.")
    budget: int | None
    budget_left: int | None


class AiSettingsOut(ResponseModel):
    provider: AiProvider
    base_url: str | None = Field(description="The endpoint (`.../v1`); null for OpenAI.")
    model: str
    vision_model: str | None = Field(description="For image messages; null: `model`.")
    has_api_key: bool
    api_key_last4: str | None = Field(description="The key's last four characters.")
    temperature: float
    language: str
    auto_analyze_inbound: bool
    auto_reply: bool = Field(
        description="Send the suggested reply of a confident analysis on its own."
    )
    max_concurrent_analyses: int
    monthly_token_budget: int | None = Field(description="Null: no limit.")
    context_messages: int = Field(description="Earlier messages of the chat the LLM sees.")
    structured_output: StructuredOutput | None = Field(
        description="What the endpoint was seen to support; null until the first call."
    )
    engine: Literal["llm", "deterministic"] = Field(
        description="What analyses now: the LLM, or the built-in rules (no key needed)."
    )
    usage: MonthUsage
    updated_at: Timestamp | None
    entity_version: str


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.lower().startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/") if value else value


class AiSettingsUpdate(ApiModel):
    """Fields left out keep their value."""

    provider: AiProvider | None = None
    base_url: str | None = Field(
        default=None, max_length=500, description="Required for openai_compatible."
    )
    model: ModelName | None = None
    vision_model: ModelName | None = None
    api_key: ApiKey | None = Field(default=None, description="Stored encrypted, never shown.")
    temperature: float | None = Field(default=None, ge=0, le=2)
    language: Language | None = None
    auto_analyze_inbound: bool | None = None
    auto_reply: bool | None = None
    max_concurrent_analyses: int | None = Field(default=None, ge=1, le=100)
    monthly_token_budget: int | None = Field(default=None, ge=0, le=10**12)
    context_messages: int | None = Field(default=None, ge=0, le=50)
    entity_version: str | None = None

    _base_url = field_validator("base_url")(_http_url)


class SettingsTest(ApiModel):
    """What to test; anything left out is taken from the saved settings."""

    provider: AiProvider | None = None
    base_url: str | None = Field(default=None, max_length=500)
    model: ModelName | None = None
    api_key: ApiKey | None = None

    _base_url = field_validator("base_url")(_http_url)


class SettingsTestResult(ResponseModel):
    provider: AiProvider
    base_url: str
    model: str
    model_available: bool
    structured_output: bool = Field(description="The endpoint enforces a JSON schema.")
    mode: StructuredOutput | None = Field(description="How analyses will get JSON from it.")
    latency_ms: int
    response_id: str | None
    message: str


# The analysis object -------------------------------------------------------------------------


class AnalysisAction(enum.StrEnum):
    """What the operator (or the shop) should do about the message."""

    reply = "reply"
    send_product_info = "send_product_info"
    confirm_stock = "confirm_stock"
    send_price = "send_price"
    collect_order_details = "collect_order_details"
    create_order = "create_order"
    handle_complaint = "handle_complaint"
    escalate_to_human = "escalate_to_human"
    none = "none"


class Priority(enum.StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Sentiment(enum.StrEnum):
    positive = "positive"
    neutral = "neutral"
    negative = "negative"


class VisualMatchStatus(enum.StrEnum):
    not_searched = "not_searched"
    high_confidence = "high_confidence"
    ambiguous = "ambiguous"
    low_confidence = "low_confidence"
    no_match = "no_match"


class CommerceStage(enum.StrEnum):
    none = "none"  # a greeting, or nothing about buying
    interest = "interest"  # asking about products, stock or prices
    purchase = "purchase"  # wants to order
    ordered = "ordered"  # an order was created from the analysis
    support = "support"  # a complaint or an after-sales question


class OrderReadiness(enum.StrEnum):
    not_applicable = "not_applicable"
    incomplete = "incomplete"  # an order could be drafted; `missingFields` says what is missing
    ready = "ready"  # everything an order needs is known
    ordered = "ordered"


class MissingField(enum.StrEnum):
    customer = "customer"
    contact = "contact"
    product = "product"
    variant = "variant"
    quantity = "quantity"
    address = "address"
    stock = "stock"


class NextAction(enum.StrEnum):
    reply = "reply"
    send_price = "send_price"
    confirm_stock = "confirm_stock"
    ask_product = "ask_product"
    ask_variant = "ask_variant"
    ask_quantity = "ask_quantity"
    ask_address = "ask_address"
    link_customer = "link_customer"
    suggest_alternatives = "suggest_alternatives"
    create_order = "create_order"
    handle_complaint = "handle_complaint"
    escalate_to_human = "escalate_to_human"


class Entities(ResponseModel):
    product_name: str | None = None
    color: str | None = None
    size: str | None = None
    amount: str | None = Field(default=None, description="The quantity asked for.")
    date: str | None = None


class ProductMatch(ResponseModel):
    product_id: uuid.UUID
    sku: str
    name: str
    confidence: float
    price: Money | None
    currency: str
    stock_status: str
    stock_quantity: int | None
    product_url: str | None
    match_status: MatchStatus


class VisualAttributes(ResponseModel):
    product_type: str | None = None
    color: str | None = None
    model: str | None = None
    pattern: str | None = None
    material: str | None = None
    brand: str | None = None
    visible_text: str | None = None
    style: str | None = None
    shape: str | None = None
    other_features: str | None = None


class VisualSearch(ResponseModel):
    query: str | None
    visual_description: str | None
    attributes: VisualAttributes
    warnings: list[str]
    candidate_count: int
    match_status: VisualMatchStatus
    response_id: str | None
    usage: dict[str, Any]


class DraftItem(ResponseModel):
    product_id: uuid.UUID
    sku: str
    name: str
    quantity: int
    variant_note: str | None
    notes: str | None
    unit_price: Money | None
    currency: str
    stock_status: str
    stock_quantity: int | None
    product_url: str | None
    variant_required: bool = Field(description="The product has variants and none is chosen.")


class DraftSource(ResponseModel):
    channel: Literal["provider_whatsapp"] = "provider_whatsapp"
    source_id: str = Field(description="The WhatsApp session (providerSessionId).")
    source_type: str = "whatsapp_message"
    thread_id: str = Field(description="The chat (remoteJid).")
    message_id: str


class OrderDraft(ResponseModel):
    customer_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    items: list[DraftItem]
    source: DraftSource
    notes: str | None


class Commerce(ResponseModel):
    stage: CommerceStage
    order_readiness: OrderReadiness
    missing_fields: list[MissingField]
    order_draft: OrderDraft | None
    next_best_actions: list[NextAction]


class AppliedAction(ResponseModel):
    type: Literal["create_order"]
    order_id: uuid.UUID
    order_no: str
    actor_type: str
    actor_id: str | None
    allow_duplicate: bool
    created_at: Timestamp


class AnalysisOut(EventPayload):
    """One message's analysis. Also the payload of `ai.analysis.completed|failed`."""

    id: uuid.UUID
    account_id: uuid.UUID
    provider_session_id: str
    remote_jid: str
    message_id: str
    provider: AnalysisProvider
    model: str | None
    status: AnalysisStatus
    skip_reason: SkipReason | None = Field(description="Why nothing was analysed (skipped).")
    source_type: AnalysisSource
    trigger: AnalysisTrigger
    intent: Intent | None
    action: AnalysisAction | None
    priority: Priority | None
    sentiment: Sentiment | None
    summary: str | None
    suggested_reply: str | None
    confidence: float | None
    entities: Entities
    visual_description: str | None
    warnings: list[str]
    result: dict[str, Any] = Field(description="What the analyser concluded, in full.")
    input: dict[str, Any] = Field(description="What it was given (text, context, model).")
    usage: dict[str, Any] = Field(description="Tokens and cost estimate of the LLM calls.")
    openai_response_id: str | None
    attempt_count: int
    max_attempts: int
    next_attempt_at: Timestamp | None
    last_error: dict[str, Any] | None
    completed_at: Timestamp | None
    failed_at: Timestamp | None
    skipped_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str
    product_matches: list[ProductMatch]
    visual_search: VisualSearch | None
    commerce: Commerce | None
    applied_actions: list[AppliedAction]


class AnalysisRetry(ApiModel):
    provider_session_id: ProviderSessionField


# Feedback -----------------------------------------------------------------------------------


class FeedbackCreate(ApiModel):
    provider_session_id: ProviderSessionField
    intent_correct: bool | None = None
    correct_intent: Intent | None = Field(default=None, description="The right intent.")
    product_correct: bool | None = Field(default=None, description="Was the first match right?")
    correct_product_id: uuid.UUID | None = Field(default=None, description="The right product.")
    comment: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _says_something(self) -> FeedbackCreate:
        judged = (
            self.intent_correct,
            self.correct_intent,
            self.product_correct,
            self.correct_product_id,
            self.comment,
        )
        if all(value is None for value in judged):
            raise ValueError(
                "give at least one of intentCorrect, correctIntent, productCorrect, "
                "correctProductId, comment"
            )
        return self


class FeedbackOut(ResponseModel):
    id: uuid.UUID
    analysis_id: uuid.UUID
    intent_correct: bool | None
    correct_intent: Intent | None
    product_correct: bool | None
    correct_product_id: uuid.UUID | None
    comment: str | None
    judged_intent: Intent | None = Field(description="The analysis's intent when judged.")
    judged_product_ids: list[uuid.UUID] = Field(description="Its product matches, best first.")
    actor_type: str
    actor_id: str | None
    created_at: Timestamp


# An order from an analysis (the published create-order) ------------------------------------


class AnalysisOrderItem(ApiModel):
    product_id: uuid.UUID
    quantity: int | None = Field(
        default=None, ge=1, le=100_000, description="Default: the draft's quantity, else 1."
    )
    variant_note: str | None = Field(default=None, max_length=500)
    metadata: dict[str, Any] = Field(default_factory=dict)


class AnalysisOrderCreate(ApiModel):
    """The order draft of the analysis, with these overrides; fields left out come from it."""

    provider_session_id: ProviderSessionField
    customer_id: uuid.UUID | None = Field(
        default=None, description="Default: the CRM customer the chat is linked to."
    )
    contact_id: uuid.UUID | None = Field(default=None, description="Default: the chat's contact.")
    items: list[AnalysisOrderItem] | None = Field(
        default=None, max_length=200, description="Default: the draft's items."
    )
    shipping: ShippingInfo | None = None
    payment: PaymentInfo | None = None
    notes: str | None = Field(default=None, max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    metadata: dict[str, Any] = Field(default_factory=dict)
    allow_duplicate: bool = Field(
        default=False, description="Create another order even if this analysis made one."
    )


class OrderFromAnalysis(ResponseModel):
    order: OrderOut
    analysis: AnalysisOut
