"""The labelled set (fixtures/labelled_messages.json) run through the analysis pipeline, and
scored beside a plain keyword search: top-1 and top-3 accuracy on messages that name a
product, how often a message naming none gets no confident match, and intent accuracy.

Used by tests/ai/test_accuracy.py (floors) and bench/ai_accuracy_bench.py (the figures)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text

from tests.ai.helpers import FIXTURES, Shop, analysis, customer_says

CONFIDENT = ("high_confidence", "ambiguous")


@dataclass(frozen=True)
class Labelled:
    id: int
    text: str
    expected: list[str]
    intent: str
    context: list[str]

    @property
    def phone(self) -> str:
        # Each message in a chat of its own: context never leaks between examples.
        return f"9055590{self.id:05d}"


def labelled_messages(name: str = "labelled_messages.json") -> list[Labelled]:
    raw = json.loads((FIXTURES / name).read_text())["messages"]
    return [
        Labelled(m["id"], m["text"], m["expected"], m["intent"], m.get("context", [])) for m in raw
    ]


@dataclass
class Score:
    products: int = 0
    top1: int = 0
    top3: int = 0
    empty: int = 0
    empty_right: int = 0
    intents: int = 0
    intent_right: int = 0
    misses: list[str] = field(default_factory=list)

    def line(self, label: str) -> str:
        parts = [
            f"{label:<22} top-1 {self.top1 / self.products:6.1%}  "
            f"top-3 {self.top3 / self.products:6.1%}  ({self.products} messages naming a product)"
        ]
        if self.empty:
            parts.append(f"no confident match when none is meant {self.empty_right}/{self.empty}")
        if self.intents:
            parts.append(f"intent {self.intent_right / self.intents:6.1%}")
        return "; ".join(parts)


def score(
    items: Sequence[Labelled],
    ranked: Sequence[list[str]],
    intents: Sequence[str | None] = (),
    confident: Sequence[bool] = (),
) -> Score:
    result = Score()
    for index, item in enumerate(items):
        skus = ranked[index]
        if item.expected:
            result.products += 1
            hit1 = bool(skus) and skus[0] in item.expected
            result.top1 += hit1
            result.top3 += any(s in item.expected for s in skus[:3])
            if not hit1:
                result.misses.append(f"#{item.id} {item.text!r}: {skus[:3]} (want {item.expected})")
        else:
            result.empty += 1
            result.empty_right += not (confident[index] if confident else bool(skus))
        if intents:
            result.intents += 1
            result.intent_right += intents[index] == item.intent
    return result


async def run_pipeline(
    client: httpx.AsyncClient,
    shop: Shop,
    items: Sequence[Labelled],
    run_jobs: Callable[[], Awaitable[Any]],
) -> list[dict[str, Any]]:
    """Every message (after its context) from its own customer, then the worker, then each
    message's analysis."""
    for item in items:
        for earlier in item.context:
            await customer_says(client, shop, earlier, phone=item.phone)
    if any(item.context for item in items):
        await run_jobs()
    ids = [await customer_says(client, shop, item.text, phone=item.phone) for item in items]
    await run_jobs()
    return [
        await analysis(client, shop, message_id, jid=f"{item.phone}@s.whatsapp.net")
        for item, message_id in zip(items, ids, strict=True)
    ]


def ranked_skus(analyses: Sequence[dict[str, Any]]) -> list[list[str]]:
    return [[m["sku"] for m in a["productMatches"]] for a in analyses]


def confident(analyses: Sequence[dict[str, Any]]) -> list[bool]:
    return [
        bool(a["productMatches"]) and a["productMatches"][0]["matchStatus"] in CONFIDENT
        for a in analyses
    ]


_WORD = re.compile(r"\w{3,}", re.UNICODE)

ILIKE_RANKING = text(
    """
    SELECT sku FROM (
      SELECT sku, id, (
        SELECT count(*) FROM unnest(CAST(:words AS text[])) AS w
        WHERE name ILIKE '%' || w || '%' OR coalesce(category, '') ILIKE '%' || w || '%'
           OR coalesce(brand, '') ILIKE '%' || w || '%'
      ) AS hits
      FROM products WHERE account_id = :account AND deleted_at IS NULL
    ) AS ranked
    WHERE hits > 0 ORDER BY hits DESC, id LIMIT 3
    """
)


async def ilike_ranked(account_id: str, items: Sequence[Labelled]) -> list[list[str]]:
    """The baseline: products whose name, category or brand contain the message's words
    (ILIKE, three letters or more), most words first."""
    from ticaret.core.db import get_engine

    ranked: list[list[str]] = []
    async with get_engine().connect() as conn:
        for item in items:
            words = [w for w in _WORD.findall(item.text.lower())]
            rows = await conn.execute(ILIKE_RANKING, {"words": words, "account": account_id})
            ranked.append([row[0] for row in rows])
    return ranked
