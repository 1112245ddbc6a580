"""The convergence scenario: concurrent writers, one consumer following the changes feed.

Used against one in-process app and against two real service processes on one database.
"""

import asyncio
import random
from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.factories import event, project

COLLECTIONS = ("events", "projects")
MAKE = {"events": event, "projects": project}


async def write_randomly(
    clients: list[httpx.AsyncClient], writer: int, ops: int, pool: dict[str, list[str]]
) -> dict[str, int]:
    """`ops` mixed creates, replaces, patches and deletes on a shared pool of ids."""
    rng = random.Random(writer)
    done: dict[str, int] = {}
    for n in range(ops):
        client = clients[n % len(clients)]
        collection = rng.choice(COLLECTIONS)
        record_id = rng.choice(pool[collection])
        url = f"/v1/{collection}/{record_id}"
        kind = rng.choices(["put", "patch", "delete", "post"], weights=[5, 3, 2, 1])[0]
        title = f"Writer {writer} op {n}"
        if kind == "put":
            r = await client.put(url, json=MAKE[collection](title=title), headers=ADMIN)
        elif kind == "patch":
            r = await client.patch(url, json={"summary": title}, headers=ADMIN)
        elif kind == "delete":
            r = await client.delete(url, headers=ADMIN)
        else:
            r = await client.post(
                f"/v1/{collection}", json=MAKE[collection](title=title), headers=ADMIN
            )
        assert r.status_code in (200, 201, 204, 404, 410, 412), r.text
        key = f"{kind} {r.status_code}"
        done[key] = done.get(key, 0) + 1
    return done


class Mirror:
    """What a partner keeps: the latest record (or a tombstone) per collection and id."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict[str, Any] | None] = {}
        self.versions: dict[tuple[str, str], int] = {}
        self.pages = 0
        self.changes = 0

    def apply(self, change: dict[str, Any]) -> None:
        key = (change["collection"], change["id"])
        assert change["version"] >= self.versions.get(key, 0), "a version went backwards"
        self.versions[key] = change["version"]
        self.records[key] = change["record"] if change["op"] == "upsert" else None
        self.changes += 1

    async def follow(
        self, clients: list[httpx.AsyncClient], writing: asyncio.Event, since: str | None = None
    ) -> str | None:
        """Follow the feed while `writing` is set, then until it is caught up."""
        rng = random.Random(99)
        while True:
            finished = not writing.is_set()
            params: dict[str, Any] = {"limit": rng.randint(1, 40)}
            if since:
                params["since"] = since
            r = await clients[self.pages % len(clients)].get("/v1/changes", params=params)
            assert r.status_code == 200, r.text
            page = r.json()
            self.pages += 1
            for change in page["changes"]:
                self.apply(change)
            since = page["next"]
            if not page["more"]:
                if finished:
                    return since
                await asyncio.sleep(0.05)

    def live(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {k: v for k, v in self.records.items() if v is not None}


async def server_state(client: httpx.AsyncClient) -> dict[tuple[str, str], dict[str, Any]]:
    state = {}
    for collection in COLLECTIONS:
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            page = (await client.get(f"/v1/{collection}", params=params)).json()
            state.update({(collection, r["id"]): r for r in page["data"]})
            cursor = page["next"]
            if not cursor:
                break
    return state


async def run_scenario(
    clients: list[httpx.AsyncClient], writers: int = 6, ops: int = 50, ids: int = 25
) -> dict[str, Any]:
    pool = {c: [f"{c[:4]}-conv-{i:02d}" for i in range(ids)] for c in COLLECTIONS}
    mirror = Mirror()
    writing = asyncio.Event()
    writing.set()
    consumer = asyncio.create_task(mirror.follow(clients, writing))

    tallies = await asyncio.gather(*(write_randomly(clients, w, ops, pool) for w in range(writers)))
    writing.clear()
    await consumer

    server = await server_state(clients[0])
    live = mirror.live()
    missing, extra = server.keys() - live.keys(), live.keys() - server.keys()
    assert not missing and not extra, f"missing {sorted(missing)}, extra {sorted(extra)}"
    for key, record in server.items():
        assert live[key] == record, f"{key} differs"
    for key, held in mirror.records.items():
        if held is None:
            r = await clients[0].get(f"/v1/{key[0]}/{key[1]}")
            assert r.status_code == 410, f"{key} is deleted in the mirror but {r.status_code}"
    ops_done: dict[str, int] = {}
    for tally in tallies:
        for k, v in tally.items():
            ops_done[k] = ops_done.get(k, 0) + v
    return {
        "writes": writers * ops,
        "ops": ops_done,
        "records": len(server),
        "deleted": sum(1 for v in mirror.records.values() if v is None),
        "pages": mirror.pages,
        "changes": mirror.changes,
    }
