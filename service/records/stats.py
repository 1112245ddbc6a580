"""Facet counts and grouped statistics, portable to FerretDB 1.24 and MongoDB 7+.

Both read the few fields they need with one projected `find` per distinct filter and count
and sum in Python:

* FerretDB 1.24 (SQLite) pushes no filter but `_id` down, so every query reads and decodes
  the whole collection: the cost is the number of reads, and one read replaces the former
  pipeline per facet or metric (its `$group` computes only the first accumulator, its
  `$unwind` drops sibling fields, and it slows down sharply with many groups);
* on MongoDB the `find` uses the filter's indexes and returns a few small fields per
  matching record. That moves the counting into the service, which suits this catalogue's
  scale (thousands of records); at a much larger scale it would move back into one `$group`
  pipeline with all its accumulators, which MongoDB computes.

Array dimensions count each distinct value of a record once; a record contributes to every
combination of its values when grouped by two dimensions. Averages are sums over counts.
"""

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from service.db import Document
from service.records.query import Filters, comma_list, invalid, one_of, to_mongo
from service.records.resource import Resource


@dataclass(frozen=True, slots=True)
class Dimension:
    field: str
    array: bool = False


#: Facet and group-by names and the stored field each reads.
DIMENSIONS: dict[str, Dimension] = {
    "year": Dimension("year"),
    "country": Dimension("country_codes", array=True),
    "sector": Dimension("sectors", array=True),
    "kind": Dimension("kind"),
    "status": Dimension("status"),
    "dual_use": Dimension("dual_use.level"),
    "organisation": Dimension("_orgs", array=True),
    "currency": Dimension("_currencies", array=True),
}
FACETS = ("country", "sector", "kind", "status", "year", "dual_use", "organisation")
METRICS = ("count", "usd", "usd_avg")

Key = tuple[Any, ...]


def _values(value: Any, array: bool) -> list[Any]:
    if not array:
        return [value]
    return list(dict.fromkeys(value)) if isinstance(value, list) else []


def _order_key(value: Any) -> tuple[bool, int | float, str]:
    """Numbers in numeric order, then text; nulls last."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return value is None, value if number else 0, "" if number else str(value)


def _get(doc: Document, path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _count_stages(dim: Dimension) -> list[Document]:
    """Records per value of one dimension; an array counts each distinct value once."""
    if not dim.array:
        return [{"$group": {"_id": f"${dim.field}", "n": {"$sum": 1}}}]
    distinct = {"$setUnion": [{"$ifNull": [f"${dim.field}", []]}, []]}
    return [
        {"$project": {"v": distinct}},
        {"$unwind": "$v"},
        {"$group": {"_id": "$v", "n": {"$sum": 1}}},
    ]


async def facets(
    col: AsyncCollection[Document], filters: Filters, by: tuple[str, ...], size: int
) -> Document:
    """Counts per value of each facet, most frequent first. A facet ignores its own filter,
    so facets whose remaining filters are the same share one read."""
    shared: dict[str, tuple[Document, list[str]]] = {}
    for name in by:
        match = to_mongo(filters, without=(name,))
        shared.setdefault(repr(match), (match, []))[1].append(name)

    async def count(match: Document, names: list[str]) -> dict[str, Counter[Any]]:
        # One pass over the matching records, counted by the database: shipping every match
        # to Python cost about ten times more at 100,000 records (docs/indexes.md).
        dims = {name: DIMENSIONS[name] for name in names}
        pipeline: list[Document] = [
            {"$match": match},
            {"$project": dict.fromkeys(sorted({d.field for d in dims.values()}), 1)},
            {"$facet": {name: _count_stages(dim) for name, dim in dims.items()}},
        ]
        [result] = await (await col.aggregate(pipeline)).to_list()
        return {
            name: Counter({group["_id"]: group["n"] for group in result[name]}) for name in names
        }

    found: dict[str, Counter[Any]] = {}
    for part in await asyncio.gather(*(count(m, names) for m, names in shared.values())):
        found.update(part)
    answer: Document = {}
    for name in by:
        ordered = sorted(found[name].items(), key=lambda kv: (-kv[1], _order_key(kv[0])))
        answer[name] = [{"value": value, "count": n} for value, n in ordered[:size]]
    return answer


@dataclass(frozen=True, slots=True)
class StatsRequest:
    group_by: tuple[str, ...]
    metrics: tuple[str, ...]
    order: str  # a metric or dimension, `-` for descending
    top: int | None
    include_all: bool


@dataclass
class _Sums:
    count: Counter[Key] = field(default_factory=Counter)
    usd: Counter[Key] = field(default_factory=Counter)
    funded: Counter[Key] = field(default_factory=Counter)
    lower: set[Key] = field(default_factory=set)

    def row(self, key: Key, metrics: tuple[str, ...]) -> Document:
        out: Document = {}
        if "count" in metrics:
            out["count"] = self.count[key]
        if "usd" in metrics or "usd_avg" in metrics:
            funded = self.funded[key]
            total = self.usd[key] if funded else None
            if "usd" in metrics:
                out["usd"] = total
            if "usd_avg" in metrics:
                out["usd_avg"] = round(total / funded) if total is not None else None
            out["usd_lower_bound"] = key in self.lower
        return out


def _add_record(sums: _Sums, keys: Iterable[Key], usd: Any, lower: bool, eligible: bool) -> None:
    for key in keys:
        sums.count[key] += 1
        if eligible and usd is not None:
            sums.usd[key] += usd
            sums.funded[key] += 1
        if eligible and lower:
            sums.lower.add(key)


def _add_funding(
    sums: _Sums, rest: Key, position: int, items: list[Document], record_ok: bool, every: bool
) -> None:
    """One record's compact funding items (`_money`) under each of its currencies."""
    funded: set[Key] = set()
    for currency in dict.fromkeys(item["c"] for item in items):
        sums.count[(*rest[:position], currency, *rest[position:])] += 1
    for item in items:
        if not (record_ok and (every or item["a"])):
            continue
        key = (*rest[:position], item["c"], *rest[position:])
        if item["u"] is not None:
            sums.usd[key] += item["u"]
            funded.add(key)
        if item["lb"]:
            sums.lower.add(key)
    for key in funded:
        sums.funded[key] += 1


