"""The changes feed: from the start, resumable, tombstones, a horizon that never skips, and
convergence of a mirror under concurrent writers (one process, and two on one database)."""

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from service.records.storage.sequence import Sequence
from tests.conftest import ADMIN
from tests.convergence import run_scenario
from tests.factories import event, project, unique_id
from tests.service_process import services


async def all_changes(
    client: httpx.AsyncClient, since: str | None = None, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    changes = []
    while True:
        query = params | ({"since": since} if since else {})
        page = (await client.get("/v1/changes", params=query)).json()
        changes += page["changes"]
        assert isinstance(page["next"], str)
        since = page["next"]
        if not page["more"]:
            return changes, since


async def test_feed_starts_from_the_beginning_and_reports_deletions(fresh_client):
    kept, gone = unique_id("kept"), unique_id("gone")
    await fresh_client.put(f"/v1/events/{kept}", json=event(), headers=ADMIN)
    await fresh_client.put(f"/v1/projects/{gone}", json=project(), headers=ADMIN)
    await fresh_client.delete(f"/v1/projects/{gone}", headers=ADMIN)
    changes, _ = await all_changes(fresh_client)
    assert [(c["collection"], c["id"], c["op"], c["version"]) for c in changes] == [
        ("events", kept, "upsert", 1),
        ("projects", gone, "delete", 2),
    ]
    assert changes[0]["record"] == (await fresh_client.get(f"/v1/events/{kept}")).json()
    assert "record" not in changes[1]


async def test_next_resumes_after_what_was_served(fresh_client):
    first = unique_id()
    await fresh_client.put(f"/v1/events/{first}", json=event(), headers=ADMIN)
    _, token = await all_changes(fresh_client)
    assert (await all_changes(fresh_client, since=token))[0] == []
    second = unique_id()
    await fresh_client.put(f"/v1/events/{second}", json=event(), headers=ADMIN)
    await fresh_client.patch(f"/v1/events/{first}", json={"summary": "new"}, headers=ADMIN)
    changes, _ = await all_changes(fresh_client, since=token)
    assert [(c["id"], c["version"]) for c in changes] == [(second, 1), (first, 2)]


async def test_collections_filter_and_paging(fresh_client):
    for n in range(5):
        await fresh_client.put(f"/v1/events/ev-page-{n}", json=event(), headers=ADMIN)
        await fresh_client.put(f"/v1/projects/pr-page-{n}", json=project(), headers=ADMIN)
    page = (await fresh_client.get("/v1/changes", params={"limit": 3})).json()
    assert len(page["changes"]) == 3 and page["more"] is True
    only, _ = await all_changes(fresh_client, collections="projects", limit=2)
    assert [c["id"] for c in only] == [f"pr-page-{n}" for n in range(5)]


@pytest.mark.parametrize(
    "params", [{"since": "forged.token"}, {"collections": "people"}, {"limit": 0}, {"sinse": "x"}]
)
async def test_bad_parameters_are_422(client, params):
    r = await client.get("/v1/changes", params=params)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


async def test_a_list_cursor_is_not_a_changes_token(fresh_client):
    for n in range(3):
        await fresh_client.put(f"/v1/events/cursor-{n}", json=event(), headers=ADMIN)
    cursor = (await fresh_client.get("/v1/events", params={"limit": 1})).json()["next"]
    r = await fresh_client.get("/v1/changes", params={"since": cursor})
    assert r.status_code == 422


async def test_feed_needs_a_key_when_anonymous_reads_are_off(app_client):
    async with app_client(anonymous_reads=False) as c:
        assert (await c.get("/v1/changes")).status_code == 401
        assert (await c.get("/v1/changes", headers=ADMIN)).status_code == 200


async def test_a_write_in_flight_holds_the_horizon_until_it_lands(app_client, database_uri):
    database = f"test_horizon_{uuid.uuid4().hex[:8]}"
    async with app_client(database=database, change_stale_after_s=1.0) as c:
        mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(database_uri)
        try:
            sequence = Sequence(mongo[database]["sequence"], stale_after=1.0)
            before = unique_id("before")
            await c.put(f"/v1/events/{before}", json=event(), headers=ADMIN)
            _, token = await all_changes(c)
            pending = await sequence.claim()  # a writer that has its number, not yet landed
            after = unique_id("after")
            await c.put(f"/v1/events/{after}", json=event(), headers=ADMIN)
            held, held_token = await all_changes(c, since=token)
            assert held == [] and held_token == token  # not served past the pending number
            await sequence.release(pending)
            served, _ = await all_changes(c, since=token)
            assert [x["id"] for x in served] == [after]

            abandoned = await sequence.claim()  # a writer that died holding its number
            late = unique_id("late")
            await c.put(f"/v1/events/{late}", json=event(), headers=ADMIN)
            _, token = await all_changes(c)
            assert (await all_changes(c, since=token))[0] == []
            time.sleep(1.1)
            served, _ = await all_changes(c, since=token)
            assert [x["id"] for x in served] == [late]
            del abandoned
        finally:
            await mongo.close()


async def test_a_slow_write_that_is_still_alive_is_never_taken_for_abandoned(
    app_client, database_uri
):
    database = f"test_slow_{uuid.uuid4().hex[:8]}"
    async with app_client(database=database, change_stale_after_s=0.6) as c:
        mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(database_uri)
        try:
            sequence = Sequence(mongo[database]["sequence"], stale_after=0.6)
            _, token = await all_changes(c)
            async with sequence.hold():  # a live writer, slower than stale_after
                await c.put(f"/v1/events/{unique_id()}", json=event(), headers=ADMIN)
                await asyncio.sleep(1.5)
                assert (await all_changes(c, since=token))[0] == []
            assert len((await all_changes(c, since=token))[0]) == 1
        finally:
            await mongo.close()


async def test_mirror_converges_under_concurrent_writers_one_process(fresh_client):
    outcome = await run_scenario([fresh_client], writers=6, ops=50)
    print("convergence, one process:", outcome)
    assert outcome["records"] > 0 and outcome["deleted"] > 0


@pytest.fixture
def two_services(database_uri) -> Iterator[list[str]]:
    with services(database_uri, 2) as urls:
        yield urls


async def test_mirror_converges_with_two_processes_on_one_database(two_services):
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in two_services]
    try:
        for c in clients:  # both ready (indexes, bootstrap key)
            for _ in range(100):
                if (await c.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.05)
        outcome = await run_scenario(clients, writers=6, ops=50)
        print("convergence, two processes:", outcome)
        assert outcome["records"] > 0 and outcome["deleted"] > 0
    finally:
        for c in clients:
            await c.aclose()
