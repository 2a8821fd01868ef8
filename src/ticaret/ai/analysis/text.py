"""Turkish text the way customers type it: folded, split into words, stemmed, and compared by
trigrams.

Folding follows the catalog's `catalog_fold` (lower case with Turkish rules, then ı/i, ş/s,
ğ/g, ç/c, ö/o, ü/u and every other accent off), so a word folded here finds the same word in
the catalog: "KIRMIZI ÇANTA", "kirmizi canta" and "Kırmızı Çanta" are one text.

Trigram similarity is pg_trgm's (each word padded with two spaces in front and one behind;
shared trigrams over all trigrams), so a word typed a letter wrong is still close to the right
one: "fiyatı" / "fiyati" / "fyat".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

# Turkish case rules first: "I" is the capital of "ı", "İ" of "i" (Python's lower() would give
# "i" and "i̇" with a combining dot).
_TURKISH_LOWER = str.maketrans({"I": "ı", "İ": "i"})
_TURKISH_LETTERS = str.maketrans({"ı": "i", "ş": "s", "ğ": "g", "ç": "c", "ö": "o", "ü": "u"})
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lower case with Turkish rules, Turkish letters and accents folded to plain a-z."""
    lowered = text.translate(_TURKISH_LOWER).lower().translate(_TURKISH_LETTERS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Token:
    """One word of a message: as typed, and folded."""

    raw: str
    text: str
    position: int
    start: int  # offset in the text

    @property
    def is_number(self) -> bool:
        return self.text.isdigit()


# Customers use the same few thousand words over and over: each word is folded once.
_fold_word = lru_cache(maxsize=65_536)(fold)


def tokens(text: str) -> list[Token]:
    return [
        Token(m.group(0), _fold_word(m.group(0)), i, m.start())
        for i, m in enumerate(_WORD.finditer(text))
    ]


def words(text: str) -> list[str]:
    return [token.text for token in tokens(text)]


@lru_cache(maxsize=65_536)
def trigrams(word: str) -> frozenset[str]:
    padded = f"  {word} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def similarity(a: str, b: str) -> float:
    """pg_trgm `similarity` of two words."""
    if a == b:
        return 1.0
    left, right = trigrams(a), trigrams(b)
    shared = len(left & right)
    return shared / (len(left) + len(right) - shared) if shared else 0.0


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (a swap of two neighbours is one edit), or `limit + 1`
    once it is certainly more than `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def typo_limit(word: str) -> int:
    """How many letters may be off in a word this long and still be that word."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


def closest(word: str, vocabulary: Iterable[str], threshold: float) -> tuple[str, float] | None:
    """The vocabulary word `word` was meant to be: trigram similarity finds the candidates (at
    least `threshold`, or somewhat less when only a letter or two differ, which short words
    need: "fyat" shares few trigrams with "fiyat")."""
    best: tuple[str, float] | None = None
    floor = min(threshold, 0.25)
    for candidate in vocabulary:
        score = similarity(word, candidate)
        if score < floor or (best is not None and score <= best[1]):
            continue
        if score >= threshold or edit_distance(word, candidate, typo_limit(word)) <= typo_limit(
            word
        ):
            best = (candidate, score)
    return best


# Stemming -----------------------------------------------------------------------------------

# Inflectional endings on nouns (possessive, case, plural, question particle glued on), folded,
# longest first. Stripping is conservative: a stem keeps three letters at least.
_SUFFIXES = tuple(
    sorted(
        {
            "lerimiz", "larimiz", "leriniz", "lariniz", "imiz", "iniz", "umuz", "unuz",
            "lerin", "larin", "leri", "lari", "ler", "lar",
            "nin", "nun", "in", "un",
            "niz", "nuz", "miz", "muz",
            "ndan", "nden", "dan", "den", "tan", "ten",
            "nda", "nde", "da", "de", "ta", "te",
            "yla", "yle", "la", "le",
            "yi", "yu", "ni", "nu", "si", "su",
            "ya", "ye", "na", "ne",
            "mi", "mu",
            "imi", "umu", "im", "um",
            "i", "u",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
# A stem ending in a voiced consonant was voiceless before a vowel-initial suffix voiced it:
# gömleğ-i -> gömlek, kitab-ı -> kitap, renkd... (folded: g -> k, b -> p, d -> t).
_DEVOICE = {"g": "k", "b": "p", "d": "t"}
MIN_STEM = 3


@lru_cache(maxsize=65_536)
def _stems(word: str) -> tuple[str, ...]:
    if word.isdigit() or len(word) <= MIN_STEM + 1:
        return (word,)
    found: list[str] = []
    # Every ending the word may have, the shortest first ("takımı" is "takım" + "ı" before it
    # is "tak" + "ımı"); which one is right, only the catalog can tell.
    for suffix in reversed(_SUFFIXES):
        # Short endings need a longer stem: "çanta" is not "çan" + "ta".
        shortest = MIN_STEM if len(suffix) > 2 else MIN_STEM + 1
        if word.endswith(suffix) and len(word) - len(suffix) >= shortest:
            stem = word[: -len(suffix)]
            last = stem[-1]
            if last in _DEVOICE:
                found.append(stem[:-1] + _DEVOICE[last])
            found.append(stem)
    return tuple(dict.fromkeys([word, *found]))


def stems(word: str) -> list[str]:
    """`word` and the stems it may have (longest first), each at least three letters."""
    return list(_stems(word))


def best_similarity(forms: Sequence[str], targets: Iterable[str]) -> float:
    """How well any of a word's forms matches any target word (a target containing the form,
    or the form containing a target of four letters or more, counts as a full match)."""
    best = 0.0
    for target in targets:
        for form in forms:
            if form == target or (len(form) >= MIN_STEM + 1 and form in target):
                return 1.0
            if len(target) >= MIN_STEM + 1 and target in form:
                best = max(best, 0.9)
            elif typo_limit(form) and edit_distance(form, target, 1) <= 1:
                best = max(best, 0.85)  # a letter typed wrong, left out or doubled
            else:
                best = max(best, similarity(form, target))
    return best
