"""Search terms: what a record stores so that `q` can match it with an indexed `$all`.

Text is lower-cased, accents folded, split on anything that is not a letter or digit
(so "Xi'an" gives "xi" and "an"), stop words dropped and the rest reduced to English Snowball
stems. A record stores its terms with a field prefix (`t:` title, `s:` summary, `o:` other
text) for ranking, plus the bare terms for matching.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+")

# A short English stop list: words that carry no meaning for search here.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "which",
        "will",
        "with",
    ]
)

MAX_QUERY_TERMS = 20


@cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


def _fold(text: str) -> str:
    if text.isascii():  # nothing to fold: skip the per-character walk
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """Snowball stems in pure Python cost ~0.25 ms a word; text repeats words, so cache them.

    Without the cache, stemming was 85% of the CPU time of validating and deriving a record
    (bulk writes, PUT); 65,536 entries of short strings take a few MB.
    """
    return str(_stemmer().stemWord(word))


def terms(text: str) -> list[str]:
    """The stems of `text` in order, stop words dropped, duplicates kept."""
    return [_stem(w) for w in _WORD.findall(_fold(text)) if w not in STOP_WORDS]


def query_terms(q: str) -> list[str]:
    """Distinct stems of a user's query, in order; anything typed is treated as text."""
    return list(dict.fromkeys(terms(q)))[:MAX_QUERY_TERMS]


def record_terms(title: str, summary: str | None, other: Iterable[str]) -> list[str]:
    """Every distinct stem of the record, bare and prefixed with where it occurs."""
    fields = {"t": set(terms(title)), "s": set(terms(summary or "")), "o": set()}
    for text in other:
        fields["o"].update(terms(text))
    bare = fields["t"] | fields["s"] | fields["o"]
    prefixed = {f"{k}:{term}" for k, found in fields.items() for term in found}
    return sorted(bare) + sorted(prefixed)


def relevance(stored: list[str], wanted: list[str]) -> int:
    """Higher for matches in the title, then the summary, then elsewhere."""
    have = set(stored)
    return sum(3 if f"t:{t}" in have else 2 if f"s:{t}" in have else 1 for t in wanted if t in have)
