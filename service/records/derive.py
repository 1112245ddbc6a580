"""Fields the service computes on write so that filters and groupings need no expressions.

FerretDB (and portable MongoDB code) cannot compute years, currency conversions or unions of
nested arrays inside a query, so each record stores them: `year`, `usd`, `usd_lower_bound`,
`country_codes`, and for search the hidden `_terms`.
"""

from typing import Any

from service.records.model import Money, RecordFields
from service.records.search import record_terms
from service.vocab.currencies import to_usd
from service.vocab.terms import LOWER_BOUND_QUALIFIERS


def with_usd(money: Money, fallback_year: int | None) -> Money:
    """The item with its USD value filled from ECB rates where the source gave none."""
    if money.usd is not None or money.amount is None:
        return money
    usd = to_usd(money.amount, money.currency, money.year or fallback_year)
    if usd is None:
        return money
    return money.model_copy(update={"usd": usd, "usd_derived": True})


def usd_total(funding: list[Money]) -> tuple[int | None, bool]:
    """Sum of the USD values recommended for aggregates, and whether it is a lower bound."""
    items = [m for m in funding if m.recommended_for_aggregates]
    known = [m.usd for m in items if m.usd is not None]
    lower_bound = any(m.usd is None or m.qualifier in LOWER_BOUND_QUALIFIERS for m in items)
    return (sum(known) if known else None), lower_bound


def _texts(fields: RecordFields) -> list[str]:
    """Everything besides title and summary that a search should find."""
    out = [o.name for o in fields.organisations]
    out += fields.tags
    out += [s.title for s in fields.sources] + [s.publisher or "" for s in fields.sources]
    for name in ("series", "venue"):
        value = getattr(fields, name, None)
        if isinstance(value, str):
            out.append(value)
        elif value is not None:
            out += [v for v in value.model_dump().values() if isinstance(v, str)]
    return out


def derive(fields: RecordFields) -> tuple[RecordFields, dict[str, Any]]:
    """The fields with derived USD values filled in, and the derived top-level fields."""
    date = fields.primary_date()
    year = date.year if date else None
    funding = [with_usd(m, year) for m in fields.funding]
    fields = fields.model_copy(update={"funding": funding})
    usd, lower_bound = usd_total(funding)
    codes = {c.code for c in fields.countries}
    codes |= {o.country for o in fields.organisations if o.country}
    return fields, {
        "year": year,
        "usd": usd,
        "usd_lower_bound": lower_bound,
        "country_codes": sorted(codes),
        "_terms": record_terms(fields.title, fields.summary, _texts(fields)),
    }