async def _sums(
    col: AsyncCollection[Document],
    match: Document,
    dims: list[Dimension],
    request: StatsRequest,
    has_flag: bool,
) -> tuple[_Sums, _Sums]:
    """Sums per group and over all matching records, from one read of the fields they need.

    One projected `find` and the arithmetic here, rather than a pipeline per metric: FerretDB
    reads the whole collection once per query, so one read is several times faster there,
    and on MongoDB it is one indexed read of a few small fields per matching record."""
    usd_field, lower_field = (
        ("_usd_all", "_usd_all_lower_bound") if request.include_all else ("usd", "usd_lower_bound")
    )
    by_currency = "currency" in request.group_by
    position = request.group_by.index("currency") if by_currency else -1
    others = [d for i, d in enumerate(dims) if i != position]
    fields = {d.field for d in others} | {usd_field, lower_field, "recommended_for_aggregates"}
    if by_currency:
        fields.add("_money")
    projection = dict.fromkeys(sorted(fields), 1) | {"_id": 0}
    grouped, totals = _Sums(), _Sums()
    async for doc in col.find(match, projection=projection):
        eligible = (
            request.include_all
            or not has_flag
            or doc.get("recommended_for_aggregates") is not False
        )
        usd, lower = doc.get(usd_field), doc.get(lower_field) is True
        _add_record(totals, [()], usd, lower, eligible)
        choices = [_values(_get(doc, d.field), d.array) for d in others]
        if by_currency:
            for rest in itertools.product(*choices):
                _add_funding(
                    grouped, rest, position, doc.get("_money") or [], eligible, request.include_all
                )
        else:
            _add_record(grouped, itertools.product(*choices), usd, lower, eligible)
    return grouped, totals


async def stats(
    col: AsyncCollection[Document], resource: Resource, filters: Filters, request: StatsRequest
) -> Document:
    dims = [DIMENSIONS[name] for name in request.group_by]
    sums, totals = await _sums(col, to_mongo(filters), dims, request, resource.has_aggregate_flag)

    rows = []
    for key in sums.count:
        row: Document = dict(zip(request.group_by, key, strict=True))
        row.update(sums.row(key, request.metrics))
        rows.append(row)
    rows.sort(key=lambda r: tuple(_order_key(r[g]) for g in request.group_by))
    name = request.order.lstrip("-")
    # Rows without a value for the ordering field come last either way.
    present = [r for r in rows if r.get(name) is not None]
    absent = [r for r in rows if r.get(name) is None]
    present.sort(key=lambda r: _order_key(r[name]), reverse=request.order.startswith("-"))
    rows = present + absent
    if request.top is not None:
        rows = rows[: request.top]
    return {
        "group_by": list(request.group_by),
        "metrics": list(request.metrics),
        "include_all": request.include_all,
        "rows": rows,
        "totals": totals.row((), request.metrics),
    }


def parse_stats(
    dimensions: list[str],
    group_by: str,
    metrics: str,
    order: str | None,
    top: int | None,
    include_all: bool,
) -> StatsRequest:
    """Validated statistics parameters: an unknown dimension or metric is a 422."""
    dims = comma_list("group_by", group_by, one_of(dimensions, "a dimension of this collection"))
    if len(dims) > 2:
        raise invalid("group_by", "at most two dimensions")
    wanted = comma_list("metrics", metrics, one_of(list(METRICS), "a metric"))
    chosen = order or ("-count" if "count" in wanted else f"-{wanted[0]}")
    if chosen.lstrip("-") not in (*wanted, *dims) or chosen.startswith("--"):
        raise invalid("order", "must name a requested metric or a group_by dimension")
    return StatsRequest(dims, wanted, chosen, top, include_all)
