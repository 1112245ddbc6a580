"""Deterministic bench datasets: N valid projects, loaded exactly as the service stores them.

`project(i)` is a pure function of `i`: the same index gives the same record on every
machine, so runs are comparable. Records are valid `ProjectFields` (the shapes of
`tests/factories.py`, varied over the published vocabularies).

Loading goes through the service's own code: `Repository.validate`, `derive` (USD values,
`year`, `country_codes`, `_terms`) and the same stored document as `write_protocol.next_doc` makes
for a create, with one sequence block claimed for the whole load (as a bulk write does).
The first record is written through `Repository.put` itself and the loader checks that the
document it builds for it is identical to what the real write stored, apart from timestamps
and `_seq`; a drift in the write path fails the load instead of skewing the benchmark.
Documents (and, up to 10,000 records, their revisions) are then inserted with `insert_many`
in batches, which is ~50x faster than 100,000 single writes and is not part of any timing.
The 100,000-record dataset has no revision documents: no benchmarked read touches them, and
storing 100,000 more copies doubles a load that FerretDB already needs minutes for.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from typing import Any

import orjson
from pymongo import AsyncMongoClient

from service.auth.principal import Principal, Role
from service.clock import now_iso
from service.projects.resource import PROJECTS
from service.records.derive import derive
from service.records.storage.repository import Repository
from service.records.storage.sequence import Sequence
from service.tokens import Signer
from service.vocab.terms import SECTORS, ProjectKind, ProjectStatus

#: Bump when `project()` changes: cached databases made by another version are reloaded. A
#: change in what the service stores (`derive`, the write path) reloads them by itself: the
#: cache is keyed by a digest of the stored document of record 0 too (`shape`).
GENERATOR_VERSION = 2
LOADER = Principal("bench", Role.ADMIN)

_KINDS = [k.value for k in ProjectKind]
_STATUSES = [s.value for s in ProjectStatus]
_SECTORS = sorted(SECTORS)
_COUNTRIES = [
    "PAK",
    "KEN",
    "EGY",
    "IDN",
    "MYS",
    "KAZ",
    "SRB",
    "HUN",
    "BRA",
    "ARG",
    "NGA",
    "ETH",
    "THA",
    "VNM",
    "LAO",
    "KHM",
    "SAU",
    "ARE",
    "TUR",
    "IRN",
    "RUS",
    "ZAF",
    "CHL",
    "PER",
    "ECU",
    "BGD",
    "LKA",
    "NPL",
    "MMR",
    "UZB",
    "GRC",
    "ITA",
    "EUU",
]
_CURRENCIES = ["USD", "USD", "USD", "CNY", "EUR", "GBP", "JPY"]
_WORDS = [
    "digital",
    "silk",
    "road",
    "fibre",
    "backbone",
    "submarine",
    "cable",
    "data",
    "centre",
    "smart",
    "city",
    "joint",
    "laboratory",
    "science",
    "park",
    "university",
    "alliance",
    "satellite",
    "navigation",
    "beidou",
    "5g",
    "network",
    "payment",
    "platform",
    "innovation",
    "partnership",
    "technology",
    "transfer",
    "research",
    "centre",
    "corridor",
    "gateway",
    "hub",
    "exchange",
    "training",
    "programme",
]
_ORGS = [
    "Huawei",
    "ZTE",
    "China Telecom",
    "China Mobile",
    "Alibaba",
    "Tencent",
    "China Development Bank",
    "Export-Import Bank of China",
    "Chinese Academy of Sciences",
    "Tsinghua University",
    "PowerChina",
    "China Unicom",
    "Hengtong",
    "BeiDou Office",
]


def project_id(i: int) -> str:
    return f"proj-{i:06d}"


def project(i: int) -> dict[str, Any]:
    """Record `i` of every dataset (a 1,000-record dataset is the first 1,000 of 100,000)."""
    r = random.Random(i * 7919 + 17)
    words = r.sample(_WORDS, 4)
    country = r.choice(_COUNTRIES)
    year = r.randint(2013, 2025)
    currency = r.choice(_CURRENCIES)
    amount = r.randint(1, 5000) * 1_000_000
    record: dict[str, Any] = {
        "title": f"{' '.join(words).capitalize()} {country} {i}",
        "summary": f"A {r.choice(_KINDS).replace('-', ' ')} project: "
        + " ".join(r.choice(_WORDS) for _ in range(r.randint(8, 30))),
        "kind": r.choice(_KINDS),
        "status": r.choice(_STATUSES),
        "dates": {"announced": {"value": f"{year}-{r.randint(1, 12):02d}"}},
        "countries": [{"code": country, "role": "host"}, {"code": "CHN", "role": "financier"}],
        "organisations": [
            {"name": r.choice(_ORGS), "role": "lead", "country": "CHN", "chinese": True}
        ],
        "sectors": r.sample(_SECTORS, r.randint(1, 3)),
        "tags": [f"tag-{r.randint(0, 40)}"],
        "funding": [
            {
                "amount": amount,
                "currency": currency,
                "kind": r.choice(["loan", "investment", "grant", "commitment"]),
                "year": year,
                "text": f"{currency} {amount // 1_000_000} million",
            }
        ],
        "sources": [
            {
                "url": f"https://example.org/article/{i}",
                "title": "An article",
                "publisher": "Example",
                "published": str(year),
            }
        ],
        "recommended_for_aggregates": r.random() > 0.1,
    }
    if r.random() < 0.3:
        record["dual_use"] = {"level": r.choice(["possible", "concern-raised", "documented"])}
    return record


def build(repository: Repository, i: int, stamp: str, seq: int) -> dict[str, Any]:
    """The stored document a create of record `i` makes (see `write_protocol.next_doc`)."""
    fields, derived = derive(repository.validate(project(i)))
    return {
        "_id": project_id(i),
        "version": 1,
        "created_at": stamp,
        "updated_at": stamp,
        "created_by": LOADER.name,
        "updated_by": LOADER.name,
        "owner": LOADER.name,
        **fields.model_dump(mode="json"),
        **derived,
        "_deleted": False,
        "_op": "create",
        "_restored_from": None,
        "_seq": seq,
    }


def revision_of(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "_id": f"projects/{doc['_id']}/1",
        "collection": "projects",
        "record_id": doc["_id"],
        "version": 1,
        "op": "create",
        "at": doc["updated_at"],
        "by": LOADER.name,
        "restored_from": None,
        "record": doc,
        "tombstone": None,
    }


def shape() -> str:
    """A digest of the document record 0 is stored as (fixed time and sequence)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(connect=False)
    db = client["shape"]
    repository = Repository(db, PROJECTS, Sequence(db["sequence"]), Signer("bench"))
    doc = build(repository, 0, "2026-01-01T00:00:00Z", 1)
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


