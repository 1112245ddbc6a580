"""Latency of each query shape at 10,000 and 100,000 records: `make bench-latency`.

Starts a throwaway embedded database (or uses `MONGODB_URI`), and for each size loads the
deterministic projects of `bench/dataset.py` through the service's own write code
(`POST /v1/projects/bulk`, 1,000 records a request, in-process) into a fresh database. The
secondary indexes the service created at start-up are dropped before the load and created
again after it, with the same definitions, because building an index once over loaded data
is much faster than updating it on every insert (the `_terms` multikey index especially).

Then it times requests through the ASGI app in-process: routing, validation, database round
trips and JSON or CSV encoding, no network hop. Each request runs once to warm up, then
`--runs` times; the figure is the median. The results go to `bench/results/latency-*.json`
and, with `--write-docs`, into the table of `docs/indexes.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
from asgi_lifespan import LifespanManager
from pymongo import AsyncMongoClient, IndexModel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import project, project_id  # noqa: E402
from embedded import EmbeddedDatabase  # noqa: E402
from service.main import create_app  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.dbserver import throwaway_database  # noqa: E402

ADMIN_SECRET = "bench-admin-secret"
ADMIN = {"Authorization": f"Bearer {ADMIN_SECRET}"}
BATCH = 1000
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "indexes.md"

SEARCH = "/v1/projects?q=cable%20network&country=KEN,ETH&sector=cables,telecom&year_from=2015"
FACETS = (
    "/v1/projects/facets?by=country,sector,kind,status,year,dual_use,organisation&year_from=2015"
)
STATS = "/v1/projects/stats?group_by=year,sector&metrics=count,usd,usd_avg"
DEEP_OFFSET = 5000

# Targets of the embedded database at 100,000 records (in-process medians).
TARGETS: dict[str, tuple[str, Callable[[float], bool]]] = {
    "get_by_id_ms": ("≤ 5 ms", lambda v: v <= 5),
    "search_ms": ("≤ 300 ms", lambda v: v <= 300),
    "facets_ms": ("≤ 1 s", lambda v: v <= 1000),
    "stats_ms": ("≤ 1 s", lambda v: v <= 1000),
    "export_rows_per_s": ("≥ 5,000 rows/s", lambda v: v >= 5000),
}


async def timed(call: Callable[[], Awaitable[httpx.Response]], runs: int) -> float:
    """Median milliseconds of `runs` calls after one warm-up; every call must answer 200."""
    first = await call()
    assert first.status_code == 200, first.text[:500]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        r = await call()
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text[:500]
    return statistics.median(times)


async def load(client: httpx.AsyncClient, count: int, progress: Progress) -> float:
    """Records 0..count-1 through the bulk endpoint; returns records per second."""
    task = progress.add_task(f"loading {count:,} projects", total=count)
    started = time.perf_counter()
    for lo in range(0, count, BATCH):
        records = [{"id": project_id(i), **project(i)} for i in range(lo, min(lo + BATCH, count))]
        r = await client.post("/v1/projects/bulk", json={"records": records}, headers=ADMIN)
        assert r.status_code == 200, r.text[:500]
        failed = [item for item in r.json()["results"] if item["status"] != "created"]
        assert not failed, failed[:3]
        progress.advance(task, len(records))
    progress.remove_task(task)
    return count / (time.perf_counter() - started)


async def measure(uri: str, count: int, runs: int, progress: Progress) -> dict[str, Any]:
    database = f"latency_{count}_{uuid.uuid4().hex[:6]}"
    settings = Settings(
        mongodb_uri=uri,
        database=database,
        bootstrap_admin_key=ADMIN_SECRET,
        rate_limit_enabled=False,
        db_timeout_ms=30_000,
        log_level="warning",
    )
    app = create_app(settings)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    out: dict[str, Any] = {"records": count}
    try:
        async with LifespanManager(app) as manager:
            col = mongo[database]["projects"]
            specs = [i async for i in await col.list_indexes() if i["name"] != "_id_"]
            assert specs, "the service created no indexes at start-up"
            await col.drop_indexes()
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", timeout=600
            ) as client:
                out["load_records_per_s"] = await load(client, count, progress)
                started = time.perf_counter()
                await col.create_indexes(
                    [IndexModel(list(s["key"].items()), name=s["name"]) for s in specs]
                )
                out["index_build_s"] = time.perf_counter() - started
                progress.console.print(
                    f"{count:,} records: loaded at {out['load_records_per_s']:.0f} records/s, "
                    f"{len(specs)} indexes built in {out['index_build_s']:.1f} s"
                )
                await measure_requests(client, count, runs, out)
    finally:
        await mongo.drop_database(database)
        await mongo.close()
    return out


async def measure_requests(
    client: httpx.AsyncClient, count: int, runs: int, out: dict[str, Any]
) -> None:
    ids = iter([project_id(i * (count // 50)) for i in range(runs * 3 + 10)])
    out["get_by_id_ms"] = await timed(lambda: client.get(f"/v1/projects/{next(ids)}"), runs * 3)
    out["search_ms"] = await timed(lambda: client.get(SEARCH), runs)
    out["search_matches"] = (await client.get(SEARCH)).json()["total"]
    out["facets_ms"] = await timed(lambda: client.get(FACETS), runs)
    out["stats_ms"] = await timed(lambda: client.get(STATS), runs)
    out["stats_rows"] = len((await client.get(STATS)).json()["rows"])

    # The first page and a page 5,000 records deep of the same order (the deep page's cursor
    # is found once by paging, then the page is timed).
    first: dict[str, Any] = {"limit": 25, "count": "none", "sort": "year"}
    out["first_page_ms"] = await timed(lambda: client.get("/v1/projects", params=first), runs)
    cursor, seen = None, 0
    while seen < DEEP_OFFSET:
        params: dict[str, Any] = {"limit": 200, "count": "none", "sort": "year"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/projects", params=params)).json()
        seen, cursor = seen + len(page["data"]), page["next"]
        assert cursor, f"fewer than {DEEP_OFFSET:,} records"
    deep = {"limit": 25, "count": "none", "sort": "year", "cursor": cursor}
    out["deep_page_ms"] = await timed(lambda: client.get("/v1/projects", params=deep), runs)

    # A CSV export of about 10,000 rows: everything at 10,000 records, four tags at 100,000.
    export = "/v1/projects/export?format=csv&sort=id"  # id order, as measured before sort existed
    if count > 10_000:
        export += "&tag=tag-0,tag-1,tag-2,tag-3"
    rows = (await client.get(export)).text.count("\r\n") - 1
    export_ms = await timed(lambda: client.get(export), max(1, runs // 2))
    out["export_rows"] = rows
    out["export_rows_per_s"] = rows / (export_ms / 1000)


def database_footprint(db: EmbeddedDatabase) -> dict[str, float]:
    """Disk of the cluster and resident memory of PostgreSQL's processes and FerretDB, in MB."""
    disk = sum(f.stat().st_size for f in db.pg_dir.rglob("*") if f.is_file())
    assert db.postgres is not None and db.ferretdb is not None
    postmaster = psutil.Process(db.postgres.pid)
    pg = [postmaster, *postmaster.children(recursive=True)]
    # Shared buffers are mapped by every backend: count unique set size, plus shared once.
    uss = sum(p.memory_full_info().uss for p in pg)
    shared = max(p.memory_full_info().shared for p in pg)
    return {
        "disk_mb": disk / 1e6,
        "postgres_rss_mb": (uss + shared) / 1e6,
        "ferretdb_rss_mb": psutil.Process(db.ferretdb.pid).memory_info().rss / 1e6,
    }


