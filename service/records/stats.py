"""Facet counts and grouped statistics, portable to FerretDB 1.24 and MongoDB 7+.

Each answer is one `$match` and one `$group` whose only accumulator is `{"$sum": 1}`: the
group key holds the dimensions *and* the per-record values a metric needs (the record's USD
total, whether it is a lower bound, whether it is recommended for aggregates), and the
service sums USD as value x count. Reasons:

* FerretDB 1.24 (SQLite) computes only the first accumulator of a `$group` (the others come
  back as 0), and its `$unwind` drops every field but `_id` and the unwound one;
* FerretDB uses no index but `_id`: every pipeline reads the whole collection, so one
  pipeline per answer (plus one for totals) is several times faster than one per metric.

Array fields (countries, sectors, organisations, funding items) are grouped by their whole
stored value and spread over their values here, which gives exactly what `$unwind` + `$group`
would (stored arrays hold distinct values). Averages are sums divided by counts, in Python.
"""

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from service.db import Document
from service.records.query import (
    Filters,
    comma_list,
    facet_filter_set,
    invalid,
    one_of,
    passes,
    to_mongo,
)
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


async def _grouped(
    col: AsyncCollection[Document], match: Document, keys: dict[str, str]
) -> list[tuple[Document, int]]:
    """(group key, number of records) pairs; `keys` maps output names to stored fields."""
    group_id = {name: f"${path}" for name, path in keys.items()}
    pipeline = [{"$match": match}, {"$group": {"_id": group_id, "n": {"$sum": 1}}}]
    return [(row["_id"] or {}, int(row["n"])) async for row in await col.aggregate(pipeline)]


async def facets(
    col: AsyncCollection[Document], filters: Filters, by: tuple[str, ...], size: int
) -> Document:
    """Counts per value of each facet, most frequent first. A facet ignores its own filter.

    One pipeline for all facets: the filters the facets ignore are left out of `$match` and
    applied here to the grouped values instead, each facet skipping its own."""
    names = list(by)
    ignored = [n for n in names if facet_filter_set(filters, n)]
    keys = {f"k{i}": DIMENSIONS[n].field for i, n in enumerate(names)}
    slot = {n: f"k{i}" for i, n in enumerate(names)}
    rows = await _grouped(col, to_mongo(filters, without=names), keys)
    answer: Document = {}
    for name in names:
        counts: Counter[Any] = Counter()
        others = [m for m in ignored if m != name]
        for group, n in rows:
            if all(passes(filters, m, group.get(slot[m])) for m in others):
                for value in _values(group.get(slot[name]), DIMENSIONS[name].array):
                    counts[value] += n
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], _order_key(kv[0])))
        answer[name] = [{"value": v, "count": c} for v, c in ordered[:size]]
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


def _by_record(rows: list[tuple[Document, int]], dims: list[Dimension], include_all: bool) -> _Sums:
    """Sums from each record's derived totals (`usd`, or `_usd_all` with include_all)."""
    sums = _Sums()
    for group, n in rows:
        eligible = include_all or group.get("ok") is not False
        choices = [_values(group.get(f"d{i}"), d.array) for i, d in enumerate(dims)]
        for key in itertools.product(*choices):
            sums.count[key] += n
            if eligible and group.get("u") is not None:
                sums.usd[key] += group["u"] * n
                sums.funded[key] += n
            if eligible and group.get("lb"):
                sums.lower.add(key)
    return sums


def _by_currency(
    rows: list[tuple[Document, int]], dims: list[Dimension], position: int, include_all: bool
) -> _Sums:
    """Sums per funding currency, from each record's compact funding items (`_money`)."""
    sums = _Sums()
    others = [(f"d{i}", d) for i, d in enumerate(dims) if i != position]
    for group, n in rows:
        record_ok = include_all or group.get("ok") is not False
        items = group.get("m") or []
        choices = [_values(group.get(name), d.array) for name, d in others]
        for rest in itertools.product(*choices):
            funded: set[Key] = set()
            for currency in dict.fromkeys(item["c"] for item in items):
                sums.count[(*rest[:position], currency, *rest[position:])] += n
            for item in items:
                if not (record_ok and (include_all or item["a"])):
                    continue
                key = (*rest[:position], item["c"], *rest[position:])
                if item["u"] is not None:
                    sums.usd[key] += item["u"] * n
                    funded.add(key)
                if item["lb"]:
                    sums.lower.add(key)
            for key in funded:
                sums.funded[key] += n
    return sums


async def stats(
    col: AsyncCollection[Document], resource: Resource, filters: Filters, request: StatsRequest
) -> Document:
    match = to_mongo(filters)
    dims = [DIMENSIONS[name] for name in request.group_by]
    usd_field, lower_field = (
        ("_usd_all", "_usd_all_lower_bound") if request.include_all else ("usd", "usd_lower_bound")
    )
    money = {"u": usd_field, "lb": lower_field}
    if resource.has_aggregate_flag:
        money["ok"] = "recommended_for_aggregates"
    keys = {f"d{i}": d.field for i, d in enumerate(dims)}
    if "currency" in request.group_by:
        position = request.group_by.index("currency")
        keys = {k: v for k, v in keys.items() if k != f"d{position}"}
        keys |= {"m": "_money"} | ({"ok": money["ok"]} if "ok" in money else {})
    else:
        keys |= money
    grouped, totals_grouped = await asyncio.gather(
        _grouped(col, match, keys), _grouped(col, match, money)
    )
    if "currency" in request.group_by:
        sums = _by_currency(grouped, dims, position, request.include_all)
    else:
        sums = _by_record(grouped, dims, request.include_all)
    totals = _by_record(totals_grouped, [], request.include_all)

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
