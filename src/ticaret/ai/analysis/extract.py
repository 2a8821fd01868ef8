"""What a customer's message says, read by rules: product words, colours, sizes, a quantity,
and the phrases that signal each intent. No key, no network, microseconds per message."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from ticaret.ai.analysis import lexicon
from ticaret.ai.analysis.text import Token, closest, fold, stems, tokens
from ticaret.models import Intent

# A word this far (trigram similarity) from a known word is read as that word: one letter off
# in a word of five or more letters.
CORRECTION_THRESHOLD = 0.5
# Shorter words are too close to too many others ("mont" is one letter from "mint").
MIN_CORRECTED_LENGTH = 5
MAX_QUANTITY = 999
# Customers' messages are short; a pasted essay is read as far as this, and no further.
MAX_TEXT = 1000
MAX_PRODUCT_WORDS = 12
_NUMBER_WITH_SUFFIX = re.compile(r"^(\d{1,4})(lik|luk|li|lu|lık|lük)?$")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?\b")


@dataclass(frozen=True)
class ProductWord:
    """A word that may name a product, with the stems it may have (most likely first)."""

    word: str
    forms: tuple[str, ...]
    raw: str = ""  # as typed


@dataclass(frozen=True)
class Extraction:
    text: str
    product_words: list[ProductWord]
    colours: list[str]  # folded Turkish names, in message order
    sizes: list[str]  # as shops write them: "M", "XL", "38"
    quantity: int | None
    intents: dict[Intent, list[str]]  # the phrases found, by intent
    positive: list[str]
    dates: list[str] = field(default_factory=list)
    # Numbers that are no size, quantity, price or date by themselves ("kemer 95"): a size if
    # the matched product has it.
    numbers: list[str] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)  # typed -> understood

    @property
    def colour_names(self) -> list[str]:
        return [lexicon.colour_name(colour) for colour in self.colours]

    @property
    def has_product(self) -> bool:
        return bool(self.product_words)

    def search_terms(self) -> list[str]:
        """What to search the catalog for: each product word's forms, then the colours."""
        terms: list[str] = []
        for word in self.product_words:
            terms.extend(word.forms)
        terms.extend(self.colours)
        return list(dict.fromkeys(terms))


@cache
def _phrases() -> dict[str, tuple[tuple[Intent, tuple[str, ...]], ...]]:
    """Intent phrases indexed by their first word."""
    index: dict[str, list[tuple[Intent, tuple[str, ...]]]] = {}
    for intent, phrases in lexicon.INTENT_PHRASES.items():
        for phrase in phrases:
            parts = tuple(phrase.split())
            index.setdefault(parts[0], []).append((intent, parts))
    for phrase in lexicon.POSITIVE_PHRASES:
        parts = tuple(phrase.split())
        index.setdefault(parts[0], []).append((Intent.other, parts))
    return {first: tuple(sorted(v, key=lambda p: -len(p[1]))) for first, v in index.items()}


@cache
def _vocabulary() -> frozenset[str]:
    """The words a misspelling is corrected to: colours, size and quantity words, and the
    intent phrases of one word. (A word that only means something inside a phrase, such as
    "satın" of "satın almak", is no target: "saten" would become it.)"""
    known: set[str] = set(lexicon.COLOURS) | lexicon.COLOUR_WORDS | lexicon.SIZE_WORDS
    known |= set(lexicon.NUMBER_WORDS)
    for phrases in lexicon.INTENT_PHRASES.values():
        known.update(phrase for phrase in phrases if " " not in phrase)
    known.update(phrase for phrase in lexicon.POSITIVE_PHRASES if " " not in phrase)
    return frozenset(w for w in known if len(w) >= MIN_CORRECTED_LENGTH)


def _known(word: str) -> bool:
    return (
        word in lexicon.STOPWORDS
        or word in lexicon.COLOURS
        or word in lexicon.LETTER_SIZES
        or word in _phrases()
        or word in _vocabulary()
    )


@lru_cache(maxsize=65_536)
def _correction(word: str) -> str | None:
    """The known word a (folded) word is a typo of, if any. Looking costs a comparison with
    the whole vocabulary, and customers type the same words again and again: kept."""
    vocabulary = _vocabulary()
    # An inflected known word ("stokta", "siparisimi") is that word, not a typo.
    if (
        len(word) >= MIN_CORRECTED_LENGTH
        and not word.isdigit()
        and not _known(word)
        and not any(form in vocabulary or form in lexicon.STOPWORDS for form in stems(word))
    ):
        match = closest(word, vocabulary, CORRECTION_THRESHOLD)
        if match is not None:
            return match[0]
    return None


def _corrected(toks: list[Token]) -> tuple[list[str], dict[str, str]]:
    words: list[str] = []
    corrections: dict[str, str] = {}
    for token in toks:
        word = token.text
        correction = _correction(word)
        if correction is not None:
            corrections[token.raw] = correction
            word = correction
        words.append(word)
    return words, corrections


def _colour_of(word: str) -> str | None:
    """The colour a word names ("siyahı", "mavisi", "navy"), folded."""
    for form in stems(word):
        if form in lexicon.COLOURS:
            return fold(lexicon.COLOURS[form])
    return None


