"""What a write costs the database: commands per single write, and bulk records per second.

`python -m bench.write_cost` (with `MONGODB_URI` set, or a throwaway FerretDB) runs the app
in-process and counts every command its client sends with a PyMongo `CommandListener`
registered before the client exists, so nothing else is counted. Each operation runs
`--runs` times on its own records; the median is printed. Bulk timing sends 1,000-record
batches through `POST /v1/projects/bulk`: first into an empty collection (all created), then
the same ids with a changed summary (all updated).

It uses only the HTTP API and the settings, so the same file measures older versions of the
service too (`PYTHONPATH=<their tree> python bench/write_cost.py`).
"""

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections import Counter
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from pymongo import AsyncMongoClient, monitoring

from bench.dataset import project
from service.main import create_app
from service.settings import Settings

SECRET = "write-cost-admin"
ADMIN = {"Authorization": f"Bearer {SECRET}"}


class Commands(monitoring.CommandListener):
    """Counts commands by name while `counting` is on."""

    def __init__(self) -> None:
        self.counting = False
        self.seen: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.counting:
            self.seen[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def measure(self) -> "Counting":
        return Counting(self)


class Counting:
    def __init__(self, commands: Commands) -> None:
        self.commands = commands
        self.seen: Counter[str] = Counter()

    def __enter__(self) -> "Counting":
        self.commands.seen = Counter()
        self.commands.counting = True
        return self

    def __exit__(self, *_: object) -> None:
        self.commands.counting = False
        self.seen = self.commands.seen


def _body(i: int, summary: str | None = None) -> dict[str, Any]:
    body = project(i)
    if summary is not None:
        body["summary"] = summary
    return body


async def single_writes(
    client: httpx.AsyncClient, commands: Commands, runs: int
) -> dict[str, tuple[float, Counter[str]]]:
    """Median commands per create, update (PUT), PATCH and DELETE, with one example's mix."""
    out: dict[str, tuple[float, Counter[str]]] = {}
    counts: dict[str, list[int]] = {op: [] for op in ("create", "update", "patch", "delete")}
    mixes: dict[str, Counter[str]] = {}
    tag = uuid.uuid4().hex[:6]
    for n in range(runs):
        rid = f"write-cost-{tag}-{n:03d}"
        steps = [
            ("create", "PUT", _body(n)),
            ("update", "PUT", _body(n, f"Changed {n}")),
            ("patch", "PATCH", {"summary": f"Patched {n}"}),
            ("delete", "DELETE", None),
        ]
        for op, method, body in steps:
            with commands.measure() as seen:
                r = await client.request(method, f"/v1/projects/{rid}", json=body, headers=ADMIN)
            assert r.status_code in (200, 201, 204), r.text
            counts[op].append(sum(seen.seen.values()))
            mixes[op] = seen.seen
    for op, values in counts.items():
        out[op] = (statistics.median(values), mixes[op])
    return out


async def bulk_rates(client: httpx.AsyncClient, runs: int, size: int) -> dict[str, float]:
    """Median records/s of `size`-record bulk requests that create, then update, each item."""
    created: list[float] = []
    updated: list[float] = []
    for n in range(runs):
        tag = uuid.uuid4().hex[:6]
        records = [{"id": f"bulk-{tag}-{i:04d}", **_body(n * size + i)} for i in range(size)]
        for rates, change in ((created, None), (updated, f"Bulk change {tag}")):
            if change is not None:
                records = [{**r, "summary": change} for r in records]
            started = time.perf_counter()
            r = await client.post("/v1/projects/bulk", json={"records": records}, headers=ADMIN)
            elapsed = time.perf_counter() - started
            assert r.status_code == 200, r.text
            summary = r.json()["summary"]
            assert summary["error"] == 0, summary
            rates.append(size / elapsed)
    return {"created": statistics.median(created), "updated": statistics.median(updated)}


async def main(runs: int, bulk_runs: int, size: int) -> None:
    uri = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")
    commands = Commands()
    monitoring.register(commands)
    settings = Settings(
        mongodb_uri=uri,
        database=f"bench_writes_{uuid.uuid4().hex[:8]}",
        bootstrap_admin_key=SECRET,
        rate_limit_enabled=False,
        db_timeout_ms=60_000,
        log_level="WARNING",
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=600
        ) as client:
            # One write first: the key lookup and index creation are not part of the cost.
            await client.put("/v1/projects/write-cost-warm-up", json=_body(0), headers=ADMIN)
            for op, (median, mix) in (await single_writes(client, commands, runs)).items():
                names = ", ".join(f"{name} {n}" for name, n in sorted(mix.items()))
                print(f"{op:>7}: {median:g} commands per write ({names})")
            rates = await bulk_rates(client, bulk_runs, size)
            print(f"bulk of {size}: created {rates['created']:.0f} records/s, ", end="")
            print(f"updated {rates['updated']:.0f} records/s")
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        await mongo.drop_database(settings.database)
    finally:
        await mongo.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.write_cost")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--bulk-runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.bulk_runs, args.size))
