"""What a message means, in the terms both analysers share: intent, priority, sentiment, what
the customer wants (product words, colour, size, quantity) and how sure we are.

`by_rules` reads it from the deterministic extraction; the LLM path fills the same structure
from the model's answer (`analysis.llm`), so matching, commerce and the stored analysis do not
care which analyser ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ticaret.ai.analysis.extract import Extraction, ProductWord, extract
from ticaret.ai.analysis.matching import Wanted
from ticaret.ai.analysis.text import words
from ticaret.ai.schemas import Priority, Sentiment
from ticaret.models import Intent

# Complaints with these words go to a person first.
SEVERE = frozenset({"rezalet", "dolandirici", "sahte", "magdur", "avukat", "tuketici"})
# Earlier customer messages looked at for the product a follow-up refers to ("M var mı?").
CONTEXT_LOOKBACK = 5
_SHOPPING = (Intent.stock_question, Intent.price_question, Intent.order, Intent.product_inquiry)
# A chat's messages are read again as the context of each of its next few messages: the
# readings of recent texts are kept (an extraction is never changed once made).
_read = lru_cache(maxsize=4096)(extract)


@dataclass
class Understanding:
    intent: Intent
    priority: Priority
    sentiment: Sentiment
    confidence: float  # of the intent
    wanted: Wanted
    quantity: int | None
    product_text: str | None  # the product as the customer wrote it
    date: str | None = None
    summary: str | None = None
    suggested_reply: str | None = None
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def _intent(extraction: Extraction) -> tuple[Intent, float]:
    signals = extraction.intents
    for intent in (Intent.complaint, Intent.order, Intent.stock_question, Intent.price_question):
        if intent in signals:
            return intent, 0.85
    if extraction.has_product or Intent.product_inquiry in signals:
        return Intent.product_inquiry, 0.6 if extraction.has_product else 0.7
    if Intent.greeting in signals:
        return Intent.greeting, 0.9
    if extraction.colours or extraction.sizes:
        return Intent.product_inquiry, 0.5
    return Intent.other, 0.3


def _priority(intent: Intent, text_words: set[str]) -> Priority:
    if intent is Intent.complaint:
        return Priority.urgent if text_words & SEVERE else Priority.high
    if intent is Intent.order:
        return Priority.high
    if intent in (Intent.greeting, Intent.other):
        return Priority.low
    return Priority.normal


def _sentiment(intent: Intent, extraction: Extraction) -> Sentiment:
    if intent is Intent.complaint:
        return Sentiment.negative
    if extraction.positive:
        return Sentiment.positive
    return Sentiment.neutral


def product_words_from_context(
    earlier: Sequence[Extraction],
) -> tuple[list[ProductWord], Extraction | None]:
    """The product of the latest earlier message that named one (newest first)."""
    for extraction in earlier[:CONTEXT_LOOKBACK]:
        if extraction.product_words:
            return list(extraction.product_words), extraction
    return [], None


def by_rules(text: str, earlier_texts: Sequence[str] = ()) -> Understanding:
    """The deterministic reading of `text`; `earlier_texts` are the customer's previous
    messages in the chat, newest first (a follow-up's product may be named there)."""
    extraction = _read(text)
    intent, confidence = _intent(extraction)
    product_words = list(extraction.product_words)
    colours, sizes = list(extraction.colours), list(extraction.sizes)
    warnings: list[str] = []
    from_context: Extraction | None = None
    if not product_words and (intent in _SHOPPING or colours or sizes) and earlier_texts:
        product_words, from_context = product_words_from_context([_read(t) for t in earlier_texts])
        if from_context is not None:
            warnings.append("The product was named in an earlier message of the chat.")
            colours = colours or list(from_context.colours)
            sizes = sizes or list(from_context.sizes)
            if intent is Intent.other:
                intent, confidence = Intent.product_inquiry, 0.5
    text_words = set(words(text))
    wanted = Wanted(product_words, colours, sizes, frozenset(text_words), extraction.numbers)
    return Understanding(
        intent=intent,
        priority=_priority(intent, text_words),
        sentiment=_sentiment(intent, extraction),
        confidence=confidence,
        wanted=wanted,
        quantity=extraction.quantity,
        product_text=" ".join(w.raw or w.word for w in product_words) or None,
        date=extraction.dates[0] if extraction.dates else None,
        warnings=warnings,
        details={
            "normalizedText": extraction.text,
            "intentSignals": {k.value: v for k, v in extraction.intents.items()},
            "productWords": [list(w.forms) for w in product_words],
            "colours": colours,
            "sizes": sizes,
            "quantity": extraction.quantity,
            "corrections": extraction.corrections,
            "positive": extraction.positive,
            "productFromContext": from_context is not None,
        },
    )
