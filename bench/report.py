"""BENCHMARKS.md, the ratio chart, the README's performance lines and the terminal table,
all made from latest.json.

Run alone to regenerate them from the committed results: `python -m bench.report`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

TARGETS = {
    "get_by_id_vs_raw": 0.8,
    "list_vs_raw": 0.9,
    "search_vs_raw": 0.9,
    "bulk_vs_raw": 0.9,
    "get_by_id_vs_eve": 2.0,
    "list_vs_eve": 2.0,
    # The same targets in server CPU per request: what the throughput ratios would be where
    # the server, not the database, is the bottleneck.
    "get_by_id_cpu_vs_raw": 0.8,
    "list_cpu_vs_raw": 0.9,
    "search_cpu_vs_raw": 0.9,
    "get_by_id_cpu_vs_eve": 2.0,
    "list_cpu_vs_eve": 2.0,
}


def fmt(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def table(results: dict[str, Any]) -> str:
    lines = [
        "| ratio | median | min-max | at connections | target | holds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results["ratios"].items():
        target = TARGETS.get(name)
        if r["value"] is None:
            lines.append(f"| {name} | {r['status']} | | | {fmt(target, 1) if target else ''} | |")
            continue
        holds = "" if target is None else ("yes" if r["value"] >= target else "**no**")
        lines.append(
            f"| {name} | {fmt(r['value'])} | {fmt(r['min'])}-{fmt(r['max'])} | "
            f"{r['concurrency']} | {'≥ ' + fmt(target, 1) if target else ''} | {holds} |"
        )
    return "\n".join(lines)


def records(workload: dict[str, Any]) -> str:
    return f"{workload['dataset']:,}" if workload["dataset"] else "empty"


def throughput_table(results: dict[str, Any]) -> str:
    lines = [
        "| workload | records | conns | system | req/s median (min-max) | p50 ms | p99 ms "
        "| server CPU ms/req | errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, w in results["workloads"].items():
        if w.get("status") != "ok":
            lines.append(f"| {name} | | | | {w.get('status')} | | | | |")
            continue
        for conns, row in w["concurrency"].items():
            for system, s in row.items():
                rps = s["rps"]
                cpu = s.get("cpu_ms_per_req")
                p50, p99 = s.get("p50_ms"), s.get("p99_ms")
                if not rps["max"]:
                    lines.append(
                        f"| {name} | {records(w)} | {conns} | {system} | no request completed "
                        f"within a run | | | | {s['errors']} |"
                    )
                    continue
                lines.append(
                    f"| {name} | {records(w)} | {conns} | {system} | {rps['median']:.1f} "
                    f"({rps['min']:.1f}-{rps['max']:.1f}) | {fmt(p50 and p50['median'], 1)} | "
                    f"{fmt(p99 and p99['median'], 1)} | {fmt(cpu and cpu['median'], 2)} | "
                    f"{s['errors']} |"
                )
            for system, note in w.get("notes", {}).items():
                lines.append(f"| {name} | {records(w)} | {conns} | {system} | {note} | | | | |")
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, r in results["ratios"].items() if r["value"] is not None]
    values = [results["ratios"][n]["value"] for n in names]
    lows = [values[i] - results["ratios"][n]["min"] for i, n in enumerate(names)]
    highs = [results["ratios"][n]["max"] - values[i] for i, n in enumerate(names)]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(names) + 1.6))
    colors = [
        "#2a7" if v >= TARGETS.get(n, 0) else "#c44" for n, v in zip(names, values, strict=True)
    ]
    ax.barh(names, values, xerr=[lows, highs], color=colors, capsize=3)
    for i, n in enumerate(names):
        if n in TARGETS:
            ax.plot([TARGETS[n]] * 2, [i - 0.4, i + 0.4], color="black", linewidth=2)
        ax.text(values[i], i, f"  {values[i]:.2f}", va="center")
    ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.invert_yaxis()
    ax.set_xlabel(
        "service ÷ other (requests or records per second; bars: min-max; black tick: target)"
    )
    ax.set_title(
        f"Silk Road Tracker vs raw twin and Eve — run {results['run']}"
        + (" (quick)" if results["quick"] else "")
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(results: dict[str, Any]) -> str:
    m, v, method = results["machine"], results["versions"], results["method"]
    tail = results.get("tail_at_75pct")
    flat = results.get("cpu_per_request", {})
    scaling = results.get("scaling", {})
    parts = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`bench/report.py`) from "
        f"[`bench/results/latest.json`](bench/results/latest.json), run `{results['run']}`"
        + (" in quick mode (`BENCH_QUICK=1`)" if results["quick"] else "")
        + f", which took {results.get('measuring_s', results['elapsed_s'])} s"
        + (
            f" (and {results['elapsed_s'] - results['measuring_s']} s more to build missing "
            "datasets, once per machine)"
            if results.get("measuring_s", results["elapsed_s"]) != results["elapsed_s"]
            else ""
        )
        + ". Do not edit by hand.",
        "",
        "![ratios](bench/results/ratios.png)",
        "",
        "## Ratios",
        "",
        "Service throughput divided by the raw twin's (`_vs_raw`: the same query, driver and "
        "JSON bytes with no framework) or Eve's (`_vs_eve`), medians of interleaved "
        "repetitions; min-max is the worst and best pairing of repetitions. `_cpu_` rows: "
        "the other server's CPU per request divided by ours (pooled over the repetitions), "
        "which is what the throughput ratio becomes where the server, not the database, is "
        "the limit.",
        "",
        table(results),
        "",
        "Read with care. On FerretDB's SQLite backend the database, not the web tier, sets "
        "the rate of every workload that touches data: it finds an `_id` by reading rows "
        "until the match (its `_id` index is not used), and it answers every other query by "
        "reading and decoding the whole collection (see docs/scaling.md). The database runs "
        "on its own core, so where it is the bottleneck the throughput ratios sit near 1 "
        "whatever the framework costs. The `_cpu_` ratios (the other server's CPU per request "
        "over ours) show what each framework costs per request; where the server, not the "
        "database, is the limit (MongoDB, or `/livez`) throughput follows them. `/livez` has "
        "no database and shows the framework floor.",
        "",
        "## Targets beyond ratios",
        "",
    ]
    if tail:
        parts.append(
            f"- Tail latency at 75% of the maximum GET-by-id rate ({tail['target_rps']:.1f}/s "
            f"asked, {tail['achieved_rps']:.1f}/s achieved, {tail['connections']} paced "
            f"connections): p50 {tail['p50_ms']:.1f} ms, p99 {tail['p99_ms']:.1f} ms, "
            f"p99/p50 = {fmt(tail['p99_over_p50'])} (target ≤ 5)."
        )
    if flat.get("ratio_100k_over_1k"):
        parts.append(
            f"- Service CPU per GET by id: {flat['get_by_id_1k_ms']:.2f} ms at 1,000 records, "
            f"{flat['get_by_id_100k_ms']:.2f} ms at 100,000 "
            f"(×{flat['ratio_100k_over_1k']:.2f}, {flat['connections']} connections; target "
            "within 20%)."
        )
    for name, what in (("livez", "`/livez`, no database"), ("get_by_id", "GET by id")):
        one, two = scaling.get(name, {}).get("1"), scaling.get(name, {}).get("2")
        if one and two:
            parts.append(
                f"- Scaling, {what} ({scaling['connections']} connections, nothing pinned): "
                f"1 process {one['rps']['median']:.1f}/s, 2 processes "
                f"{two['rps']['median']:.1f}/s (×{two['rps']['median'] / one['rps']['median']:.2f}"
                "); see docs/scaling.md."
            )
    probe = results.get("database_probe", {})
    if probe:
        parts += [
            "",
            "## The database alone",
            "",
            "FerretDB 1.24 (SQLite) through the driver with nothing else running: `find_one` "
            "by `_id` for records at the start, middle and end of the table (it reads rows "
            "until the match), and `count_documents({_deleted: false})`, which reads and "
            "decodes every document, as every filter but `_id` does. Medians of "
            + ", ".join(f"{p['runs']} run(s) at {int(size):,} records" for size, p in probe.items())
            + ".",
            "",
            "| records | find_one, 1st record | middle record | last record | full read |",
            "| --- | --- | --- | --- | --- |",
        ]
        for size, p in probe.items():
            at = list(p["find_one_by_position_ms"].values())
            full = p.get("count_documents_ms")
            parts.append(
                f"| {int(size):,} | {at[0]} ms | {at[1]} ms | {at[2]} ms | "
                f"{f'{full} ms' if full is not None else ''} |"
            )
    parts += [
        "",
        "## All measurements",
        "",
        throughput_table(results),
        "",
        "## Machine and versions",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; "
        f"load average before the run: {', '.join(f'{x:.1f}' for x in m['load_before'])} "
        "(the machine is shared: absolute numbers are noisy, side-by-side ratios are what count).",
        "- " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "",
        "## Method",
        "",
        "- Datasets: `bench/dataset.py` makes record *i* of every dataset as a pure function of "
        "*i* (200, 1,000, 10,000 and 100,000 valid projects) and loads them with the "
        "service's own validation and derivation (`Repository.validate`, `derive`), checking "
        "that the document it stores equals what `Repository.put` stores. Built once, cached "
        "in `bench/.data` (rebuilt when the stored shape changes), never during timing.",
        "- Systems, each one process on the same database: the service (uvicorn, uvloop + "
        "httptools); the raw twin (`bench/twin.py`, Starlette on the same uvicorn, the same "
        "driver and queries, the same JSON bytes, no validation/auth/middleware; "
        "`same_bytes_as_twin` in latest.json checks it); Eve "
        f"{v['eve']} ({method['eve_server']}).",
        f"- Pinning: {method['pinning']} (`taskset`). Each server gets the same single core; "
        "the load generator and the database share the other.",
        f"- Load: wrk with Lua scripts (`bench/lua/`), one thread; connections "
        f"{', '.join(map(str, method['concurrency']))}; "
        f"{method['warmup_s']} s warm-up per system, then {method['reps']} repetitions of "
        f"{method['duration_s']} s interleaved service, twin, Eve, service, ... The ratio is "
        "taken at 32 connections, or the highest level a workload runs at.",
        "- Slow workloads (list, search, facets, stats, changes: a second or more of "
        "FerretDB time per request) run "
        f"{method['slow_duration_s']} s at "
        f"{' and '.join(map(str, method.get('slow_concurrency', [1])))} connection(s)"
        + (
            f", on {method['quick_slow_dataset']:,} records in quick mode"
            if method.get("quick_slow_dataset")
            else ""
        )
        + ", after one request per system as the warm-up; at one connection requests/s is "
        "1 / mean latency. Before each workload the harness waits until FerretDB is idle.",
        "- GET by id on 100,000 records asks for the same 1,000 ids as on 1,000 records, so "
        "FerretDB's work per request is the same and the service's CPU per request shows "
        "whether anything of ours grows with the collection.",
        "- CPU per request: user + system CPU of the server's process tree (psutil, /proc) "
        "before and after each run, over the requests it answered.",
        "- Bulk: records/s of one `POST /v1/projects/bulk` of 1,000 new records (each item "
        "validated, derived, and written with its revision, the version claim) against one "
        "`insert_many` of the same 1,000 stored documents by the driver "
        "(`BENCH_UPSERTS=1` adds a `bulk_write` of 1,000 `ReplaceOne` upserts, which "
        "FerretDB runs at a few records/s because each upsert scans the collection).",
        "- Tail latency: wrk connections pacing their requests (Lua `delay`) at 75% of the "
        "highest median GET-by-id rate; closed-loop pacing, so it can understate tails "
        "compared with an open-loop generator.",
        "",
    ]
    return "\n".join(parts)


README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def readme_summary(results: dict[str, Any]) -> str:
    """The README's performance lines, made from the same file as everything else."""
    r = results["ratios"]

    def ratio(name: str) -> str:
        return fmt(r[name]["value"]) if r.get(name, {}).get("value") is not None else "n/a"

    flat, tail = results.get("cpu_per_request", {}), results.get("tail_at_75pct", {})
    livez = results.get("scaling", {}).get("livez", {})
    lines = [
        f"From run `{results['run']}`"
        + (" (quick mode)" if results["quick"] else "")
        + " in `bench/results/latest.json`; medians of interleaved repetitions:",
        "",
        "| | GET by id | list | search | bulk |",
        "| --- | --- | --- | --- | --- |",
        f"| throughput ÷ raw twin | {ratio('get_by_id_vs_raw')} | {ratio('list_vs_raw')} | "
        f"{ratio('search_vs_raw')} | {ratio('bulk_vs_raw')} |",
        f"| throughput ÷ Eve | {ratio('get_by_id_vs_eve')} | {ratio('list_vs_eve')} | | |",
        f"| server CPU per request, twin ÷ ours | {ratio('get_by_id_cpu_vs_raw')} | "
        f"{ratio('list_cpu_vs_raw')} | {ratio('search_cpu_vs_raw')} | |",
        f"| server CPU per request, Eve ÷ ours | {ratio('get_by_id_cpu_vs_eve')} | "
        f"{ratio('list_cpu_vs_eve')} | | |",
        "",
    ]
    if flat.get("ratio_100k_over_1k"):
        lines.append(
            f"Service CPU per GET by id: ×{fmt(flat['ratio_100k_over_1k'])} from 1,000 to "
            "100,000 records."
        )
    if tail.get("p99_over_p50"):
        lines.append(f"p99/p50 at 75% of the maximum GET-by-id rate: {fmt(tail['p99_over_p50'])}.")
    if livez.get("1") and livez.get("2"):
        gain = livez["2"]["rps"]["median"] / livez["1"]["rps"]["median"]
        lines.append(f"`/livez` with two service processes instead of one: ×{fmt(gain)}.")
    return "\n".join(lines)


def write(results: dict[str, Any]) -> None:
    chart(results, RESULTS / "ratios.png")
    (ROOT / "BENCHMARKS.md").write_text(markdown(results))
    readme = ROOT / "README.md"
    text = readme.read_text()
    if README_START in text and README_END in text:
        head, rest = text.split(README_START, 1)
        tail = rest.split(README_END, 1)[1]
        block = f"{README_START}\n{readme_summary(results)}\n{README_END}"
        readme.write_text(head + block + tail)


if __name__ == "__main__":
    data = json.loads((RESULTS / "latest.json").read_text())
    write(data)
    print(table(data))
