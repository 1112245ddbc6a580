"""Facet counts and grouped statistics, portable to FerretDB 1.24 and MongoDB 7+.

Only `$match` and `$group` with a single `$sum` accumulator are used, because FerretDB 1.24
(SQLite) computes only the first accumulator of a `$group` (the others come back as 0) and its
`$unwind` drops every field except `_id` and the unwound one. So each metric is its own small
pipeline, and array fields (countries, sectors, organisations, currencies) are grouped by their
whole stored value; the service then spreads each group's count over the array's values,
which gives exactly what `$unwind` + `$group` would (stored arrays hold distinct values).
Averages are sums divided by counts, in Python.
"""

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
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
    col: AsyncCollection[Document], match: Document, keys: dict[str, str], accumulator: Any
) -> list[tuple[Document, int]]:
    """(group key, accumulated value) pairs; `keys` maps output names to stored fields."""
    group_id: Any = {name: f"${path}" for name, path in keys.items()} if keys else None
    pipeline = [{"$match": match}, {"$group": {"_id": group_id, "v": {"$sum": accumulator}}}]
    out = []
    async for row in await col.aggregate(pipeline):
        out.append((row["_id"] or {}, int(row["v"])))
    return out


def _spread(rows: list[tuple[Document, int]], dims: list[Dimension]) -> Counter[Key]:
    """Group totals per combination of single values (arrays spread over their values)."""
    totals: Counter[Key] = Counter()
    for group, value in rows:
        choices = [_values(group.get(f"d{i}"), d.array) for i, d in enumerate(dims)]
        for key in itertools.product(*choices):
            totals[key] += value
    return totals


async def facets(
    col: AsyncCollection[Document], filters: Filters, by: Iterable[str], size: int
) -> Document:
    """Counts per value of each facet, most frequent first. A facet ignores its own filter."""

    async def one(name: str) -> list[Document]:
        dim = DIMENSIONS[name]
        rows = await _grouped(col, to_mongo(filters, without=name), {"d0": dim.field}, 1)
        counts = _spread(rows, [dim])
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
class _Money:
    usd: Counter[Key]
    funded: Counter[Key]
    lower: set[Key]


async def _money_by_record(
    col: AsyncCollection[Document],
    match: Document,
    keys: dict[str, str],
    dims: list[Dimension],
    include_all: bool,
) -> _Money:
    """USD sums from the record-level derived fields (`usd`, or `_usd_all` for include_all)."""
    usd_field, lower_field = (
        ("_usd_all", "_usd_all_lower_bound")
        if include_all
        else (
            "usd",
            "usd_lower_bound",
        )
    )
    known = {"$and": [match, {usd_field: {"$ne": None}}]}
    lower = {"$and": [match, {lower_field: True}]}
    sums, funded, bounded = await asyncio.gather(
        _grouped(col, known, keys, f"${usd_field}"),
        _grouped(col, known, keys, 1),
        _grouped(col, lower, keys, 1),
    )
    return _Money(_spread(sums, dims), _spread(funded, dims), set(_spread(bounded, dims)))


async def _money_by_currency(
    col: AsyncCollection[Document],
    match: Document,
    keys: dict[str, str],
    dims: list[Dimension],
    include_all: bool,
) -> _Money:
    """USD sums per funding currency, from each record's compact funding items (`_money`)."""
    position = next(i for i, name in enumerate(keys.values()) if name == "_currencies")
    other = {k: v for k, v in keys.items() if v != "_currencies"}
    grouped = await _grouped(col, match, {**other, "m": "_money"}, 1)
    money = _Money(Counter(), Counter(), set())
    for group, n in grouped:
        items = [m for m in group.get("m") or [] if include_all or m["a"]]
        others = [
            _values(group.get(k), d.array)
            for k, d in zip(other, _others(dims, position), strict=True)
        ]
        for rest in itertools.product(*others):
            funded_currencies = set()
            for item in items:
                key = (*rest[:position], item["c"], *rest[position:])
                if item["u"] is not None:
                    money.usd[key] += item["u"] * n
                    funded_currencies.add(key)
                if item["lb"]:
                    money.lower.add(key)
            for key in funded_currencies:
                money.funded[key] += n
    return money


def _others(dims: list[Dimension], position: int) -> list[Dimension]:
    return [d for i, d in enumerate(dims) if i != position]


def _row_values(money: _Money, key: Key, count: int, metrics: tuple[str, ...]) -> Document:
    row: Document = {}
    if "count" in metrics:
        row["count"] = count
    if "usd" in metrics or "usd_avg" in metrics:
        funded = money.funded.get(key, 0)
        total = money.usd.get(key, 0) if funded else None
        if "usd" in metrics:
            row["usd"] = total
        if "usd_avg" in metrics:
            row["usd_avg"] = round(total / funded) if total is not None else None
        row["usd_lower_bound"] = key in money.lower
    return row


async def stats(
    col: AsyncCollection[Document], resource: Resource, filters: Filters, request: StatsRequest
) -> Document:
    match = to_mongo(filters)
    eligible = match
    if not request.include_all and resource.has_aggregate_flag:
        eligible = {"$and": [match, {"recommended_for_aggregates": {"$ne": False}}]}
    dims = [DIMENSIONS[name] for name in request.group_by]
    keys = {f"d{i}": d.field for i, d in enumerate(dims)}
    wants_money = "usd" in request.metrics or "usd_avg" in request.metrics

    counts_rows, total_rows = await asyncio.gather(
        _grouped(col, match, keys, 1), _grouped(col, match, {}, 1)
    )
    counts = _spread(counts_rows, dims)
    empty = _Money(Counter(), Counter(), set())
    money, total_money = empty, empty
    if wants_money:
        by = _money_by_currency if "currency" in request.group_by else _money_by_record
        money, total_money = await asyncio.gather(
            by(col, eligible, keys, dims, request.include_all),
            _money_by_record(col, eligible, {}, [], request.include_all),
        )

    rows = []
    for key, n in counts.items():
        row: Document = dict(zip(request.group_by, key, strict=True))
        row.update(_row_values(money, key, n, request.metrics))
        rows.append(row)
    rows.sort(key=lambda r: tuple(_order_key(r[g]) for g in request.group_by))
    name = request.order.lstrip("-")
    descending = request.order.startswith("-")
    # Rows without a value for the ordering field come last either way.
    present = [r for r in rows if r.get(name) is not None]
    absent = [r for r in rows if r.get(name) is None]
    present.sort(key=lambda r: _order_key(r[name]), reverse=descending)
    rows = present + absent
    if request.top is not None:
        rows = rows[: request.top]
    total_count = sum(n for _, n in total_rows)
    return {
        "group_by": list(request.group_by),
        "metrics": list(request.metrics),
        "include_all": request.include_all,
        "rows": rows,
        "totals": _row_values(total_money, (), total_count, request.metrics),
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
