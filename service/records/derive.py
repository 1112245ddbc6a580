"""Fields the service computes on write so that filters and groupings need no expressions.

FerretDB (and portable MongoDB code) cannot compute years, currency conversions or unions of
nested arrays inside a query, so each record stores them: `year`, `usd`, `usd_lower_bound`,
`country_codes`, and hidden fields (names start with `_`, never served) for search and
aggregation: `_terms` (search terms), `_date` (the primary date, sortable text), `_orgs` and
`_currencies` (distinct organisation names and funding currencies), `_usd_all` and
`_usd_all_lower_bound` (the USD sum over every funding item, for `include_all` statistics) and
`_money` (one compact entry per funding item, for statistics by currency), and `_derivation`
(the `DERIVATION` that computed them: records stored by an older one are derived again at
start-up, see `storage/rederive.py`).
"""

from typing import Any

from service.records.model import Money, RecordFields
from service.records.search import record_terms
from service.vocab.countries import country_names
from service.vocab.currencies import currency_names, to_usd
from service.vocab.terms import LOWER_BOUND_QUALIFIERS

#: Bump whenever what `derive` computes changes, so stored records are derived again.
#: 2: search terms are the record's own words (names of countries and currencies, sector
#: labels, kinds, funding wording, years; no sources), with spellings and variants folded.
DERIVATION = 2


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
    usd = to_usd(money.amount, money.currency, money.year or fallback_year)
    if usd is None:
        return money
    return money.model_copy(update={"usd": usd, "usd_derived": True})


def usd_total(funding: list[Money], everything: bool = False) -> tuple[int | None, bool]:
    """Sum of the USD values recommended for aggregates (or of all), and if it is a lower bound."""
    items = [m for m in funding if everything or m.recommended_for_aggregates]
    known = [m.usd for m in items if m.usd is not None]
    lower_bound = any(m.usd is None or m.qualifier in LOWER_BOUND_QUALIFIERS for m in items)
    return (sum(known) if known else None), lower_bound


def derive(fields: RecordFields) -> tuple[RecordFields, dict[str, Any]]:
    """The fields with derived USD values filled in, and the derived top-level fields."""
    date = fields.primary_date()
    year = date.year if date else None
    funding = [with_usd(m, year) for m in fields.funding]
    fields = fields.model_copy(update={"funding": funding})
    usd, lower_bound = usd_total(funding)
    usd_all, usd_all_lower_bound = usd_total(funding, everything=True)
    codes = {c.code for c in fields.countries}
    codes |= {o.country for o in fields.organisations if o.country}
    return fields, {
        "year": year,
        "usd": usd,
        "usd_lower_bound": lower_bound,
        "country_codes": sorted(codes),
        "_terms": record_terms(fields.title, fields.summary, _search_texts(fields, codes)),
        "_date": date.value if date else None,
        "_orgs": sorted({o.name for o in fields.organisations}),
        "_currencies": sorted({m.currency for m in funding}),
        "_usd_all": usd_all,
        "_usd_all_lower_bound": usd_all_lower_bound,
        "_money": [_money(m) for m in funding],
        "_derivation": DERIVATION,
    }


def _money(item: Money) -> dict[str, Any]:
    """currency, USD, whether the USD is a lower bound, whether it is for aggregates."""
    lower = item.usd is None or item.qualifier in LOWER_BOUND_QUALIFIERS
    return {"c": item.currency, "u": item.usd, "lb": lower, "a": item.recommended_for_aggregates}
