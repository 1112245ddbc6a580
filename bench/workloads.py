"""The workloads, declared once: what each system is asked, on which dataset.

A `Call` is what one system serves for a workload: a fixed request (method and path) or a
Lua script with arguments (random ids). `None` means the system has no
counterpart (Eve has no facets). A workload whose service route is not in the service's
OpenAPI document is reported as "n/a (endpoint missing)"; one whose twin route answers 404 is
"n/a (twin query missing)". So adding an endpoint to the service makes the harness measure it,
and adding its query to `bench/twin.py` makes the ratio appear.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Call:
    path: str
    method: str = "GET"
    script: str = "fixed"  # bench/lua/<script>.lua
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workload:
    name: str
    dataset: int
    #: The service route as OpenAPI spells it; the workload is n/a until the service has it.
    route: str
    service: Call
    twin: Call | None
    eve: Call | None = None
    #: "wrk": requests/s under wrk; "bulk": records/s of one 1,000-record write; "timed": one
    #: request at a time timed by the harness, for requests that take FerretDB over a minute
    #: (see run.py).
    kind: str = "wrk"
    #: Seconds of FerretDB time per request (full scans): run at few connections, long windows.
    slow: bool = False
    full_only: bool = False
    concurrency: tuple[int, ...] | None = None  # None: every level of the run
    note: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


LIST = "/v1/projects?status=ongoing&sort=-year&limit=25"
EVE_LIST = "/projects?where=%7B%22status%22%3A%22ongoing%22%7D&sort=-year&max_results=25"


def by_id(prefix: str, n: int) -> Call:
    return Call(prefix, script="by_id", args=(prefix, str(n)))


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "get_by_id",
        1_000,
        "/v1/projects/{record_id}",
        service=by_id("/v1/projects/proj-", 1_000),
        twin=by_id("/raw/projects/proj-", 1_000),
        eve=by_id("/projects/proj-", 1_000),
        note="random ids of 1,000 records",
    ),
    Workload(
        "get_by_id_100k",
        100_000,
        "/v1/projects/{record_id}",
        service=by_id("/v1/projects/proj-", 1_000),
        twin=by_id("/raw/projects/proj-", 1_000),
        eve=by_id("/projects/proj-", 1_000),
        concurrency=(8,),
        note="the same 1,000 ids as get_by_id, in a collection 100 times larger: FerretDB's "
        "SQLite backend finds an _id by reading rows until the match (its expression index "
        "is not used), so uniformly random ids over 100,000 would cost it seconds each and "
        "measure only that; with the same ids its work per request is the same as at 1,000, "
        "and the service's CPU per request shows whether anything of ours grows with size",
    ),
    Workload(
        "list",
        1_000,
        "/v1/projects",
        service=Call(LIST),
        twin=Call("/raw/projects?" + LIST.partition("?")[2]),
        eve=Call(EVE_LIST),
        slow=True,
        note="filtered and sorted: ongoing projects, newest year first, a page of 25 with its "
        "total (Eve: the same `where`, sort and page, with its default total count)",
    ),
    Workload(
        "list_10k",
        10_000,
        "/v1/projects",
        service=Call(LIST),
        twin=Call("/raw/projects?" + LIST.partition("?")[2]),
        eve=Call(EVE_LIST),
        kind="timed",
        full_only=True,
        note="the list page on 10,000 records: over a minute of FerretDB time each (two full "
        "reads, the page and its total), so one request at a time, timed by the harness",
    ),
    # Search, facets and statistics; then the changes feed.
    Workload(
        "search",
        1_000,
        "/v1/projects",  # q is a list filter; the twin route decides availability
        service=Call("/v1/projects?q=digital%20cable&limit=25"),
        twin=Call("/raw/projects/search?q=digital%20cable&limit=25"),
        slow=True,
        tags=("needs_q",),
    ),
    Workload(
        "facets",
        1_000,
        "/v1/projects/facets",
        service=Call("/v1/projects/facets?by=country,sector"),
        twin=Call("/raw/projects/facets?by=country,sector"),
        slow=True,
    ),
    Workload(
        "stats",
        1_000,
        "/v1/projects/stats",
        service=Call("/v1/projects/stats?group_by=year,sector&metrics=count,usd"),
        twin=Call("/raw/projects/stats?group_by=year,sector&metrics=count,usd"),
        slow=True,
    ),
    Workload(
        "changes",
        1_000,
        "/v1/changes",
        service=Call("/v1/changes?limit=100"),
        twin=Call("/raw/changes?limit=100"),
        slow=True,
    ),
    Workload(
        "livez",
        1_000,
        "/livez",
        service=Call("/livez"),
        twin=Call("/bare/livez"),
        note="framework floor: no database",
    ),
    Workload(
        "bulk",
        1_000,
        "/v1/projects/bulk",
        service=Call("/v1/projects/bulk", method="POST"),  # sent by run.py, with a key
        twin=None,  # the driver directly: insert_many of 1,000 records, see run.py
        kind="bulk",
        note="records/s: one POST /v1/projects/bulk of 1,000 new records (each with its "
        "revision, the version claim) against one insert_many of 1,000 records",
    ),
)

#: The ratios latest.json publishes: (workload, numerator, denominator[, "cpu"]), taken at 32
#: connections (or the highest level a workload runs at).
RATIOS = {
    "get_by_id_vs_raw": ("get_by_id", "service", "twin"),
    "list_vs_raw": ("list", "service", "twin"),
    "search_vs_raw": ("search", "service", "twin"),
    "facets_vs_raw": ("facets", "service", "twin"),
    "stats_vs_raw": ("stats", "service", "twin"),
    "changes_vs_raw": ("changes", "service", "twin"),
    "bulk_vs_raw": ("bulk", "service", "twin"),
    "livez_vs_bare": ("livez", "service", "twin"),
    "get_by_id_vs_eve": ("get_by_id", "service", "eve"),
    "list_vs_eve": ("list", "service", "eve"),
    # CPU efficiency: the other's server CPU per request ÷ the service's (1.0 = as cheap).
    # Where the database is the bottleneck, throughput ratios sit near 1 whatever the
    # framework costs; these say what each request costs the server process.
    "get_by_id_cpu_vs_raw": ("get_by_id", "service", "twin", "cpu"),
    "list_cpu_vs_raw": ("list", "service", "twin", "cpu"),
    "search_cpu_vs_raw": ("search", "service", "twin", "cpu"),
    "livez_cpu_vs_bare": ("livez", "service", "twin", "cpu"),
    "get_by_id_cpu_vs_eve": ("get_by_id", "service", "eve", "cpu"),
    "list_cpu_vs_eve": ("list", "service", "eve", "cpu"),
}
