"""Latency of search, facets and statistics on 10,000 generated projects.

    make bench-latency    (or: .venv/bin/python -m bench.latency [--records N] [--runs R])

Starts a throwaway embedded database (the one the tests use) unless MONGODB_URI is set, loads a
deterministic data set, then times each request through the ASGI app in-process (routing,
validation, the database round trips and JSON encoding; no network hop). Each request runs
`--warmup` times (default once) and then `--runs` times; the median and the slowest run are printed.
"""

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.clock import now_iso
from service.main import create_app
from service.records.derive import derive
from service.records.storage.repository import Repository
from service.settings import Settings
from service.vocab.terms import SECTORS, ProjectKind, ProjectStatus
from service.wiring import services_of
from tests.dbserver import throwaway_database

WORDS = [
    "cable",
    "fibre",
    "network",
    "data",
    "centre",
    "cloud",
    "laboratory",
    "joint",
    "university",
    "alliance",
    "research",
    "satellite",
    "navigation",
    "payment",
    "mobile",
    "science",
    "park",
    "innovation",
    "technology",
    "transfer",
    "smart",
    "city",
    "safe",
    "port",
    "railway",
    "energy",
    "solar",
    "grid",
    "telecom",
    "5G",
    "backbone",
    "submarine",
    "digital",
    "silk",
    "road",
    "agriculture",
    "health",
    "vaccine",
    "space",
    "station",
    "quantum",
    "artificial",
    "intelligence",
    "robotics",
    "semiconductor",
    "chip",
    "training",
    "talent",
    "exchange",
    "programme",
    "centre",
    "hub",
    "corridor",
    "economic",
]
COUNTRIES = [
    "CHN",
    "PAK",
    "KEN",
    "ETH",
    "EGY",
    "NGA",
    "ZAF",
    "IDN",
    "MYS",
    "THA",
    "VNM",
    "LAO",
    "KHM",
    "MMR",
    "BGD",
    "LKA",
    "NPL",
    "KAZ",
    "UZB",
    "KGZ",
    "TJK",
    "TKM",
    "IRN",
    "IRQ",
    "SAU",
    "ARE",
    "OMN",
    "TUR",
    "GRC",
    "SRB",
    "HUN",
    "POL",
    "ITA",
    "PRT",
    "RUS",
    "BLR",
    "UKR",
    "BRA",
    "ARG",
    "CHL",
    "PER",
]
ORGS = [f"Organisation {i}" for i in range(60)] + ["Huawei", "ZTE", "Alibaba", "CAS", "CETC"]
QUALIFIERS = ["exact"] * 6 + ["approx", "at-least", "more-than", "up-to"]


def generate(n: int, seed: int = 20261129) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        year = rng.randint(2008, 2026)
        countries = rng.sample(COUNTRIES[1:], rng.randint(1, 3))
        record: dict[str, Any] = {
            "title": " ".join(rng.sample(WORDS, rng.randint(3, 7))).capitalize(),
            "summary": " ".join(rng.choices(WORDS, k=rng.randint(10, 40))),
            "kind": rng.choice(list(ProjectKind)).value,
            "status": rng.choice(list(ProjectStatus)).value,
            "dates": {"started": {"value": f"{year}-{rng.randint(1, 12):02d}"}},
            "countries": [{"code": "CHN", "role": "financier"}]
            + [{"code": c, "role": "host"} for c in countries],
            "organisations": [
                {"name": o, "role": "partner"} for o in rng.sample(ORGS, rng.randint(0, 3))
            ],
            "sectors": rng.sample(list(SECTORS), rng.randint(1, 3)),
            "tags": rng.sample(
                ["dsr", "bri", "health-silk-road", "space", "5g"], rng.randint(0, 2)
            ),
            "dual_use": {"level": rng.choice(["unassessed", "none", "possible", "documented"])},
            "recommended_for_aggregates": rng.random() > 0.05,
            "funding": [
                {
                    "amount": rng.randint(1, 5000) * 1_000_000,
                    "currency": rng.choice(["USD", "USD", "EUR", "CNY"]),
                    "usd": rng.randint(1, 5000) * 1_000_000,
                    "qualifier": rng.choice(QUALIFIERS),
                    "kind": "loan",
                    "text": "generated",
                }
                for _ in range(rng.choice([0, 1, 1, 2]))
            ],
            "sources": [{"url": f"https://example.org/{i}", "title": "Generated source"}],
        }
        out.append((f"gen-{i:05d}", record))
    return out


async def load(repository: Repository, records: list[tuple[str, dict[str, Any]]]) -> None:
    """Stores the records as the repository would (validated, derived fields, envelope) but
    with batched inserts and no revisions: the versioned write path makes about six round trips
    per record, which on FerretDB would take most of an hour for 10,000 records."""
    stamp = now_iso()
    docs = []
    for seq, (rid, body) in enumerate(records, start=1):
        fields, derived = derive(repository.validate(body))
        docs.append(
            {
                "_id": rid,
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
                "created_by": "bench",
                "updated_by": "bench",
                "owner": "bench",
                **fields.model_dump(mode="json"),
                **derived,
                "_deleted": False,
                "_seq": seq,
            }
        )
    for start in range(0, len(docs), 500):
        await repository.col.insert_many(docs[start : start + 500])


REQUESTS = {
    "filtered search (q + 3 filters)": "/v1/projects?q=cable%20network&country=KEN,ETH"
    "&sector=cables,telecom&year_from=2015",
    "single record by id": "/v1/projects/gen-00042",
    "facets (7 facets, 1 filter)": "/v1/projects/facets?by=country,sector,kind,status,year,"
    "dual_use,organisation&year_from=2015",
    "stats year x sector (count, usd, usd_avg)": "/v1/projects/stats?group_by=year,sector"
    "&metrics=count,usd,usd_avg",
    "stats year x kind (count, usd, usd_avg)": "/v1/projects/stats?group_by=year,kind"
    "&metrics=count,usd,usd_avg",
}


async def main(records: int, runs: int, warmup: int, only: str | None) -> None:
    server = None
    uri = os.environ.get("MONGODB_URI")
    if uri is None:
        server = throwaway_database()
        server.start()
        uri = server.uri
    try:
        # FerretDB reads every document of a collection for each query, so at this size a
        # request takes longer than the service's default 3 s socket timeout.
        settings = Settings(
            mongodb_uri=uri, database=f"bench_{uuid.uuid4().hex[:8]}", db_timeout_ms=300_000
        )
        app = create_app(settings)
        async with LifespanManager(app) as manager:
            started = time.perf_counter()
            await load(services_of(app).repositories["projects"], generate(records))
            print(f"loaded {records} projects in {time.perf_counter() - started:.0f} s")
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for label, url in REQUESTS.items():
                    if only and only not in label:
                        continue
                    for _ in range(warmup):
                        first = await client.get(url)
                        assert first.status_code == 200, first.text
                    times = []
                    for _ in range(runs):
                        t = time.perf_counter()
                        r = await client.get(url)
                        times.append((time.perf_counter() - t) * 1000)
                        assert r.status_code == 200, r.text
                    body = r.json()
                    size = body.get("total", len(body.get("rows", [body])))
                    print(
                        f"{label:45s} median {statistics.median(times):7.1f} ms"
                        f"   max {max(times):7.1f} ms   ({size} matching/rows)"
                    )
    finally:
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--only", help="run only the requests whose label contains this")
    args = parser.parse_args()
    asyncio.run(main(args.records, args.runs, args.warmup, args.only))
