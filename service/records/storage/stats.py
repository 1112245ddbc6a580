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
from service.records.grammar.query import Filters
from service.records.grammar.stats import DIMENSIONS, Dimension, StatsRequest
from service.records.resource import Resource
from service.records.storage.mongo_query import to_mongo
from service.vocab.terms import PROVIDING_ROLES

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


@dataclass
class _Sums:
    count: Counter[Key] = field(default_factory=Counter)
    usd: Counter[Key] = field(default_factory=Counter)
    per_year: Counter[Key] = field(default_factory=Counter)
    funded: Counter[Key] = field(default_factory=Counter)
    lower: set[Key] = field(default_factory=set)
    rated: set[Key] = field(default_factory=set)

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
            out["usd_per_year"] = self.per_year[key] if key in self.rated else None
        return out


@dataclass(frozen=True)
class _Plan:
    """What one statistics read must do for each record."""

    dims: list[Dimension]
    names: tuple[str, ...]
    money: bool  # usd metrics requested
    include_all: bool
    roles: frozenset[str]
    by_year: bool

    def record_keys(self, doc: Document) -> list[Key]:
        """The groups a record counts in: its own values (its year, all its parties)."""
        choices = [_values(_get(doc, d.field), d.array) for d in self.dims]
        tail: Key = (None,) if self.by_year else ()
        return [(*key, *tail) for key in itertools.product(*choices)]

    def item_keys(self, doc: Document, item: Document) -> list[Key]:
        """The groups one funding item's money goes to: the years (or the period) the
        source gives it, the parties in the counted roles, its own currency."""
        choices: list[list[Any]] = []
        for name, dim in zip(self.names, self.dims, strict=True):
            if name == "year":
                choices.append(list(item["y"]) or [None])
            elif name == "currency":
                choices.append([item["c"]])
            elif name in _PARTIES:
                choices.append(_credited(doc, item, name, self.roles) or [None])
            else:
                choices.append(_values(_get(doc, dim.field), dim.array))
        tail: Key = (None if item["y"] else item["p"],) if self.by_year else ()
        return [(*key, *tail) for key in itertools.product(*choices)]


#: Dimensions whose money is attributed by role, and where each reads its parties.
_PARTIES = {"organisation": ("organisations", "name"), "country": ("countries", "code")}


def _credited(doc: Document, item: Document, name: str, roles: frozenset[str]) -> list[Any]:
    """The parties of dimension `name` credited with an item: those in the counted roles;
    in a providing role, only those the item's `provided_by` names (or, for organisations,
    whose country it names) when it names any."""
    array, key = _PARTIES[name]
    providers = set(item.get("by") or [])
    out = []
    for party in doc.get(array) or []:
        role = party.get("role")
        if role not in roles:
            continue
        named = party.get(key) in providers or party.get("country") in providers
        if providers and role in PROVIDING_ROLES and not named:
            continue
        out.append(party.get(key))
    return list(dict.fromkeys(out))


def _add_money(sums: _Sums, keys: Iterable[Key], item: Document, by_year: bool) -> set[Key]:
    """One item's USD under each key, and the keys where it added to `usd`. A rate a year
    goes to `per_year`, never into `usd`; a closed annual period adds once per year, so a
    row of one of its years gets one year's amount and any other row all of them."""
    summed = set()
    for key in keys:
        if item["lb"]:
            sums.lower.add(key)
        if item["u"] is None:
            continue
        if item.get("r"):
            sums.per_year[key] += item["u"]
            sums.rated.add(key)
            continue
        sums.usd[key] += item["u"] * (1 if by_year else item.get("n", 1))
        summed.add(key)
    return summed


def _add_record(sums: _Sums, totals: _Sums, plan: _Plan, doc: Document, eligible: bool) -> None:
    """A record counts once in each of its groups; its money goes where its items say.
    Groups that only its money reaches (a period, no party in the roles) count it too."""
    own = plan.record_keys(doc)
    for key in own:
        sums.count[key] += 1
    totals.count[()] += 1
    if not plan.money:
        return
    reached: set[Key] = set()
    funded: set[Key] = set()
    total_funded: set[Key] = set()
    for item in doc.get("_money") or []:
        if not (eligible and (plan.include_all or item["a"])):
            continue
        keys = set(plan.item_keys(doc, item))
        reached |= keys
        funded |= _add_money(sums, keys, item, plan.by_year)
        total_funded |= _add_money(totals, [()], item, False)
    for key in reached - set(own):
        sums.count[key] += 1  # a group only its money reaches still counts the record
    # `funded` counts records with a known amount (for averages), once per group.
    for key in funded:
        sums.funded[key] += 1
    for key in total_funded:
        totals.funded[key] += 1


async def _sums(
    col: AsyncCollection[Document],
    match: Document,
    plan: _Plan,
    has_flag: bool,
) -> tuple[_Sums, _Sums]:
    """Sums per group and over all matching records, from one read of the fields they need.

    One projected `find` and the arithmetic here, rather than a pipeline per metric: FerretDB
    reads the whole collection once per query, so one read is several times faster there,
    and on MongoDB it is one indexed read of a few small fields per matching record."""
    fields = {d.field for d in plan.dims} | {"recommended_for_aggregates"}
    if plan.money:
        fields |= {"_money", "organisations", "countries"}
    projection = dict.fromkeys(sorted(fields), 1) | {"_id": 0}
    grouped, totals = _Sums(), _Sums()
    async for doc in col.find(match, projection=projection):
        eligible = (
            plan.include_all or not has_flag or doc.get("recommended_for_aggregates") is not False
        )
        _add_record(grouped, totals, plan, doc, eligible)
    return grouped, totals


async def stats(
    col: AsyncCollection[Document], resource: Resource, filters: Filters, request: StatsRequest
) -> Document:
    by_year = "year" in request.group_by
    parties = any(name in _PARTIES for name in request.group_by)
    plan = _Plan(
        dims=[DIMENSIONS[name] for name in request.group_by],
        names=request.group_by,
        money="usd" in request.metrics or "usd_avg" in request.metrics,
        include_all=request.include_all,
        roles=frozenset(request.roles),
        by_year=by_year,
    )
    sums, totals = await _sums(col, to_mongo(filters), plan, resource.has_aggregate_flag)

    names = (*request.group_by, "period") if by_year else request.group_by
    rows = []
    for key in sums.count:
        row: Document = dict(zip(names, key, strict=True))
        row.update(sums.row(key, request.metrics))
        rows.append(row)
    rows.sort(key=lambda r: tuple(_order_key(r[g]) for g in names))
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
        "roles": list(request.roles) if parties else None,
        "rows": rows,
        "totals": totals.row((), request.metrics),
    }
