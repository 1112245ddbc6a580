"""A partner's sync client for the Silk Road Tracker API: mirror the tracker, push your records.

    # Mirror every event and project into a local JSON file; run it again to catch up.
    python examples/partner_sync.py mirror --url http://127.0.0.1:8000 --state mirror.json
    python examples/partner_sync.py mirror --url ... --state mirror.json --follow  # keep polling

    # Push your own records (a JSON list, each with its `id`) in bulk, safely retried.
    SRT_KEY=srt_... python examples/partner_sync.py push --url ... --collection projects mine.json

The mirror file holds the feed position (`since`) and the records together, and is replaced
atomically after every page, so the client can be killed at any moment and resumes where the
last saved page ended (re-applying a page is harmless). Pushes use an `Idempotency-Key`
derived from the batch's content, so re-running an interrupted push replays the answers of the
batches that already went through instead of writing them again.

Needs only Python 3.11+ and httpx (`pip install httpx`). See docs/sync.md.
"""

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

BATCH = 500  # records per bulk request (the service takes up to 1,000)
RETRY_STATUSES = {409, 429, 502, 503, 504}


def _headers(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def _request(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send, retrying what is safe to retry: network errors, 409 in flight, 429 and 5xx."""
    for attempt in range(8):
        wait = min(0.25 * 2**attempt, 8.0)
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            print(f"  network error ({exc!r}); retrying", file=sys.stderr)
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            print(f"  {response.status_code}; retrying", file=sys.stderr)
            wait = max(wait, float(response.headers.get("Retry-After", "0") or 0))
        time.sleep(min(wait, 30.0))
    raise SystemExit(f"{method} {url} kept failing; try again later")


# --- mirror ------------------------------------------------------------------------------


def load_state(path: Path) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    return {"since": None, "records": {}, "deleted": {}}


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write to a temporary file and rename it over the old one: never half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent or Path("."), prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as out:
        json.dump(state, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def apply(state: dict[str, Any], change: dict[str, Any]) -> None:
    key = f"{change['collection']}/{change['id']}"
    held = state["records"].get(key) or state["deleted"].get(key)
    if held is not None and held["version"] > change["version"]:
        return  # already newer here (a page applied twice after an interruption)
    if change["op"] == "upsert":
        state["records"][key] = change["record"]
        state["deleted"].pop(key, None)
    else:
        state["records"].pop(key, None)
        state["deleted"][key] = {"version": change["version"]}


def mirror(url: str, key: str | None, state_path: Path, follow: bool, limit: int) -> None:
    state = load_state(state_path)
    with httpx.Client(base_url=url, headers=_headers(key), timeout=30) as client:
        while True:
            params: dict[str, Any] = {"limit": limit}
            if state["since"]:
                params["since"] = state["since"]
            response = _request(client, "GET", "/v1/changes", params=params)
            response.raise_for_status()
            page = response.json()
            for change in page["changes"]:
                apply(state, change)
            state["since"] = page["next"]
            save_state(state_path, state)  # the position and the records, together
            if page["changes"]:
                print(
                    f"applied {len(page['changes'])} changes; {len(state['records'])} records held"
                )
            if not page["more"]:
                if not follow:
                    print(
                        f"up to date: {len(state['records'])} records, "
                        f"{len(state['deleted'])} deletions"
                    )
                    return
                time.sleep(2.0)


# --- push --------------------------------------------------------------------------------


def idempotency_key(collection: str, batch: list[dict[str, Any]]) -> str:
    """Same batch, same key: a re-run replays instead of writing again (for 24 hours)."""
    digest = hashlib.sha256(json.dumps([collection, batch], sort_keys=True).encode())
    return f"partner-sync-{digest.hexdigest()[:40]}"


def push(url: str, key: str | None, collection: str, source: Path) -> int:
    records = json.loads(source.read_text())
    failures = 0
    totals: dict[str, int] = {}
    with httpx.Client(base_url=url, headers=_headers(key), timeout=120) as client:
        for start in range(0, len(records), BATCH):
            batch = records[start : start + BATCH]
            response = _request(
                client,
                "POST",
                f"/v1/{collection}/bulk",
                json={"records": batch},
                headers={"Idempotency-Key": idempotency_key(collection, batch)},
            )
            if response.status_code != 200:
                raise SystemExit(f"bulk refused ({response.status_code}): {response.text}")
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            for result in response.json()["results"]:
                totals[result["status"]] = totals.get(result["status"], 0) + 1
                if result["status"] == "error":
                    failures += 1
                    error = result["error"]
                    print(f"  {result['id']}: {error['status']} {error['detail']}", file=sys.stderr)
            print(
                f"batch {start // BATCH + 1}: {len(batch)} records"
                + (" (replayed)" if replayed else "")
            )
    print("pushed:", ", ".join(f"{n} {status}" for status, n in sorted(totals.items())))
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("SRT_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--key", default=os.environ.get("SRT_KEY"), help="or SRT_KEY")
    commands = parser.add_subparsers(dest="command", required=True)
    m = commands.add_parser("mirror", help="mirror the tracker into a local file")
    m.add_argument("--state", type=Path, default=Path("mirror.json"))
    m.add_argument("--follow", action="store_true", help="keep polling for changes")
    m.add_argument("--limit", type=int, default=200, help="changes per page")
    p = commands.add_parser("push", help="upsert your records in bulk")
    p.add_argument("--collection", choices=["events", "projects"], required=True)
    p.add_argument("source", type=Path, help="a JSON list of records, each with its id")
    args = parser.parse_args()
    if args.command == "mirror":
        mirror(args.url, args.key, args.state, args.follow, args.limit)
        return 0
    return push(args.url, args.key, args.collection, args.source)


if __name__ == "__main__":
    sys.exit(main())