def table(results: list[dict[str, Any]]) -> str:
    sizes = [r["records"] for r in results]
    head = "| Request | " + " | ".join(f"{n:,} records" for n in sizes)
    head += " | target at 100,000 | FerretDB 1.24 at 10,000 |\n"
    head += "| --- " * (len(sizes) + 3) + "|\n"
    rows = [
        ("GET by id", "get_by_id_ms", "ms", "16.6 ms"),
        (f"filtered search (`{SEARCH.split('?')[1]}`)", "search_ms", "ms", "36.7 s"),
        ("seven facets (`year_from=2015`)", "facets_ms", "ms", "46.6 s"),
        ("two-dimension stats (`year,sector`, count, usd, usd_avg)", "stats_ms", "ms", "17.1 s"),
        ("first page of the whole collection (`sort=year`)", "first_page_ms", "ms", ""),
        (f"a page {DEEP_OFFSET:,} records deep (`sort=year`, cursor)", "deep_page_ms", "ms", ""),
        ("CSV export (about 10,000 rows)", "export_rows_per_s", "rows/s", ""),
        ("bulk load through the service", "load_records_per_s", "records/s", ""),
        ("index build after the load", "index_build_s", "s", ""),
    ]
    body = ""
    for label, key, unit, old in rows:
        cells = [
            f"{r[key]:,.0f} {unit}" if r[key] >= 100 else f"{r[key]:.1f} {unit}" for r in results
        ]
        target = TARGETS.get(key, ("", None))[0]
        body += f"| {label} | " + " | ".join(cells) + f" | {target} | {old} |\n"
    return head + body


def write_docs(results: list[dict[str, Any]], footprint: dict[str, float], stamp: str) -> None:
    start, end = "<!-- latency:start -->", "<!-- latency:end -->"
    text = DOC.read_text()
    block = (
        f"{start}\nRun `{stamp}` (`bench/results/latency-{stamp}.json`), in-process medians:\n\n"
        + table(results)
        + f"\nThe database with {results[-1]['records']:,} records (and their revisions): "
        f"{footprint['disk_mb']:,.0f} MB on disk, PostgreSQL {footprint['postgres_rss_mb']:,.0f}"
        f" MB resident, FerretDB {footprint['ferretdb_rss_mb']:,.0f} MB.\n{end}"
    )
    if start in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text += "\n" + block + "\n"
    DOC.write_text(text)


async def main(sizes: list[int], runs: int, docs: bool) -> None:
    uri = os.environ.get("MONGODB_URI")
    db = None
    if uri is None:
        db = throwaway_database()
        db.start()
        uri = db.uri
    results, footprint = [], {}
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        ) as progress:
            for count in sizes:
                results.append(await measure(uri, count, runs, progress))
                if db is not None and count == sizes[-1]:
                    footprint = database_footprint(db)
    finally:
        if db is not None:
            db.cleanup()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    record = {"run": stamp, "results": results, "database": footprint}
    (RESULTS / f"latency-{stamp}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(table(results))
    for key, (label, ok) in TARGETS.items():
        value = results[-1][key]
        print(f"{key}: {value:,.1f} (target {label}): {'holds' if ok(value) else 'MISSES'}")
    if footprint:
        print(json.dumps(footprint))
    if docs and footprint:
        write_docs(results, footprint, stamp)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated record counts")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write-docs", action="store_true", help="update docs/indexes.md")
    args = parser.parse_args()
    asyncio.run(main([int(n) for n in args.sizes.split(",")], args.runs, args.write_docs))
