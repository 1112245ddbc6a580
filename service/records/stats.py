"""Facet counts and grouped statistics, portable to FerretDB 1.24 and MongoDB 7+.

Only `$match`, `$unwind` (string form) and `$group` with a single `$sum` accumulator are used:

* FerretDB 1.24 (SQLite) computes only the first accumulator of a `$group` (the others come
  back as 0), so each metric is its own small pipeline, run side by side;
* its `$unwind` drops every field except `_id` and the unwound one, so only a single array
  dimension is unwound; with two dimensions an array field is grouped by its whole stored
  value and spread over its values here, which gives exactly what `$unwind` + `$group` would
  (stored arrays hold distinct values);
* its `$group` slows down sharply with the number of groups (measured), so group keys hold
  only the requested dimensions.

Averages are sums divided by counts, in Python.
"""

import asyncio
import itertools
from collections import Counter
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


async def _grouped(
    col: AsyncCollection[Document],
    match: Document,
    keys: dict[str, str],
    accumulator: Any = 1,
    unwind: str | None = None,
) -> list[tuple[Document, int]]:
    """(group key, accumulated value) pairs; `keys` maps output names to stored fields."""
    group_id: Any = {name: f"${path}" for name, path in keys.items()} if keys else None
    pipeline: list[Document] = [{"$match": match}]
    if unwind is not None:
        pipeline.append({"$unwind": f"${unwind}"})
    pipeline.append({"$group": {"_id": group_id, "v": {"$sum": accumulator}}})
    return [(row["_id"] or {}, int(row["v"])) async for row in await col.aggregate(pipeline)]


def _spread(rows: list[tuple[Document, int]], dims: list[Dimension]) -> Counter[Key]:
    """Totals per combination of single values (whole arrays spread over their values)."""
    totals: Counter[Key] = Counter()
    for group, value in rows:
        choices = [_values(group.get(f"d{i}"), d.array) for i, d in enumerate(dims)]
        for key in itertools.product(*choices):
            totals[key] += value
    return totals


async def facets(
    col: AsyncCollection[Document], filters: Filters, by: tuple[str, ...], size: int
) -> Document:
    """Counts per value of each facet, most frequent first. A facet ignores its own filter.

    One small pipeline per facet, run side by side; an array field is unwound (only the
    unwound field is needed, which FerretDB's `$unwind` keeps)."""

    async def one(name: str) -> list[Document]:
        dim = DIMENSIONS[name]
        unwind = dim.field if dim.array else None
        rows = await _grouped(col, to_mongo(filters, without=(name,)), {"d0": dim.field}, 1, unwind)
        counts = _spread(rows, [Dimension(dim.field)])
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], _order_key(kv[0][0])))
        return [{"value": key[0], "count": n} for key, n in ordered[:size]]

    names = list(by)
    answers = await asyncio.gather(*(one(n) for n in names))
    return dict(zip(names, answers, strict=True))


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


async def _by_record(
    col: AsyncCollection[Document],
    match: Document,
    eligible: Document,
    dims: list[Dimension],
    request: StatsRequest,
) -> _Sums:
    """Counts, and USD sums from each record's derived total (`usd`, or `_usd_all`), one
    single-accumulator pipeline per metric, side by side. A single array dimension is unwound
    (few groups); with two dimensions arrays are grouped whole and spread here."""
    usd_field, lower_field = (
        ("_usd_all", "_usd_all_lower_bound") if request.include_all else ("usd", "usd_lower_bound")
    )
    keys = {f"d{i}": d.field for i, d in enumerate(dims)}
    unwind = dims[0].field if len(dims) == 1 and dims[0].array else None
    spread_dims = [Dimension(d.field) for d in dims] if unwind else dims
    known = {"$and": [eligible, {usd_field: {"$ne": None}}]}
    lower = {"$and": [eligible, {lower_field: True}]}
    wanted = [_grouped(col, match, keys, 1, unwind)]
    if "usd" in request.metrics or "usd_avg" in request.metrics:
        wanted += [
            _grouped(col, known, keys, f"${usd_field}", unwind),
            _grouped(col, known, keys, 1, unwind),
            _grouped(col, lower, keys, 1, unwind),
        ]
    results = [_spread(rows, spread_dims) for rows in await asyncio.gather(*wanted)]
    sums = _Sums(count=results[0])
    if len(results) > 1:
        sums.usd, sums.funded, sums.lower = results[1], results[2], set(results[3])
    return sums


async def _by_currency(
    col: AsyncCollection[Document],
    match: Document,
    dims: list[Dimension],
    position: int,
    request: StatsRequest,
    has_flag: bool,
) -> _Sums:
    """Counts and sums per funding currency, from each record's compact funding items
    (`_money`), grouped whole with the other dimension and the record's aggregate flag."""
    keys = {f"d{i}": d.field for i, d in enumerate(dims) if i != position}
    keys["m"] = "_money"
    if has_flag:
        keys["ok"] = "recommended_for_aggregates"
    rows = await _grouped(col, match, keys)
    sums = _Sums()
    others = [(f"d{i}", d) for i, d in enumerate(dims) if i != position]
    for group, n in rows:
        record_ok = request.include_all or group.get("ok") is not False
        items = group.get("m") or []
        choices = [_values(group.get(name), d.array) for name, d in others]
        for rest in itertools.product(*choices):
            funded: set[Key] = set()
            for currency in dict.fromkeys(item["c"] for item in items):
                sums.count[(*rest[:position], currency, *rest[position:])] += n
            for item in items:
                if not (record_ok and (request.include_all or item["a"])):
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
    eligible = match
    if not request.include_all and resource.has_aggregate_flag:
        eligible = {"$and": [match, {"recommended_for_aggregates": {"$ne": False}}]}
    dims = [DIMENSIONS[name] for name in request.group_by]
    if "currency" in request.group_by:
        position = request.group_by.index("currency")
        grouped = _by_currency(col, match, dims, position, request, resource.has_aggregate_flag)
    else:
        grouped = _by_record(col, match, eligible, dims, request)
    sums, totals = await asyncio.gather(grouped, _by_record(col, match, eligible, [], request))

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
