"""The raw twin: the same queries with the same driver, and nothing else.

A minimal Starlette app served by the same uvicorn as the service. For each benchmarked
workload it runs exactly the queries the service runs (the same filters, projections, sorts
the same round trips, side by side where the service gathers them)
and writes the same JSON bytes (orjson, the same shapes, the same signed cursors when
`CURSOR_SECRET` matches), but has no validation, auth, dependency injection, middleware or
error handling, and reads only the parameters the workloads send. The service's speed divided
by the twin's is what our framework and code cost on top of the database.

Routes, and the service request each one mirrors:

* `/raw/{collection}/{id}`: `GET /v1/{collection}/{id}`;
* `/raw/{collection}?[status=&sort=&]limit=`: the first page of `GET /v1/{collection}`
  (default: newest change first), with `total`;
* `/raw/{collection}/search?q=&limit=[&cursor=]`: `GET /v1/{collection}?q=` (relevance);
* `/raw/{collection}/facets?by=[&size=]`: `GET /v1/{collection}/facets`, no filters (so one
  read serves every facet);
* `/raw/projects/stats?group_by=&metrics=`: `GET /v1/projects/stats` (default order
  `-count`, no filters, no `include_all`, not by currency);
* `/raw/changes?limit=[&since=]`: `GET /v1/changes` over every collection.

Search terms and relevance come from the service's pure `service.records.search`.

`/bare/livez` is the floor: a Starlette endpoint that answers constant bytes.

Run: `uvicorn --factory bench.twin:create_app` with MONGODB_URI, DATABASE, CURSOR_SECRET.
"""

import asyncio
import base64
import hashlib
import heapq
import hmac
import itertools
import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.records.search import query_terms, relevance

Doc = dict[str, Any]
Key = tuple[Any, ...]

#: Internal fields that lists never serve.
HEAVY = {"_terms": 0, "_money": 0}
#: Facet and group-by names: the stored field, and whether it holds an array.
DIMENSIONS = {
    "year": ("year", False),
    "country": ("country_codes", True),
    "sector": ("sectors", True),
    "kind": ("kind", False),
    "status": ("status", False),
    "dual_use": ("dual_use.level", False),
    "organisation": ("_orgs", True),
}
#: The collections the changes feed follows, in the service's order.
FEED = ("events", "projects")


def public(doc: Doc) -> Doc:
    out = {"id": doc["_id"]}
    out.update((k, v) for k, v in doc.items() if k[0] != "_")
    return out


def json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def fingerprint(terms: list[str] | None, any_of: list[Any], sort: str) -> str:
    """What a list cursor is tied to: the filters (`q` and any-of lists here) and the sort."""
    # `Filters.fingerprint`: terms, any-of lists, then its six bounds (none in the twin).
    data = orjson.dumps([terms, any_of, *[None] * 6])
    return f"{hashlib.sha256(data).hexdigest()[:16]}/{sort}"


def load(token: str) -> Any:
    """A token's payload, unchecked."""
    data = token.partition(".")[0]
    return orjson.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def rank(doc: Doc, terms: list[str]) -> list[Any]:
    year = doc.get("year")
    return [-relevance(doc.get("_terms", []), terms), year is None, -(year or 0), doc["_id"]]


def order_key(value: Any) -> tuple[bool, int | float, str]:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return value is None, value if number else 0, "" if number else str(value)


def values(doc: Doc, path: str, array: bool) -> list[Any]:
    """The distinct values a record has for a dimension (dotted path; arrays spread)."""
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if not array:
        return [value]
    return list(dict.fromkeys(value)) if isinstance(value, list) else []


class Sums:
    def __init__(self) -> None:
        self.count: Counter[Key] = Counter()
        self.usd: Counter[Key] = Counter()
        self.per_year: Counter[Key] = Counter()
        self.funded: Counter[Key] = Counter()
        self.lower: set[Key] = set()
        self.rated: set[Key] = set()

    def add_item(self, key: Key, item: Doc, times: int) -> bool:
        """One funding item under `key`; true when it added to `usd`."""
        if item["lb"]:
            self.lower.add(key)
        if item["u"] is None:
            return False
        if item.get("r"):
            self.per_year[key] += item["u"]
            self.rated.add(key)
            return False
        self.usd[key] += item["u"] * times
        return True

    def row(self, key: Key, metrics: list[str]) -> Doc:
        out: Doc = {}
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


