"""`make bench`: the service, its raw twin and Eve side by side on one machine, in one run.

Method (BENCHMARKS.md says the same for readers):

* One FerretDB holds the datasets (`bench/dataset.py`, deterministic, cached in bench/.data
  between runs). For each dataset the three servers start on it: the service (uvicorn, 1
  process), the raw twin (`bench/twin.py`, same uvicorn, same flags) and Eve (gunicorn, 1
  process). Only one of them is under load at a time; idle ones use no CPU.
* Pinning (when the machine has 2+ cores): servers on core 1 (`taskset -c 1`), the load
  generator wrk and FerretDB on core 0. Every server gets the same single core, and the
  database and load generator never steal it.
* Per workload and concurrency: a warm-up of each system, then repetitions interleaved
  service, twin, Eve, service, twin, Eve... so drift on a shared machine hits all alike.
  Medians and min-max over the repetitions.
* CPU per request: user+system CPU of the server's process tree (psutil, from /proc) before
  and after each run, divided by the requests completed.
* Bulk: records/s of one `POST /v1/projects/bulk` of 1,000 new records, against one
  `insert_many` of 1,000 records made by the driver directly (`BENCH_UPSERTS=1` adds a
  `bulk_write` of 1,000 `ReplaceOne` upserts).
* Slow workloads (a second or more of FerretDB time per request) run at one connection, where
  requests/s is 1 / mean latency, and are preceded by one request per system as the warm-up;
  the harness waits for the database to go idle before each workload.

`BENCH_QUICK=1`: fewer concurrency levels, shorter runs and the slow workloads on 200
records; the same table.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import psutil
from pymongo import AsyncMongoClient, ReplaceOne

from bench import dataset
from bench.workloads import RATIOS, WORKLOADS, Call, Workload
from embedded import EmbeddedDatabase

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
DB_PORT = int(os.environ.get("BENCH_DB_PORT", "27390"))
PORTS = {"service": 18301, "twin": 18302, "eve": 18303}
#: The bulk workload's own service, beside the dataset's servers (which keep running).
BULK_PORT = 18304
SYSTEMS = ("service", "twin", "eve")
ADMIN_SECRET = "bench-admin-secret"
CURSOR_SECRET = "bench-cursor-secret"
WORKERS = 1

CONCURRENCY = (8,) if QUICK else (1, 8, 32, 64)
DURATION_S = 2 if QUICK else 10
WARMUP_S = 1 if QUICK else 3
REPS = 3
# Workloads marked `slow` cost FerretDB a second or more per request (it reads and decodes the
# whole collection): they run at 1 connection (more would only queue on the database's one
# core), long enough for several requests, after one request per system as the warm-up.
SLOW_DURATION_S = 2 if QUICK else 20
SLOW_CONCURRENCY = (1,)
# Quick mode runs the slow workloads on 200 records: at 1,000 a filtered list page costs
# FerretDB ~4 s on its core, and three interleaved repetitions of every slow workload would
# not fit in five minutes. The full run uses the declared datasets.
QUICK_SLOW_DATASET = 200


def dataset_of(w: Workload) -> int:
    return QUICK_SLOW_DATASET if QUICK and w.slow else w.dataset


PINNED = (os.cpu_count() or 1) >= 2
SERVER_CORES = "1" if PINNED else None
CLIENT_CORES = "0" if PINNED else None

started_at = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - started_at:6.0f}s] {message}", flush=True)


def db_name(size: int) -> str:
    return f"bench_{size // 1000}k" if size % 1000 == 0 else f"bench_{size}"


def pinned(cmd: list[str], cores: str | None) -> list[str]:
    return ["taskset", "-c", cores, *cmd] if cores else cmd


# --- processes -----------------------------------------------------------------------------


class Server:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str], port: int, health: str):
        self.name, self.port, self.health = name, port, health
        with socket.socket() as probe:  # else the readiness check would find another server
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise SystemExit(f"port {port} is taken; {name} cannot start there")
        log = open(RESULTS / f"{name}.log.tmp", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self.ps = psutil.Process(self.proc.pid)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited; see bench/results/{self.name}.log.tmp")
            try:
                with urllib.request.urlopen(self.url(self.health), timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not become ready")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in [self.ps, *self.ps.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start_servers(
    database: str,
    workers: int = WORKERS,
    cores: str | None = SERVER_CORES,
    only: tuple[str, ...] = SYSTEMS,
    service_port: int = PORTS["service"],
) -> dict[str, Server]:
    uri = f"mongodb://127.0.0.1:{DB_PORT}/"
    env = {
        "MONGODB_URI": uri,
        "DATABASE": database,
        "CURSOR_SECRET": CURSOR_SECRET,
        "BOOTSTRAP_ADMIN_KEY": ADMIN_SECRET,
        "LOG_LEVEL": "WARNING",
        # The load generator is one client: the per-principal rate limit would cap it.
        "RATE_LIMIT_ENABLED": "false",
        # FerretDB's SQLite backend needs seconds to sort a list page (see BENCHMARKS.md);
        # the default 3 s socket timeout would turn those into 503s.
        "DB_TIMEOUT_MS": "30000",
        "PYTHONPATH": str(ROOT),
    }
    uvicorn = [
        str(ROOT / ".venv/bin/uvicorn"),
        "--factory",
        "--host",
        "127.0.0.1",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    servers: dict[str, Server] = {}
    if "service" in only:
        servers["service"] = Server(
            "service",
            pinned([*uvicorn, "--port", str(service_port), "service.main:create_app"], cores),
            env,
            service_port,
            "/readyz",
        )
    if "twin" in only:
        servers["twin"] = Server(
            "twin",
            pinned([*uvicorn, "--port", str(PORTS["twin"]), "bench.twin:create_app"], cores),
            env,
            PORTS["twin"],
            "/bare/livez",
        )
    if "eve" in only:
        gunicorn = [
            str(BENCH / ".venv-eve/bin/gunicorn"),
            "--chdir",
            str(BENCH),
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
            "--bind",
            f"127.0.0.1:{PORTS['eve']}",
            "eve_app:app",
        ]
        servers["eve"] = Server(
            "eve", pinned(gunicorn, cores), {"MONGO_URI": uri + database}, PORTS["eve"], "/"
        )
    for s in servers.values():
        s.wait_ready()
    return servers


def answers(uri: str) -> bool:
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=300)
    try:
        client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        client.close()


class Database:
    def __init__(self, uri: str, pid: int | None) -> None:
        self.uri = uri
        self.ps = psutil.Process(pid) if pid else None

    def settle(self, timeout_s: float = 300) -> None:
        """Wait until the database is idle (under 5% of a core over half a second): a slow
        request still running from the last run must not eat into the next one."""
        if self.ps is None:
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            before = sum(self.ps.cpu_times()[:2])
            time.sleep(0.5)
            if sum(self.ps.cpu_times()[:2]) - before < 0.025:
                return


@contextmanager
def ferretdb() -> Iterator[Database]:
    """The bench database: the embedded database on bench/.data (or one already listening on
    the port), both its servers pinned to the load generator's core."""
    uri = f"mongodb://127.0.0.1:{DB_PORT}/"
    if answers(uri):
        say(f"using the database already listening on port {DB_PORT}")
        yield Database(uri, None)
        return
    db = EmbeddedDatabase(BENCH / ".data", port=DB_PORT, pg_port=DB_PORT + 1)
    db.start()
    try:
        if CLIENT_CORES:  # backends forked from here on inherit the postmaster's core
            cores = {int(c) for c in CLIENT_CORES.split(",")}
            for proc in (db.postgres, db.ferretdb):
                assert proc is not None
                os.sched_setaffinity(proc.pid, cores)
        assert db.ferretdb is not None
        yield Database(uri, db.ferretdb.pid)
    finally:
        db.stop()


