"""Search terms: what a record stores so that `q` can match it with an indexed `$all`.

Text is lower-cased, accents folded, split on anything that is not a letter or digit
(so "Xi'an" gives "xi" and "an"), stop words dropped and the rest reduced to English Snowball
stems. A record stores its terms with a field prefix (`t:` title, `s:` summary, `o:` other
text) for ranking, plus the bare terms for matching.

Spellings are folded before stemming (British and American: "fiber" is "fibre", "-ize" is
"-ise"), and the domain's known variants (`SYNONYMS`, published at `GET /v1/vocab/synonyms`)
meet on one canonical word: a record that says "Jiao Tong" also stores "jiaotong", and a query
for "Jiao Tong" looks for "jiaotong", so either spelling finds both. Multi-word variants are
matched after stop words are dropped, so "Belt and Road" and "belt road" are the same phrase.
"""

import itertools
import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+")
#: Words joined by hyphens or apostrophes: "start-ups", "co-funding", "Xi'an".
_JOINERS = "'\u2019\u2010\u2011-"
_COMPOUND = re.compile(rf"[^\W_]+(?:[{_JOINERS}][^\W_]+)+")

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

#: The domain's known variants: each canonical word and the spellings that mean the same.
#: Matching is case- and accent-insensitive; a variant may be several words.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "fibre": ("fiber",),
    "jiaotong": ("jiao tong",),
    "rmb": ("yuan", "renminbi", "cny"),
    "ai": ("artificial intelligence",),
    "eu": ("european union",),
    "bri": ("belt and road", "one belt one road", "obor"),
    "fdi": ("foreign direct investment",),
    "5g": ("fifth generation",),
}

#: American spellings and their British forms (the records' house style), word by word.
SPELLINGS: dict[str, str] = {
    "fiber": "fibre",
    "fibers": "fibres",
    "center": "centre",
    "centers": "centres",
    "defense": "defence",
    "program": "programme",
    "programs": "programmes",
    "labor": "labour",
    "catalog": "catalogue",
    "license": "licence",
    "meter": "metre",
    "meters": "metres",
    "kilometer": "kilometre",
    "kilometers": "kilometres",
    "modeling": "modelling",
    "traveling": "travelling",
    "favor": "favour",
}
_IZE = re.compile(r"^(\w{3,})(y|i)z(e|es|ed|ing|ation|ations|er|ers)$")


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


@lru_cache(maxsize=1 << 16)
def _spell(word: str) -> str:
    """The British form of an American spelling ("fiber", "digitize"), else the word."""
    found = SPELLINGS.get(word)
    if found is not None:
        return found
    return _IZE.sub(r"\1\2s\3", word)


def _words(text: str) -> list[str]:
    """Folded, respelled words, stop words dropped."""
    return [_spell(w) for w in _WORD.findall(_fold(text)) if w not in STOP_WORDS]


@cache
def _variants() -> dict[tuple[str, ...], str]:
    """Each variant (and each canonical word) as a tuple of words, and its canonical word."""
    out: dict[tuple[str, ...], str] = {}
    for canonical, variants in SYNONYMS.items():
        for variant in (canonical, *variants):
            out[tuple(_words(variant))] = canonical
    return out


@cache
def _longest_variant() -> int:
    return max(len(v) for v in _variants())


@cache
def _first_words() -> frozenset[str]:
    """The words a variant can start with: any other word is kept without a look-up."""
    return frozenset(v[0] for v in _variants())


def _canonical(words: list[str], keep: bool) -> list[str]:
    """The words with each known variant replaced by its canonical word (longest first);
    with `keep`, the variant's own words stay and the canonical word is added after them."""
    variants, starts, out, i = _variants(), _first_words(), [], 0
    while i < len(words):
        if words[i] not in starts:
            out.append(words[i])
            i += 1
            continue
        for size in range(min(_longest_variant(), len(words) - i), 0, -1):
            canonical = variants.get(tuple(words[i : i + size]))
            if canonical is not None:
                if keep and size > 1:
                    out += words[i : i + size]
                out.append(canonical)
                i += size
                break
        else:
            out.append(words[i])
            i += 1
    return out


def _compounds(text: str) -> list[str]:
    """Hyphenated or apostrophised words written as one ("startups", "cofunding", "xian"),
    so that a record saying "start-ups" is found by "startups" too."""
    if not any(mark in text for mark in _JOINERS):
        return []
    return [_spell("".join(_WORD.findall(c))) for c in _COMPOUND.findall(_fold(text))]


def terms(text: str) -> list[str]:
    """The stems of `text` in order, stop words dropped, duplicates kept, known variants
    joined by their canonical word, compounds also written as one word at the end."""
    if len(text) <= _CACHED_TEXT:
        return list(_cached_terms(text))
    return _uncached_terms(text)


def _uncached_terms(text: str) -> list[str]:
    return [_stem(w) for w in _canonical(_words(text), keep=True) + _compounds(text)]


#: Texts up to this length have their terms cached (16,384 of them: at most about 3 MB).
_CACHED_TEXT = 200


@lru_cache(maxsize=1 << 14)
def _cached_terms(text: str) -> tuple[str, ...]:
    """Records repeat many short texts (sector labels, country, currency and organisation
    names, kinds, tags), so their terms are computed once."""
    return tuple(_uncached_terms(text))


def query_terms(q: str) -> list[str]:
    """Distinct stems of a user's query, in order; anything typed is treated as text. A known
    variant is looked for by its canonical word only, which every spelling of it stores."""
    stems = [_stem(w) for w in _canonical(_words(q), keep=False)]
    return list(dict.fromkeys(stems))[:MAX_QUERY_TERMS]


def _pairs(stems: list[str]) -> set[str]:
    """Adjacent stems of a title, `p:` prefixed: a query's words in the title's order rank
    above the same words apart ("Innovation Road" is a sub-forum's name)."""
    return {f"p:{a} {b}" for a, b in itertools.pairwise(stems)}


def record_terms(title: str, summary: str | None, other: Iterable[str]) -> list[str]:
    """Every distinct stem of the record, bare and prefixed with where it occurs, and the
    title's adjacent pairs."""
    title_terms = terms(title)
    fields = {"t": set(title_terms), "s": set(terms(summary or "")), "o": set()}
    for text in other:
        fields["o"].update(terms(text))
    bare = fields["t"] | fields["s"] | fields["o"]
    prefixed = {f"{k}:{term}" for k, found in fields.items() for term in found}
    return sorted(bare) + sorted(prefixed | _pairs(title_terms))


def relevance(stored: list[str], wanted: list[str]) -> int:
    """Higher for matches in the title, then the summary, then elsewhere, and for the
    query's words side by side in the title."""
    have = set(stored)
    score = sum(
        3 if f"t:{t}" in have else 2 if f"s:{t}" in have else 1 for t in wanted if t in have
    )
    return score + 2 * len(_pairs(wanted) & have)