def change(collection: str, doc: Doc) -> Doc:
    out = {"collection": collection, "id": doc["_id"], "op": "upsert", "version": doc["version"]}
    if doc["_deleted"]:
        out["op"] = "delete"
    else:
        out["record"] = public(doc)
    return out


def create_app() -> Starlette:
    uri = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")
    database = os.environ.get("DATABASE", "silkroad")
    key = os.environ.get("CURSOR_SECRET", "bench").encode()
    stale_after = float(os.environ.get("CHANGE_STALE_AFTER_S", "5"))
    state: dict[str, Any] = {}

    def sign(payload: Any) -> str:
        data = base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")
        mac = hmac.new(key, data.encode(), hashlib.sha256).digest()[:12]
        return f"{data}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The same client options as service/db.py, timeouts included.
        t = int(os.environ.get("DB_TIMEOUT_MS", "1500"))
        client: AsyncMongoClient[Doc] = AsyncMongoClient(
            uri,
            serverSelectionTimeoutMS=t,
            connectTimeoutMS=t,
            socketTimeoutMS=max(t * 2, 3000),
            maxPoolSize=int(os.environ.get("DB_POOL_SIZE", "50")),
            retryWrites=True,
            tz_aware=True,
            connect=False,
        )
        state["db"] = client[database]
        yield
        await client.close()

    def collection(request: Request) -> AsyncCollection[Doc]:
        return state["db"][request.path_params["collection"]]  # type: ignore[no-any-return]

    async def get_one(request: Request) -> Response:
        doc = await collection(request).find_one({"_id": request.path_params["id"]})
        if doc is None or doc["_deleted"]:
            return Response(status_code=404)
        headers = {"ETag": f'"{doc["version"]}"'}
        return Response(orjson.dumps(public(doc)), media_type="application/json", headers=headers)

    async def list_page(request: Request) -> Response:
        col = collection(request)
        params = request.query_params
        limit = int(params.get("limit", "25"))
        sort = params.get("sort", "-updated_at")
        field = sort.lstrip("-")
        stored = {"updated_at": "_seq", "id": "_id"}.get(field, field)
        direction = -1 if sort.startswith("-") else 1
        query: Doc = {"_deleted": False}
        status = params["status"].split(",") if "status" in params else None
        if status:
            query["status"] = {"$in": status}
        order = [(stored, direction)] + ([] if stored == "_id" else [("_id", direction)])
        found = col.find(query, projection=HEAVY, sort=order, limit=limit + 1)
        docs, total = await asyncio.gather(found.to_list(), col.count_documents(query))
        following = None
        if len(docs) > limit:
            last = docs[limit - 1]
            h = fingerprint(None, [["status", status]] if status else [], sort)
            following = sign({"h": h, "v": last.get(stored), "i": last["_id"]})
        return json({"data": [public(d) for d in docs[:limit]], "total": total, "next": following})

    async def search(request: Request) -> Response:
        col = collection(request)
        terms = query_terms(request.query_params["q"])
        limit = int(request.query_params.get("limit", "25"))
        query = {"_deleted": False, "_terms": {"$all": terms} if terms else {"$in": []}}
        found = col.find(query, projection={"_terms": 1, "year": 1})
        keys = sorted([rank(d, terms) async for d in found])
        total = len(keys)
        if "cursor" in request.query_params:
            start = load(request.query_params["cursor"])["k"]
            keys = [k for k in keys if k > start]
        chosen = keys[: limit + 1]
        ids = [k[-1] for k in chosen[:limit]]
        looked_up = await asyncio.gather(*(col.find_one({"_id": i}, projection=HEAVY) for i in ids))
        following = None
        if len(chosen) > limit:
            following = sign({"h": fingerprint(terms, [], "relevance"), "k": chosen[limit - 1]})
        docs = [public(d) for d in looked_up if d is not None and not d.get("_deleted")]
        return json({"data": docs, "total": total, "next": following})

    async def facets(request: Request) -> Response:
        """No filters: every facet shares the one read, as in the service."""
        size = int(request.query_params.get("size", "100"))
        names = request.query_params["by"].split(",")
        dims = {name: DIMENSIONS[name] for name in names}
        projection = dict.fromkeys(sorted({f for f, _ in dims.values()}), 1) | {"_id": 0}
        counts: dict[str, Counter[Any]] = {name: Counter() for name in names}
        async for doc in collection(request).find({"_deleted": False}, projection=projection):
            for name, (field, array) in dims.items():
                counts[name].update(values(doc, field, array))
        answer = {}
        for name in names:
            ordered = sorted(counts[name].items(), key=lambda kv: (-kv[1], order_key(kv[0])))
            answer[name] = [{"value": v, "count": n} for v, n in ordered[:size]]
        return json(answer)

    async def stats(request: Request) -> Response:
        group_by = request.query_params["group_by"].split(",")
        metrics = request.query_params.get("metrics", "count").split(",")
        dims = [DIMENSIONS[g] for g in group_by]
        by_year = "year" in group_by
        fields = {f for f, _ in dims} | {"_money", "recommended_for_aggregates"}
        projection = dict.fromkeys(sorted(fields), 1) | {"_id": 0}
        grouped, totals = Sums(), Sums()
        tail: Key = (None,) if by_year else ()
        async for doc in collection(request).find({"_deleted": False}, projection=projection):
            own = {(*k, *tail) for k in itertools.product(*(values(doc, f, a) for f, a in dims))}
            for key in own:
                grouped.count[key] += 1
            totals.count[()] += 1
            if doc.get("recommended_for_aggregates") is False:
                continue
            reached: set[Key] = set()
            funded: set[Key] = set()
            total_funded = False
            for item in doc.get("_money") or []:
                if not item["a"]:
                    continue
                choices = [
                    (item["y"] or [None]) if g == "year" else values(doc, f, a)
                    for g, (f, a) in zip(group_by, dims, strict=True)
                ]
                period: Key = (None if item["y"] else item["p"],) if by_year else ()
                for key in {(*k, *period) for k in itertools.product(*choices)}:
                    reached.add(key)
                    if grouped.add_item(key, item, 1 if by_year else item["n"]):
                        funded.add(key)
                total_funded |= totals.add_item((), item, item["n"])
            for key in reached - own:
                grouped.count[key] += 1
            for key in funded:
                grouped.funded[key] += 1
            totals.funded[()] += int(total_funded)
        names = [*group_by, "period"] if by_year else group_by
        rows = [dict(zip(names, k, strict=True)) | grouped.row(k, metrics) for k in grouped.count]
        rows.sort(key=lambda r: tuple(order_key(r[g]) for g in names))
        rows.sort(key=lambda r: order_key(r["count"]), reverse=True)  # order=-count
        return json(
            {
                "group_by": group_by,
                "metrics": metrics,
                "include_all": False,
                "roles": None,
                "rows": rows,
                "totals": totals.row((), metrics),
            }
        )

    async def horizon() -> int:
        counter = await state["db"]["sequence"].find_one({"_id": "changes"})
        if counter is None:
            return 0
        fresh = time.time() - stale_after
        left = []
        for claim in counter.get("pending", []):
            if claim["at"] <= fresh:
                continue
            if claim.get("w"):
                name, record_id, version = claim["w"]
                doc = await state["db"][name].find_one({"_id": record_id}, {"version": 1})
                if doc is not None and doc["version"] >= version:
                    continue
            left.append(int(claim["lo"]))
        return min(left) - 1 if left else int(counter["n"])

    async def changes(request: Request) -> Response:
        limit = int(request.query_params.get("limit", "100"))
        since = load(request.query_params["since"])["c"] if "since" in request.query_params else 0
        until = await horizon()
        if until <= since:
            return json({"changes": [], "next": sign({"c": since}), "more": False})
        runs = []
        for name in FEED:  # one after the other, as the service reads them
            found = state["db"][name].find(
                {"_seq": {"$gt": since, "$lte": until}},
                projection={"_terms": 0},
                sort=[("_seq", 1)],
                limit=limit + 1,
            )
            runs.append([(doc["_seq"], name, doc) async for doc in found])
        merged = list(heapq.merge(*runs, key=lambda run: (run[0], run[1])))
        more = len(merged) > limit
        served = [change(name, doc) for _, name, doc in merged[:limit]]
        position = merged[limit - 1][0] if more else until
        return json({"changes": served, "next": sign({"c": position}), "more": more})

    async def bare_livez(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/bare/livez", bare_livez),
            Route("/raw/changes", changes),  # before `/raw/{collection}`, which would take it
            Route("/raw/{collection:str}", list_page),
            Route("/raw/{collection:str}/search", search),
            Route("/raw/{collection:str}/facets", facets),
            Route("/raw/{collection:str}/stats", stats),
            Route("/raw/{collection:str}/{id:str}", get_one),
        ],
        lifespan=lifespan,
    )
