"""Product matching: candidates from the catalog search, re-ranked by how well each agrees with
what the customer asked for.

The catalog search (`catalog.service.search`) finds products that share words with the
message (folded, a letter or two off allowed). Each candidate then gets a confidence from:

- the product words: how many of the customer's product words the product's name, category,
  brand, tags and attributes contain (stems and near spellings count; a word no candidate has
  at all is left out, it names nothing in this shop);
- colour: the product or one of its variants has the colour asked for (or has colours, none
  of them that one);
- size: a variant (or the size attribute) has the size asked for, in stock or not;
- brand: the customer named the product's brand;
- the search's own score.

The best candidates become `productMatches`, with a `matchStatus`: `high_confidence` (one
clear winner), `ambiguous` (several close), `low_confidence`, or `no_match`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.ai.analysis import lexicon
from ticaret.ai.analysis.extract import ProductWord, extract
from ticaret.ai.analysis.text import best_similarity, fold, words
from ticaret.ai.repository import catalog as ai_catalog
from ticaret.catalog.repository import products as catalog_repository
from ticaret.catalog.repository.products import ProductFilters
from ticaret.catalog.service.search import search_products
from ticaret.models import MatchStatus, Product, ProductStatus, ProductVariant, StockStatus

CANDIDATES = 20
SHOWN = 5
# Below this a product is no match at all.
MIN_CONFIDENCE = 0.35
HIGH_CONFIDENCE = 0.75
AMBIGUOUS_GAP = 0.08
# A product word whose best match among all candidates is below this names nothing here.
KNOWN_WORD = 0.45

COLOUR_KEYS = frozenset({"color", "colour", "renk", "renkler"})
SIZE_KEYS = frozenset({"size", "beden", "numara", "olcu", "sizes", "bedenler"})
_LIST_SEPARATORS = re.compile(r"\s*[,/;|]\s*")
# Spellings of one size (lower case) -> how sizes are compared.
_SIZE_ALIASES = {
    "2xl": "XXL",
    "3xl": "3XL",
    "xxxl": "3XL",
    "4xl": "4XL",
    "xxxxl": "4XL",
    "small": "S",
    "medium": "M",
    "large": "L",
}


@dataclass(frozen=True)
class Wanted:
    """What the customer asked for, as matching needs it."""

    product_words: Sequence[ProductWord]
    colours: Sequence[str]  # folded Turkish colour names
    sizes: Sequence[str]
    message_words: frozenset[str]
    numbers: Sequence[str] = ()  # a size if the matched product has it ("kemer 95")

    def search_query(self, in_catalog: set[str] | None = None) -> str:
        """One reading per product word, then the colours: the first reading the catalog has
        ("gömleğiniz" is searched as "gomlek"), else the word as typed (the search then looks
        for similar words: a typo). A reading no product has costs the search a similarity
        lookup (tens of milliseconds at 10k products). The re-ranking compares every reading."""
        known = in_catalog or set()
        terms = [next((f for f in w.forms if f in known), w.forms[0]) for w in self.product_words]
        terms.extend(self.colours)
        # The catalog search reads ten words at most.
        return " ".join(list(dict.fromkeys(terms))[:10])

    def readings(self) -> list[str]:
        return [form for word in self.product_words for form in word.forms]


@dataclass
class Candidate:
    product: Product
    variants: list[ProductVariant]
    search_score: float
    confidence: float = 0.0
    variant: ProductVariant | None = None
    colour_agrees: bool | None = None
    size_available: bool | None = None
    match_status: MatchStatus = MatchStatus.low_confidence
    reasons: list[str] = field(default_factory=list)

    @property
    def price(self) -> Decimal | None:
        if self.variant is not None and self.variant.price is not None:
            return self.variant.price
        return self.product.price

    @property
    def stock_status(self) -> str:
        return (self.variant or self.product).stock_status

    @property
    def stock_quantity(self) -> int | None:
        return (self.variant or self.product).stock_quantity

    @property
    def in_stock(self) -> bool:
        return self.stock_status in (StockStatus.in_stock, StockStatus.low_stock)

    def colours(self) -> set[str]:
        return _colours(self.product, self.variants)

    def sizes(self) -> list[str]:
        return _sizes(self.product, self.variants)


@dataclass
class Matching:
    searched: bool
    query: str
    candidates: list[Candidate]
    candidate_count: int
    status: MatchStatus | None
    unknown_words: list[str] = field(default_factory=list)
    # What was asked for as matching read it (a bare number the best product has as a size).
    wanted: Wanted | None = None

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def normal_size(value: str) -> str:
    size = value.strip().replace(" ", "")
    return _SIZE_ALIASES.get(size.lower(), size.upper())


def _values(raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [str(v) for v in raw if v is not None]
    if raw is None or isinstance(raw, bool):
        return []
    return [part for part in _LIST_SEPARATORS.split(str(raw)) if part]


def _attribute(attributes: dict[str, Any], keys: frozenset[str]) -> list[str]:
    found: list[str] = []
    for key, value in attributes.items():
        if fold(str(key)) in keys:
            found.extend(_values(value))
    return found


def _colour_values(values: Iterable[str]) -> set[str]:
    colours: set[str] = set()
    for value in values:
        colour = lexicon.colour_of(value)
        colours.add(colour or fold(value))
    return colours


def _colours(product: Product, variants: Sequence[ProductVariant]) -> set[str]:
    colours = _colour_values(_attribute(product.attributes, COLOUR_KEYS))
    for variant in variants:
        colours |= _colour_values(_attribute(variant.attributes, COLOUR_KEYS))
    # A colour in the name ("Kırmızı Elbise") is the product's colour too.
    colours |= {c for c in (lexicon.colour_of(w) for w in words(product.name)) if c}
    return colours


def _sizes(product: Product, variants: Sequence[ProductVariant]) -> list[str]:
    sizes = [normal_size(v) for v in _attribute(product.attributes, SIZE_KEYS)]
    for variant in variants:
        sizes.extend(normal_size(v) for v in _attribute(variant.attributes, SIZE_KEYS))
    return list(dict.fromkeys(sizes))


def _vocabulary(product: Product, variants: Sequence[ProductVariant]) -> list[str]:
    """The folded words a customer may use for this product."""
    texts = [product.name, product.category or "", product.brand or "", product.sku]
    texts.extend(product.tags)
    for key, value in product.attributes.items():
        if fold(str(key)) not in SIZE_KEYS:
            texts.extend(_values(value))
    for variant in variants:
        texts.append(variant.name or "")
    return list(dict.fromkeys(w for text in texts for w in words(text)))


def _variant_for(
    candidate: Candidate, colours: Sequence[str], sizes: Sequence[str]
) -> ProductVariant | None:
    """The variant with the colour and size asked for (in stock first), if one fits."""
    fitting: list[ProductVariant] = []
    for variant in candidate.variants:
        variant_colours = _colour_values(_attribute(variant.attributes, COLOUR_KEYS))
        variant_sizes = {normal_size(v) for v in _attribute(variant.attributes, SIZE_KEYS)}
        if colours and variant_colours and not variant_colours & set(colours):
            continue
        if sizes and variant_sizes and not variant_sizes & {normal_size(s) for s in sizes}:
            continue
        fitting.append(variant)
    if not fitting or (not colours and not sizes and len(candidate.variants) > 1):
        return None
    in_stock = [
        v for v in fitting if v.stock_status in (StockStatus.in_stock, StockStatus.low_stock)
    ]
    return (in_stock or fitting)[0]


def _score(candidate: Candidate, wanted: Wanted, counted: Sequence[ProductWord]) -> None:
    product = candidate.product
    vocabulary = _vocabulary(product, candidate.variants)
    lexical = (
        sum(best_similarity(word.forms, vocabulary) for word in counted) / len(counted)
        if counted
        else 0.0
    )
    colour_term = 0.0
    if wanted.colours:
        colours = candidate.colours()
        if colours:
            candidate.colour_agrees = bool(colours & set(wanted.colours))
            colour_term = 1.0 if candidate.colour_agrees else -1.0
    size_term = 0.0
    if wanted.sizes:
        sizes = candidate.sizes()
        if sizes:
            asked = {normal_size(s) for s in wanted.sizes}
            candidate.size_available = bool(asked & set(sizes))
            size_term = 1.0 if candidate.size_available else -1.0
    brand_term = 0.0
    if product.brand:
        brand_words = set(words(product.brand))
        if brand_words and brand_words <= wanted.message_words:
            brand_term = 1.0
    candidate.variant = _variant_for(candidate, wanted.colours, wanted.sizes)
    if counted:
        confidence = (
            0.72 * lexical
            + 0.1 * candidate.search_score
            + 0.1 * colour_term
            + 0.08 * size_term
            + 0.08 * brand_term
        )
    else:
        # Only a colour or size to go on (the product came from earlier messages or a photo).
        confidence = 0.3 + 0.25 * colour_term + 0.15 * size_term + 0.2 * candidate.search_score
    if wanted.sizes and candidate.variant is not None and not candidate.in_stock:
        candidate.reasons.append("the size asked for is out of stock")
    candidate.confidence = round(max(0.0, min(1.0, confidence)), 3)


def _grade(ranked: list[Candidate]) -> MatchStatus:
    if not ranked:
        return MatchStatus.no_match
    top = ranked[0].confidence
    close = [c for c in ranked[1:] if top - c.confidence < AMBIGUOUS_GAP]
    if close and top >= 0.5:
        for candidate in [ranked[0], *close]:
            candidate.match_status = MatchStatus.ambiguous
        for candidate in ranked[1 + len(close) :]:
            candidate.match_status = MatchStatus.low_confidence
        return MatchStatus.ambiguous
    status = MatchStatus.high_confidence if top >= HIGH_CONFIDENCE else MatchStatus.low_confidence
    ranked[0].match_status = status
    for candidate in ranked[1:]:
        candidate.match_status = MatchStatus.low_confidence
    return status


async def match_products(
    session: AsyncSession,
    account_id: uuid.UUID,
    wanted: Wanted,
    *,
    limit: int = SHOWN,
    no_products: bool = False,
) -> Matching:
    """The account's active products that fit what the customer asked for, best first.
    `no_products`: the caller knows the account has no live product (none of any status):
    no spelling is in its catalog and the search finds nothing, so neither is asked."""
    if not wanted.product_words:
        return Matching(False, wanted.search_query(), [], 0, None)
    if no_products:
        return Matching(True, wanted.search_query(set()), [], 0, MatchStatus.no_match)
    known = await ai_catalog.spellings_in_catalog(session, account_id, wanted.readings())
    query = wanted.search_query(known)
    found = await search_products(
        session,
        account_id,
        query,
        filters=ProductFilters(status=ProductStatus.active),
        limit=CANDIDATES,
    )
    if not found:
        return Matching(True, query, [], 0, MatchStatus.no_match)
    variants = await catalog_repository.variants_of(
        session, account_id, [match.product.id for match in found]
    )
    candidates = [Candidate(m.product, variants.get(m.product.id, []), m.score) for m in found]
    # A word none of the candidates has names nothing in this shop ("abicim", a typo too far):
    # counting it would lower every candidate alike and hide a clear match.
    vocabularies = [_vocabulary(c.product, c.variants) for c in candidates]
    counted = [
        word
        for word in wanted.product_words
        if max(best_similarity(word.forms, vocabulary) for vocabulary in vocabularies) >= KNOWN_WORD
    ]
    unknown = [word.word for word in wanted.product_words if word not in counted]
    if not counted:
        return Matching(True, query, [], len(found), MatchStatus.no_match, unknown)
    ranked = _rank(candidates, wanted, counted)
    if ranked and not wanted.sizes and wanted.numbers:
        sizes = ranked[0].sizes()
        fits = [n for n in wanted.numbers if normal_size(n) in sizes]
        if fits:
            wanted = replace(wanted, sizes=fits[:1])
            for candidate in candidates:
                candidate.reasons.clear()
            ranked = _rank(candidates, wanted, counted)
    status = _grade(ranked)
    return Matching(True, query, ranked[:limit], len(found), status, unknown, wanted)


def _rank(
    candidates: list[Candidate], wanted: Wanted, counted: Sequence[ProductWord]
) -> list[Candidate]:
    for candidate in candidates:
        _score(candidate, wanted, counted)
    return sorted(
        (c for c in candidates if c.confidence >= MIN_CONFIDENCE),
        key=lambda c: (-c.confidence, -c.search_score, str(c.product.id)),
    )


async def match_attributes(
    session: AsyncSession,
    account_id: uuid.UUID,
    query: str,
    colours: Sequence[str],
    *,
    limit: int = SHOWN,
) -> Matching:
    """Products for a photo: the vision model's description words as the product words."""
    extraction = extract(query)
    wanted = Wanted(
        extraction.product_words,
        list(dict.fromkeys([*colours, *extraction.colours])),
        extraction.sizes,
        frozenset(words(query)),
    )
    return await match_products(session, account_id, wanted, limit=limit)