async def store(repository: Repository, batch: list[dict[str, Any]], revisions: bool) -> None:
    await repository.col.insert_many(batch, ordered=False)
    if revisions:
        await repository.revisions.insert_many([revision_of(d) for d in batch], ordered=False)


async def ensure(uri: str, database: str, count: int, log: Any = print) -> float:
    """Make `database` hold exactly records 0..count-1; reuses a matching database. Seconds."""
    started = time.perf_counter()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    try:
        db = client[database]
        meta = await db["bench_meta"].find_one({"_id": "dataset"})
        want = {
            "_id": "dataset",
            "generator": GENERATOR_VERSION,
            "shape": shape(),
            "count": count,
        }
        if meta == want:
            return 0.0
        log(f"  {database}: building {count:,} records (once; cached in bench/.data)")
        await client.drop_database(database)
        sequence = Sequence(db["sequence"])
        await sequence.prepare()
        repository = Repository(db, PROJECTS, sequence, Signer("bench"))
        await repository.create_indexes()
        # Record 0 through the real write path, then check the builder makes the same document.
        await repository.put(project_id(0), repository.validate(project(0)), LOADER)
        stored = await repository.col.find_one({"_id": project_id(0)})
        assert stored is not None
        built = build(repository, 0, stored["created_at"], stored["_seq"])
        if built != stored:
            diff = sorted(k for k in set(built) | set(stored) if built.get(k) != stored.get(k))
            raise SystemExit(f"bench loader drifted from the write path: {diff}")
        block = await sequence.claim(max(count - 1, 1))
        stamp = now_iso()
        pending: asyncio.Task[None] | None = None
        for lo in range(1, count, 1000):
            # Build the next batch while the database stores the previous one.
            batch = [
                build(repository, i, stamp, block.lo + i - 1)
                for i in range(lo, min(lo + 1000, count))
            ]
            if pending is not None:
                await pending
            pending = asyncio.create_task(store(repository, batch, revisions=count <= 10_000))
            if lo % 10_000 == 1 and lo > 1:
                log(f"  {database}: {lo - 1:,} records")
        if pending is not None:
            await pending
        await sequence.release(block)
        await db["bench_meta"].insert_one(want)
        return time.perf_counter() - started
    finally:
        await client.close()


if __name__ == "__main__":
    import sys

    print(asyncio.run(ensure(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
