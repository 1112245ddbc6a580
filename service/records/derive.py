"""Fields the service computes on write so that filters and groupings need no expressions.

FerretDB (and portable MongoDB code) cannot compute years, currency conversions or unions of
nested arrays inside a query, so each record stores them: `year`, the headline amount (`usd`,
`usd_qualifier`, `usd_period`, `usd_derived`, `usd_lower_bound`), `country_codes`, and hidden
fields (names start with `_`, never served) for search, sorting and aggregation: `_terms`
(search terms), `_date` (the primary date, sortable text) and `_date_text` (its wording),
`_usd_asc` (`usd` with a missing amount as a number above every amount, so an ascending sort
puts it last), `_orgs` and `_currencies` (distinct organisation names and funding
currencies) and `_money` (one compact entry per funding item: what statistics sum, credit to
years and attribute to parties).

`DERIVATION` numbers this recipe: records stored under an older one are derived again when
the service starts (`storage/rederive.py`), so stored and served values never disagree.
"""

from typing import Any

from service.records.model import Money, RecordFields
from service.records.search import record_terms
from service.vocab.countries import country_names
from service.vocab.currencies import currency_names, to_usd
from service.vocab.terms import LOWER_BOUND_QUALIFIERS, MoneyQualifier

#: Above every storable amount (`Amount` is at most 10**15), so missing amounts sort last.
MISSING_LAST = 2**62

#: Bump whenever what `derive` computes changes, so stored records are derived again.
#: 2: the headline amount on every record; money credited to years, periods and providers.
#: 3: search terms are the record's own words (names of countries and currencies, sector
#: labels, kinds, funding wording, years; no sources), with spellings and variants folded.
DERIVATION = 3


def _search_texts(fields: RecordFields, codes: set[str]) -> list[str]:
    """The record's own searchable words, with the names of its countries and currencies."""
    names, currencies = country_names(), currency_names()
    out = fields.search_texts()
    out += [names.get(code, "") for code in sorted(codes)]
    out += [currencies.get(m.currency, "") for m in fields.funding]
    return out


def with_usd(money: Money, fallback_year: int | None) -> Money:
    """The item with its USD value filled from ECB rates where the source gave none."""
    if money.usd is not None or money.amount is None:
        return money
    year = money.single_year or money.year_from or fallback_year
    usd = to_usd(money.amount, money.currency, year)
    if usd is None:
        return money
    return money.model_copy(update={"usd": usd, "usd_derived": True})


def _lower(item: Money) -> bool:
    return item.usd is None or item.qualifier in LOWER_BOUND_QUALIFIERS


def _worth(item: Money) -> int:
    """What the item adds to a sum: an annual amount over a closed period, once a year."""
    return (item.usd or 0) * len(item.spread() or [0])


def headline(funding: list[Money]) -> dict[str, Any]:
    """The record's headline amount: the sum of its items recommended for aggregates (the
    parts of what it counts), or, when none has a known amount, its largest item (an
    umbrella's overlapping total, a rate a year)."""
    parts = [m for m in funding if m.recommended_for_aggregates and not m.recurring and m.usd]
    if len(parts) > 1:
        lower = any(_lower(m) for m in funding if m.recommended_for_aggregates)
        exact = all(m.qualifier is MoneyQualifier.EXACT for m in parts)
        qualifier = MoneyQualifier.AT_LEAST if lower else MoneyQualifier.EXACT
        return {
            "usd": sum(_worth(m) for m in parts),
            "usd_qualifier": (qualifier if lower or exact else MoneyQualifier.APPROX).value,
            "usd_period": "total",
            "usd_derived": any(m.usd_derived for m in parts),
            "usd_lower_bound": lower,
        }
    known = parts or [m for m in funding if m.usd is not None]
    if not known:  # amounts in words only ("several hundred million"): say how, not how much
        first = funding[0] if funding else None
        return {
            "usd": None,
            "usd_qualifier": first.qualifier.value if first else None,
            "usd_period": (first.span_label() or first.period.value) if first else None,
            "usd_derived": False,
            "usd_lower_bound": bool(funding),
        }
    top = max(known, key=lambda m: m.usd or 0)
    spread = top.spread()
    return {
        "usd": _worth(top),
        "usd_qualifier": top.qualifier.value,
        "usd_period": "total" if spread else top.span_label() or top.period.value,
        "usd_derived": top.usd_derived,
        "usd_lower_bound": _lower(top),
    }


def derive(fields: RecordFields) -> tuple[RecordFields, dict[str, Any]]:
    """The fields with derived USD values filled in, and the derived top-level fields."""
    date = fields.primary_date()
    year = date.year if date else None
    funding = [with_usd(m, year) for m in fields.funding]
    fields = fields.model_copy(update={"funding": funding})
    codes = {c.code for c in fields.countries}
    codes |= {o.country for o in fields.organisations if o.country}
    top = headline(funding)
    return fields, {
        "year": year,
        **top,
        "country_codes": sorted(codes),
        "_terms": record_terms(fields.title, fields.summary, _search_texts(fields, codes)),
        "_date": date.value if date else None,
        "_date_text": date.text if date else None,
        "_usd_asc": MISSING_LAST if top["usd"] is None else top["usd"],
        "_orgs": sorted({o.name for o in fields.organisations}),
        "_currencies": sorted({m.currency for m in funding}),
        "_money": [_money(m, year) for m in funding],
        "_derivation": DERIVATION,
    }


def _money(item: Money, record_year: int | None) -> dict[str, Any]:
    """One funding item for statistics: `c` currency, `u` USD, `lb` lower bound, `a` for
    aggregates, `y` the years it is credited to, `n` how many times it adds to a sum, `p`
    its period in words when no year can be credited, `r` a rate a year (never summed with
    totals), `by` who provides it."""
    years = item.spread() or ([item.single_year] if item.single_year is not None else [])
    undated = item.year_from is None and item.single_year is None and not item.recurring
    if undated and record_year is not None:
        years = [record_year]  # nothing but the record's own date places the amount
    return {
        "c": item.currency,
        "u": item.usd,
        "lb": _lower(item),
        "a": item.recommended_for_aggregates,
        "y": years,
        "n": len(item.spread() or [0]),
        "p": None if years else item.span_label(),
        "r": item.recurring,
        "by": list(item.provided_by),
    }
