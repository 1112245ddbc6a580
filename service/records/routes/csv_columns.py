"""What each CSV column holds: one table from column name to the record field it comes from
and how its value is read, for record rows and for funding rows.

Every column is declared here and only here; a collection lists the names it offers
(`Resource.csv_columns`), so renaming a record field is a one-line change below. `source` is
the top-level field of the served record a column is read from: `fields=` keeps the columns
whose source it names (and `id`, `version`, like the list).

The *headline amount* of a record is the funding item it is known by: the first item
recommended for aggregates, or the first item when none is. Its columns (`amount`,
`currency`, ... `amount_usd_derived`) give that one item as the source states it; `usd` stays
the record's sum over every item recommended for aggregates, and `rows=funding` lists every
item so that sums can be redone by hand.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.db import Document
from service.vocab.terms import LOWER_BOUND_QUALIFIERS

Getter = Callable[[Document], Any]
ItemGetter = Callable[[Document, Document, int], Any]


@dataclass(frozen=True, slots=True)
class Column:
    source: str
    get: Getter
    #: True when `get` reads the record's headline funding item (an empty dict when it has
    #: none) rather than the record: the row finds that item once for all such columns.
    of_headline: bool = False


@dataclass(frozen=True, slots=True)
class ItemColumn:
    source: str
    get: ItemGetter


def at(path: str) -> Getter:
    """The value at a dotted path of the record, or None."""
    parts = path.split(".")
    if len(parts) == 1:
        return lambda record: record.get(path)
    if len(parts) == 2:
        outer, inner = parts

        def get_two(record: Document) -> Any:
            value = record.get(outer)
            return value.get(inner) if type(value) is dict else None

        return get_two

    def get(record: Document) -> Any:
        value: Any = record
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return get


def plain(path: str) -> Column:
    return Column(path.split(".")[0], at(path))


def headline(record: Document) -> Document | None:
    """The funding item a record is known by (see the module's docstring)."""
    items = record.get("funding") or []
    counted = [m for m in items if m.get("recommended_for_aggregates", True)]
    first: Document | None = (counted or items or [None])[0]
    return first


def of_headline(name: str) -> Column:
    return Column("funding", lambda item: item.get(name), of_headline=True)


def _countries(record: Document) -> list[str]:
    return [f"{c['code']}:{c['role']}" for c in record.get("countries") or []]


def _conflicts(record: Document) -> list[Document]:
    return at("quality.conflicts")(record) or []


def _conflicts_text(record: Document) -> str:
    return " | ".join(f"{c['field']}: {c['description']}" for c in _conflicts(record))


def _names(path: str, key: str) -> Column:
    get = at(path)
    return Column(path.split(".")[0], lambda r: [x[key] for x in get(r) or []])


def _date_columns(name: str, path: str) -> dict[str, Column]:
    """`start`, `start_text`, `start_estimated`: the date at its precision, the source's
    wording, and whether it was inferred."""
    source = path.split(".")[0]
    value, text, estimated = at(f"{path}.value"), at(f"{path}.text"), at(f"{path}.estimated")
    return {
        name: Column(source, value),
        f"{name}_text": Column(source, text),
        f"{name}_estimated": Column(source, lambda r: estimated(r) if value(r) else None),
    }


COLUMNS: dict[str, Column] = {
    **{
        name: plain(name)
        for name in (
            "id",
            "version",
            "title",
            "kind",
            "status",
            "year",
            "country_codes",
            "sectors",
            "usd",
            "usd_lower_bound",
            "recommended_for_aggregates",
            "series",
            "parent_id",
            "umbrella_ids",
            "tags",
            "summary",
            "updated_at",
        )
    },
    "countries": Column("countries", _countries),
    "organisations": _names("organisations", "name"),
    "venue_city": plain("venue.city"),
    "amount": of_headline("amount"),
    "currency": of_headline("currency"),
    "amount_qualifier": of_headline("qualifier"),
    "amount_kind": of_headline("kind"),
    "amount_period": of_headline("period"),
    "amount_year": of_headline("year"),
    "amount_text": of_headline("text"),
    "amount_usd": of_headline("usd"),
    "amount_usd_derived": of_headline("usd_derived"),
    "funding_items": Column("funding", lambda r: len(r.get("funding") or [])),
    **_date_columns("start", "start"),
    **_date_columns("end", "end"),
    **_date_columns("announced", "dates.announced"),
    **_date_columns("signed", "dates.signed"),
    **_date_columns("started", "dates.started"),
    **_date_columns("completed", "dates.completed"),
    "confidence": plain("quality.confidence"),
    "conflicts": Column("quality", lambda r: len(_conflicts(r))),
    "conflicts_text": Column("quality", _conflicts_text),
    "dual_use": plain("dual_use.level"),
    "sources": _names("sources", "url"),
    "sources_count": Column("sources", lambda r: len(r.get("sources") or [])),
}


def _item(name: str) -> ItemColumn:
    return ItemColumn("funding", lambda _r, item, _n: item.get(name))


def _record(name: str) -> ItemColumn:
    column = COLUMNS[name]
    return ItemColumn(column.source, lambda record, _item, _n: column.get(record))


def _counted(record: Document, item: Document, _n: int) -> bool:
    """Whether this item is in the `usd` statistics: the item and its record both count."""
    return bool(
        item.get("recommended_for_aggregates", True)
        and record.get("recommended_for_aggregates", True)
    )


def _item_lower_bound(_r: Document, item: Document, _n: int) -> bool:
    return item.get("usd") is None or item.get("qualifier") in LOWER_BOUND_QUALIFIERS


#: Columns of `rows=funding`: one row per funding item, with the record it belongs to.
FUNDING_COLUMNS: dict[str, ItemColumn] = {
    "id": _record("id"),
    "version": _record("version"),
    "title": _record("title"),
    "kind": _record("kind"),
    "status": _record("status"),
    "year": _record("year"),
    "countries": _record("countries"),
    "record_recommended_for_aggregates": _record("recommended_for_aggregates"),
    "item": ItemColumn("funding", lambda _r, _item, n: n),
    "amount": _item("amount"),
    "currency": _item("currency"),
    "qualifier": _item("qualifier"),
    "money_kind": _item("kind"),
    "period": _item("period"),
    "amount_year": _item("year"),
    "text": _item("text"),
    "usd": _item("usd"),
    "usd_derived": _item("usd_derived"),
    "usd_lower_bound": ItemColumn("funding", _item_lower_bound),
    "recommended_for_aggregates": _item("recommended_for_aggregates"),
    "counted": ItemColumn("funding", _counted),
}