# --- wrk -----------------------------------------------------------------------------------


def wrk(
    server: Server,
    call: Call,
    conns: int,
    seconds: float,
    extra: tuple[str, ...] = (),
    delay_ms: float | None = None,
    timeout_s: int = 10,
) -> dict[str, Any]:
    """One wrk run against `server`; answers its summary plus the server's CPU seconds."""
    script = RESULTS / f"{call.script}.lua.tmp"
    script.write_text(
        (BENCH / "lua" / f"{call.script}.lua").read_text()
        + (BENCH / "lua" / "report.lua").read_text()
    )
    fixed = call.script == "fixed"
    args = [call.method, call.path] if fixed else [*call.args, *extra]
    cmd = pinned(
        [
            "wrk",
            "-t1",
            f"-c{conns}",
            f"-d{seconds}s",
            f"--timeout={timeout_s}s",
            "-s",
            str(script),
            server.url("/"),
            "--",
            *args,
        ],
        CLIENT_CORES,
    )
    env = {**os.environ}
    if delay_ms is not None:
        env["WRK_DELAY_MS"] = f"{delay_ms:.3f}"
    cpu0 = server.cpu_seconds()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    cpu1 = server.cpu_seconds()
    line = next((x for x in out.stdout.splitlines() if x.startswith("JSON:")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {out.stdout}\n{out.stderr}")
    r = json.loads(line[5:])
    ok = max(r["requests"] - r["status"], 0)
    seconds_run = r["duration_us"] / 1e6
    rps = ok / seconds_run
    if conns == 1 and r["requests"] and r["mean"]:
        # One connection is a closed loop: its rate is 1 / mean latency. Counting only what
        # completed in the window would drop the request in flight at the end and quantise a
        # 3 s window of 1 s requests to thirds.
        rps = ok / (r["requests"] * r["mean"] / 1e6)
    errors = r["status"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    return {
        "rps": rps,
        "requests": r["requests"],
        "errors": errors,
        "p50_ms": r["p50"] / 1000,
        "p90_ms": r["p90"] / 1000,
        "p99_ms": r["p99"] / 1000,
        "cpu_ms_per_req": (cpu1 - cpu0) * 1000 / ok if ok else None,
        "cpu_s": cpu1 - cpu0,
        "ok": ok,
        "cpu_util": (cpu1 - cpu0) / seconds_run,
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def stat(key: str) -> dict[str, float] | None:
        values = [r[key] for r in runs if r.get(key) is not None]
        if not values:
            return None
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    keys = ("rps", "p50_ms", "p99_ms", "cpu_ms_per_req", "cpu_util")
    # CPU time comes in 10 ms ticks: over a few slow requests one run's figure is coarse, so
    # ratios use CPU pooled over all repetitions (the per-run figures give the min-max).
    ok = sum(r.get("ok", 0) for r in runs)
    pooled = (
        sum(r["cpu_s"] for r in runs) * 1000 / ok
        if ok and all("cpu_s" in r for r in runs)
        else None
    )
    return {
        **{k: stat(k) for k in keys},
        "cpu_ms_per_req_pooled": pooled,
        "errors": sum(r["errors"] for r in runs),
        "runs": runs,
    }


# --- workloads -----------------------------------------------------------------------------


def has_route(service: Server, route: str) -> bool:
    with urllib.request.urlopen(service.url("/openapi.json"), timeout=10) as r:
        spec = json.load(r)
    method_paths = spec.get("paths", {})
    return route in method_paths


def available(server: Server, call: Call) -> bool:
    if call.script != "fixed":
        return True
    try:
        with urllib.request.urlopen(server.url(call.path), timeout=60) as r:
            return bool(r.status == 200)
    except urllib.error.HTTPError:
        return False


def same_bytes(a: Server, pa: str, b: Server, pb: str) -> bool | None:
    """Whether both answer the same bytes; None when either does not answer in time."""
    try:
        with (
            urllib.request.urlopen(a.url(pa), timeout=60) as ra,
            urllib.request.urlopen(b.url(pb), timeout=60) as rb,
        ):
            return bool(ra.read() == rb.read())
    except (TimeoutError, urllib.error.URLError):
        return None


def run_timed_workload(w: Workload, servers: dict[str, Server]) -> dict[str, Any]:
    """One request at a time, timed here, interleaved over the systems: for pages that take
    FerretDB over a minute, where a wrk window would hold one request or none and the load
    generator's own cost (one request a minute) does not matter. The first request (the
    service's) warms the database's page cache for all."""
    calls = {"service": w.service, "twin": w.twin, "eve": w.eve}
    systems = [n for n in SYSTEMS if calls[n] is not None]

    def timed(server: Server, call: Call) -> dict[str, Any]:
        cpu0, t = server.cpu_seconds(), time.perf_counter()
        with urllib.request.urlopen(server.url(call.path), timeout=900) as r:
            r.read()
            ok = r.status == 200
        elapsed, cpu = time.perf_counter() - t, server.cpu_seconds() - cpu0
        return {
            "rps": 1 / elapsed if ok else 0.0,
            "requests": 1,
            "errors": 0 if ok else 1,
            "p50_ms": elapsed * 1000,
            "p99_ms": elapsed * 1000,
            "cpu_ms_per_req": cpu * 1000 if ok else None,
            "cpu_s": cpu,
            "ok": int(ok),
            "cpu_util": cpu / elapsed,
        }

    timed(servers["service"], w.service)
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in systems}
    for rep in range(REPS):
        for name in systems:
            runs[name].append(timed(servers[name], calls[name]))  # type: ignore[arg-type]
        say(
            f"  {w.name} rep {rep + 1}: "
            + ", ".join(f"{n} {runs[n][-1]['p50_ms'] / 1000:.1f} s" for n in systems)
        )
    return {
        "status": "ok",
        "dataset": dataset_of(w),
        "notes": {},
        "concurrency": {"1": {n: summarise(runs[n]) for n in systems}},
    }


def warm_up(server: Server, call: Call, conns: int, slow: bool) -> None:
    """Connections, caches, the database's page cache: one request for a slow workload,
    otherwise a short wrk run."""
    if slow and call.script == "fixed":
        with urllib.request.urlopen(server.url(call.path), timeout=300) as r:
            r.read()
    else:
        wrk(server, call, conns, WARMUP_S, timeout_s=60)


def run_wrk_workload(w: Workload, servers: dict[str, Server], db: Database) -> dict[str, Any]:
    calls = {"service": w.service, "twin": w.twin, "eve": w.eve}
    if "needs_q" in w.tags and not available(servers["service"], w.service):
        return {"status": "n/a (endpoint missing)"}
    if not has_route(servers["service"], w.route):
        return {"status": "n/a (endpoint missing)"}
    systems = []
    notes: dict[str, str] = {}
    for name in SYSTEMS:
        call = calls[name]
        if call is None:
            continue
        if name != "service" and not available(servers[name], call):
            notes[name] = "n/a (twin query missing)" if name == "twin" else "n/a"
            continue
        systems.append(name)
    seconds = SLOW_DURATION_S if w.slow else DURATION_S
    levels = w.concurrency or (SLOW_CONCURRENCY if w.slow else CONCURRENCY)
    out: dict[str, Any] = {
        "status": "ok",
        "dataset": dataset_of(w),
        "notes": notes,
        "concurrency": {},
    }
    if w.service.script == "fixed" and w.twin and "twin" in systems:
        out["same_bytes_as_twin"] = same_bytes(
            servers["service"], w.service.path, servers["twin"], w.twin.path
        )
    for conns in levels:
        db.settle()
        for name in systems:
            warm_up(servers[name], calls[name], conns, w.slow)  # type: ignore[arg-type]
        runs: dict[str, list[dict[str, Any]]] = {n: [] for n in systems}
        for rep in range(REPS):
            for name in systems:
                r = wrk(servers[name], calls[name], conns, seconds, timeout_s=60)  # type: ignore[arg-type]
                runs[name].append(r)
            say(
                f"  {w.name} c={conns} rep {rep + 1}: "
                + ", ".join(f"{n} {runs[n][-1]['rps']:.1f}/s" for n in systems)
            )
        out["concurrency"][str(conns)] = {n: summarise(runs[n]) for n in systems}
    return out


#: FerretDB runs each upsert as a scan of the collection (~3 records/s at 1,000 records), so
#: the bulk_write of upserts is opt-in; insert_many is the raw reference.
UPSERTS = os.environ.get("BENCH_UPSERTS", "") not in ("", "0")
SCALING_CONNECTIONS = 8 if QUICK else 32
BULK_DATABASE = "bench_bulk"


async def driver_bulk(
    uri: str, database: str, tag: str, size: int = 1000
) -> dict[str, float | None]:
    """Records/s of one `insert_many` of `size` records (and of upserts, opt-in), directly."""
    from service.projects.resource import PROJECTS
    from service.records.repository import Repository
    from service.records.sequence import Sequence
    from service.records.tokens import Signer

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    try:
        db = client[database]
        repo = Repository(db, PROJECTS, Sequence(db["sequence"]), Signer("bench"))
        stamp = dataset.now_iso()
        docs = [dataset.build(repo, 424242, stamp, 0) for _ in range(size)]
        for i, d in enumerate(docs):
            d["_id"] = f"bulk-raw-{tag}-{i:05d}"
        upsert = None
        if UPSERTS:
            t = time.perf_counter()
            await repo.col.bulk_write(
                [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs], ordered=False
            )
            upsert = size / (time.perf_counter() - t)
        for d in docs:
            d["_id"] = d["_id"].replace("bulk-raw", "bulk-ins")
        t = time.perf_counter()
        await repo.col.insert_many(docs, ordered=False)
        inserted = size / (time.perf_counter() - t)
        return {"bulk_write_upsert": upsert, "insert_many": inserted}
    finally:
        await client.close()


async def empty(uri: str, database: str, drop: bool = False) -> None:
    """Empty the bulk database's records and revisions (keeping their indexes), or drop it."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        if drop:
            await client.drop_database(database)
            return
        for name in ("projects", "revisions"):
            await client[database][name].delete_many({})
    finally:
        await client.close()


def run_bulk(w: Workload, uri: str, run_id: str) -> dict[str, Any]:
    """Records/s of one `POST /v1/projects/bulk` of 1,000 new records, interleaved with one
    `insert_many` of 1,000 records by the driver directly. Both write into an empty
    collection of a database of their own (emptied before each repetition, dropped after),
    so the repetitions are alike and the datasets stay as built."""
    asyncio.run(empty(uri, BULK_DATABASE, drop=True))
    service = start_servers(BULK_DATABASE, only=("service",), service_port=BULK_PORT)["service"]
    tag = run_id.lower()  # ids are lower-case slugs
    try:
        return _bulk_reps(w, service, uri, tag)
    finally:
        service.stop()
        asyncio.run(empty(uri, BULK_DATABASE, drop=True))


def _bulk_reps(w: Workload, service: Server, uri: str, tag: str) -> dict[str, Any]:
    service_runs, raw_runs = [], []
    for rep in range(REPS):
        asyncio.run(empty(uri, BULK_DATABASE))
        records = [
            dataset.project(424242) | {"id": f"bulk-svc-{tag}-{rep}-{i:05d}"} for i in range(1000)
        ]
        req = urllib.request.Request(
            service.url(w.service.path),
            data=orjson.dumps({"records": records}),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN_SECRET}"},
        )
        cpu0, t = service.cpu_seconds(), time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as r:
            answer = orjson.loads(r.read())
        failed = [x for x in answer["results"] if x["status"] == "error"]
        if failed:
            raise RuntimeError(f"{len(failed)} bulk items failed, the first: {failed[0]}")
        elapsed, cpu = time.perf_counter() - t, service.cpu_seconds() - cpu0
        service_runs.append(
            {
                "rps": 1000 / elapsed,
                "errors": 0,
                "p50_ms": None,
                "p99_ms": None,
                "cpu_ms_per_req": cpu,  # CPU seconds per 1,000 records: ms per record
                "cpu_util": cpu / elapsed,
            }
        )
        raw = asyncio.run(driver_bulk(uri, BULK_DATABASE, f"{tag}-{rep}"))
        raw_runs.append(
            {"rps": raw["insert_many"], "upsert": raw["bulk_write_upsert"], "errors": 0}
        )
        say(
            f"  bulk rep {rep + 1}: service {service_runs[-1]['rps']:.0f} records/s, "
            f"insert_many {raw['insert_many']:.0f}/s"
        )
    return {
        "status": "ok",
        "dataset": 0,
        "unit": "records/s",
        "service_path": "POST /v1/projects/bulk (1,000 new records, one request)",
        "raw_path": "insert_many of 1,000 records",
        "concurrency": {"1": {"service": summarise(service_runs), "twin": summarise(raw_runs)}},
        "bulk_write_upsert": summarise(
            [{"rps": r["upsert"], "errors": 0} for r in raw_runs if r["upsert"]]
        )
        if UPSERTS
        else None,
    }


def paced_tail(service: Server, call: Call, max_rps: float) -> dict[str, Any]:
    """p99/p50 at about 75% of the maximum rate: 8 connections, each pacing its requests."""
    target = 0.75 * max_rps
    conns = 8
    probe = wrk(service, call, 1, 2)
    interval = max(conns / target * 1000 - probe["p50_ms"], 0.0)
    seconds = 3 if QUICK else max(DURATION_S, 5)
    runs = [wrk(service, call, conns, seconds, delay_ms=interval) for _ in range(REPS)]
    s = summarise(runs)
    p50, p99 = s["p50_ms"]["median"], s["p99_ms"]["median"]
    return {
        "target_rps": target,
        "achieved_rps": s["rps"]["median"],
        "p50_ms": p50,
        "p99_ms": p99,
        "p99_over_p50": p99 / p50 if p50 else None,
        "connections": conns,
    }


def scaling(database: str, calls: dict[str, Call]) -> dict[str, Any]:
    """Throughput of 1 and 2 service processes on both cores (nothing pinned), for each call:
    `/livez` (no database: the service is the limit) and GET by id (FerretDB is)."""
    out: dict[str, Any] = {"connections": SCALING_CONNECTIONS}
    global CLIENT_CORES
    pinned_cores, CLIENT_CORES = CLIENT_CORES, None
    try:
        for workers in (1, 2):
            servers = start_servers(database, workers=workers, cores=None, only=("service",))
            try:
                s = servers["service"]
                for name, call in calls.items():
                    wrk(s, call, SCALING_CONNECTIONS, WARMUP_S)
                    runs = [wrk(s, call, SCALING_CONNECTIONS, DURATION_S) for _ in range(REPS)]
                    out.setdefault(name, {})[str(workers)] = summarise(runs)
                    rps = out[name][str(workers)]["rps"]["median"]
                    say(f"  scaling {name}: {workers} process(es): {rps:.1f}/s")
            finally:
                for srv in servers.values():
                    srv.stop()
    finally:
        CLIENT_CORES = pinned_cores
    return out


def probe_database(uri: str, sizes: list[int]) -> dict[str, Any]:
    """What FerretDB costs per query shape, through the driver with nothing else running:
    an `_id` lookup by the record's position in the table, and one read of the collection."""
    from pymongo import MongoClient

    def ms(runs: int, call: Any, *args: Any) -> float:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            call(*args)
            times.append((time.perf_counter() - t) * 1000)
        return round(statistics.median(times), 1)

    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    out: dict[str, Any] = {}
    try:
        for size in sizes:
            if size not in (1_000, 100_000):
                continue
            col = client[db_name(size)]["projects"]
            runs = 3 if size == 1_000 else 1
            lookups = {
                f"{i:,}": ms(runs, col.find_one, {"_id": dataset.project_id(i)})
                for i in (0, size // 2, size - 1)
            }
            out[str(size)] = {"find_one_by_position_ms": lookups, "runs": runs}
            if size == 1_000:
                full = ms(runs, col.count_documents, {"_deleted": False})
                out[str(size)]["count_documents_ms"] = full
    finally:
        client.close()
    return out


# --- the run -------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return "?"

    import fastapi
    import pydantic
    import pymongo
    import starlette
    import uvicorn

    eve_py = str(BENCH / ".venv-eve/bin/python")
    return {
        "python": platform.python_version(),
        "fastapi": fastapi.__version__,
        "pydantic": pydantic.VERSION,
        "starlette": starlette.__version__,
        "uvicorn": uvicorn.__version__,
        "pymongo": pymongo.version,
        "eve": out([eve_py, "-c", "import eve; print(eve.__version__)"]),
        "eve_pymongo": out([eve_py, "-c", "import pymongo; print(pymongo.version)"]),
        "flask": out([eve_py, "-c", "import importlib.metadata as m; print(m.version('flask'))"]),
        "gunicorn": out([eve_py, "-c", "import gunicorn; print(gunicorn.__version__)"]),
        "wrk": out(["wrk", "-v"]).splitlines()[0] if shutil.which("wrk") else "?",
        "ferretdb": "1.24.2 (SQLite backend)",
    }


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30),
        "kernel": platform.release(),
        "load_before": os.getloadavg(),
    }


def ratio(
    results: dict[str, Any], workload: str, num: str, den: str, metric: str = "rps"
) -> dict[str, Any]:
    w = results["workloads"].get(workload, {})
    if w.get("status") != "ok":
        return {"value": None, "status": w.get("status", "n/a")}
    levels = w["concurrency"]
    conns = "32" if "32" in levels else max(levels, key=int)
    row = levels[conns]
    if num not in row or den not in row:
        note = w.get("notes", {}).get(den, "n/a")
        return {"value": None, "status": note}
    if metric == "cpu":  # cheaper is better: the other's cost over ours
        num, den = den, num
        a, b = row[num]["cpu_ms_per_req"], row[den]["cpu_ms_per_req"]
        pa, pb = row[num].get("cpu_ms_per_req_pooled"), row[den].get("cpu_ms_per_req_pooled")
        if not a or not b or not pa or not pb:
            return {"value": None, "status": "n/a (no CPU figure)"}
        return {
            "value": pa / pb,
            "concurrency": int(conns),
            "min": a["min"] / b["max"],
            "max": a["max"] / b["min"],
            "status": "ok",
        }
    else:
        a, b = row[num]["rps"], row[den]["rps"]
    if not b["median"] or not a["median"]:
        return {"value": None, "status": "n/a (no completed requests)"}
    value = a["median"] / b["median"]
    return {
        "value": value,
        "concurrency": int(conns),
        "min": a["min"] / b["max"] if b["max"] else None,
        "max": a["max"] / b["min"] if b["min"] else None,
        "status": "ok",
    }


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    for tmp in RESULTS.glob("*.log.tmp"):
        tmp.unlink()
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    say(
        f"bench {'quick' if QUICK else 'full'} run {run_id}; pinning: "
        + ("servers on core 1, wrk and FerretDB on core 0" if PINNED else "none (1 core)")
    )
    results: dict[str, Any] = {
        "run": run_id,
        "quick": QUICK,
        "machine": machine(),
        "versions": versions(),
        "method": {
            "concurrency": list(CONCURRENCY),
            "duration_s": DURATION_S,
            "slow_duration_s": SLOW_DURATION_S,
            "slow_concurrency": list(SLOW_CONCURRENCY),
            "quick_slow_dataset": QUICK_SLOW_DATASET if QUICK else None,
            "warmup_s": WARMUP_S,
            "reps": REPS,
            "workers": WORKERS,
            "pinning": "servers: core 1; wrk + FerretDB: core 0" if PINNED else "none",
            "eve_server": "gunicorn gthread, 1 worker, 8 threads, keep-alive",
        },
        "datasets": {},
        "workloads": {},
    }
    only = {x for x in os.environ.get("BENCH_ONLY", "").split(",") if x}
    workloads = [
        w for w in WORKLOADS if not (QUICK and w.full_only) and (not only or w.name in only)
    ]
    sizes = sorted({dataset_of(w) for w in workloads})
    with ferretdb() as db:
        uri = db.uri
        for size in sizes:
            name = db_name(size)
            say(f"dataset {size:,} records ({name})")
            load_s = asyncio.run(dataset.ensure(uri, name, size, log=say))
            results["datasets"][str(size)] = {
                "database": name,
                "load_s": round(load_s, 1),
                "generator": dataset.GENERATOR_VERSION,
            }
        if not QUICK:  # about 40 s of FerretDB time, which quick mode cannot spare
            say("database probe: _id lookups by table position, one full read")
            db.settle()
            results["database_probe"] = probe_database(uri, sizes)
        for size in sizes:
            name = db_name(size)
            servers = start_servers(name)
            try:
                for w in [w for w in workloads if dataset_of(w) == size]:
                    say(f"workload {w.name} on {size:,} records")
                    db.settle()
                    if w.kind == "bulk":
                        if not has_route(servers["service"], w.route):
                            results["workloads"][w.name] = {"status": "n/a (endpoint missing)"}
                            continue
                        results["workloads"][w.name] = run_bulk(w, uri, run_id)
                    elif w.kind == "timed":
                        results["workloads"][w.name] = run_timed_workload(w, servers)
                    else:
                        results["workloads"][w.name] = run_wrk_workload(w, servers, db)
                if size == WORKLOADS[0].dataset:  # tail latency of get_by_id, on its data
                    gid = results["workloads"].get("get_by_id", {})
                    if gid.get("status") == "ok":
                        top = max(
                            v["service"]["rps"]["median"] for v in gid["concurrency"].values()
                        )
                        say("tail latency at 75% of the maximum rate (get_by_id)")
                        db.settle()
                        results["tail_at_75pct"] = paced_tail(
                            servers["service"], WORKLOADS[0].service, top
                        )
            finally:
                for s in servers.values():
                    s.stop()
        if not only or "scaling" in only:
            say("scaling: 1 vs 2 service processes (get_by_id, unpinned)")
            db.settle()
            calls = {w.name: w.service for w in WORKLOADS if w.name in ("livez", "get_by_id")}
            results["scaling"] = scaling(db_name(WORKLOADS[0].dataset), calls)
    results["ratios"] = {k: ratio(results, *v) for k, v in RATIOS.items()}
    results["cpu_per_request"] = cpu_flatness(results)
    results["elapsed_s"] = round(time.monotonic() - started_at)
    # Building a missing dataset is setup, done once per machine (bench/.data), not the run.
    results["measuring_s"] = results["elapsed_s"] - round(
        sum(d["load_s"] for d in results["datasets"].values())
    )
    blob = json.dumps(results, indent=2, sort_keys=False) + "\n"
    from bench import report

    if only:  # a partial run is kept beside the full record, never in place of it
        name = f"{run_id}-only-{'-'.join(sorted(only))}.json"
        (RESULTS / name).write_text(blob)
        say(f"wrote bench/results/{name} (BENCH_ONLY: latest.json is left as it was)")
        print(report.throughput_table(results))
        return
    (RESULTS / "latest.json").write_text(blob)
    (RESULTS / f"{run_id}{'-quick' if QUICK else ''}.json").write_text(blob)
    say(f"wrote bench/results/latest.json and {run_id}.json")
    report.write(results)
    print(report.table(results))


def cpu_flatness(results: dict[str, Any]) -> dict[str, Any]:
    """The service's CPU per GET by id at 1,000 and at 100,000 records, at the same level."""

    def cpu(name: str, conns: str) -> float | None:
        w = results["workloads"].get(name, {})
        if w.get("status") != "ok" or conns not in w["concurrency"]:
            return None
        c = w["concurrency"][conns]["service"]["cpu_ms_per_req"]
        return c["median"] if c else None

    large = results["workloads"].get("get_by_id_100k", {}).get("concurrency", {})
    conns = max(large, key=int) if large else "8"
    small_ms, large_ms = cpu("get_by_id", conns), cpu("get_by_id_100k", conns)
    return {
        "connections": int(conns),
        "get_by_id_1k_ms": small_ms,
        "get_by_id_100k_ms": large_ms,
        "ratio_100k_over_1k": large_ms / small_ms if small_ms and large_ms else None,
    }


if __name__ == "__main__":
    tempfile.tempdir = str(RESULTS)
    # Ctrl-C or SIGTERM unwinds through the `finally`s that stop the servers and the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
    sys.exit(0)