def _number(word: str) -> int | None:
    match = _NUMBER_WITH_SUFFIX.match(word)
    return int(match.group(1)) if match else None


def extract(text: str) -> Extraction:
    text = text[:MAX_TEXT]
    toks = tokens(text)
    words, corrections = _corrected(toks)
    used = [False] * len(words)
    intents: dict[Intent, list[str]] = {}
    positive: list[str] = []

    # Phrases first: "var mi", "kac para", "almak istiyorum".
    index = _phrases()
    i = 0
    while i < len(words):
        matched = 0
        for form in stems(words[i]):
            for intent, parts in index.get(form, ()):
                tail = words[i + 1 : i + len(parts)]
                if tuple([form, *tail]) == parts or (
                    len(parts) > 1 and tuple([form, *[stems(w)[-1] for w in tail]]) == parts
                ):
                    phrase = " ".join(parts)
                    if intent is Intent.other:
                        positive.append(phrase)
                    else:
                        intents.setdefault(intent, []).append(phrase)
                    matched = len(parts)
                    break
            if matched:
                break
        if matched:
            for j in range(i, i + matched):
                used[j] = True
            i += matched
        else:
            i += 1

    dates: list[str] = []
    for match in _NUMERIC_DATE.finditer(text):
        if 1 <= int(match.group(2)) <= 12 and 1 <= int(match.group(1)) <= 31:
            dates.append(match.group(0))
            for j, token in enumerate(toks):
                if match.start() <= token.start < match.end():
                    used[j] = True
    for j, word in enumerate(words):
        if used[j]:
            continue
        if word in lexicon.DAY_WORDS:
            dates.append(lexicon.DAY_WORDS[word])
            used[j] = True
        elif word in lexicon.MONTHS:
            day = words[j - 1] if j > 0 and words[j - 1].isdigit() else None
            if day is not None and 1 <= int(day) <= 31:
                dates.append(f"{day} {lexicon.MONTHS[word]}")
                used[j - 1] = True
            used[j] = True

    colours: list[str] = []
    sizes: list[str] = []
    numbers: list[str] = []
    quantity: int | None = None

    def neighbour(j: int) -> set[str]:
        return {words[k] for k in (j - 1, j + 1) if 0 <= k < len(words)}

    for j, word in enumerate(words):
        if used[j]:
            continue
        around = neighbour(j)
        colour = _colour_of(word)
        if colour is not None:
            if colour not in colours:
                colours.append(colour)
            used[j] = True
            continue
        if word in lexicon.LETTER_SIZES and (
            word not in lexicon.AMBIGUOUS_SIZES
            or toks[j].raw.isupper()
            or around & lexicon.SIZE_WORDS
        ):
            size = lexicon.LETTER_SIZES[word]
            if size not in sizes:
                sizes.append(size)
            used[j] = True
            continue
        if word in lexicon.SPELLED_SIZES and around & lexicon.SIZE_WORDS:
            sizes.append(lexicon.SPELLED_SIZES[word])
            used[j] = True
            continue
        number = _number(word)
        spelled = lexicon.NUMBER_WORDS.get(word)
        following = words[j + 1] if j + 1 < len(words) else ""
        if number is not None or spelled is not None:
            if following in lexicon.QUANTITY_UNITS:
                quantity = min(number if number is not None else spelled or 1, MAX_QUANTITY)
            elif number is not None and following in lexicon.CURRENCY_WORDS:
                pass  # a price the customer names
            elif number is not None and (
                around & lexicon.SIZE_WORDS or number in lexicon.NUMERIC_SIZE_RANGE
            ):
                if str(number) not in sizes:
                    sizes.append(str(number))
            elif number is not None and 0 < number < min(lexicon.NUMERIC_SIZE_RANGE):
                quantity = quantity or number
            elif number is not None:
                numbers.append(str(number))
            used[j] = True
            continue
        if (
            word in lexicon.STOPWORDS
            or word in lexicon.COLOUR_WORDS
            or word in lexicon.SIZE_WORDS
            or word in lexicon.QUANTITY_UNITS
            or word in lexicon.CURRENCY_WORDS
            or len(word) < 2
        ):
            used[j] = True

    product_words: list[ProductWord] = []
    for j, word in enumerate(words):
        if used[j] or any(form in lexicon.STOPWORDS for form in stems(word)[1:]):
            continue
        if word not in (p.word for p in product_words):
            forms = stems(word)
            synonym = next((lexicon.SYNONYMS[f] for f in forms if f in lexicon.SYNONYMS), None)
            if synonym is not None:
                forms.append(synonym)
            product_words.append(ProductWord(word, tuple(dict.fromkeys(forms)), toks[j].raw))
    return Extraction(
        text=" ".join(words),
        product_words=product_words[:MAX_PRODUCT_WORDS],
        colours=colours,
        sizes=sizes,
        quantity=quantity,
        intents=intents,
        positive=positive,
        dates=dates,
        numbers=numbers,
        corrections=corrections,
    )
