"""Versioned CRUD on events and projects: the HTTP contract of DESIGN.md, against the real DB."""

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN
from tests.factories import event, issue_key, project, unique_id

pytestmark = pytest.mark.parametrize(
    ("collection", "make"), [("events", event), ("projects", project)]
)


async def put(
    client: httpx.AsyncClient, collection: str, rid: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.put(f"/v1/{collection}/{rid}", json=body, headers={**ADMIN, **headers})


async def test_post_creates_with_location_and_etag(client, collection, make):
    title = f"Joint laboratory {unique_id()}"
    r = await client.post(f"/v1/{collection}", json=make(title=title), headers=ADMIN)
    assert r.status_code == 201
    body = r.json()
    assert r.headers["location"] == f"/v1/{collection}/{body['id']}"
    assert r.headers["etag"] == '"1"'
    assert body["id"] == title.lower().replace(" ", "-")
    assert body["version"] == 1
    assert body["owner"] == body["created_by"] == "bootstrap-admin"
    got = await client.get(r.headers["location"])
    assert got.json() == body


async def test_post_with_a_taken_title_gets_a_numbered_id(client, collection, make):
    title = f"Alliance {unique_id()}"
    first = await client.post(f"/v1/{collection}", json=make(title=title), headers=ADMIN)
    second = await client.post(f"/v1/{collection}", json=make(title=title), headers=ADMIN)
    assert second.json()["id"] == first.json()["id"] + "-2"


async def test_put_creates_then_replaces(client, collection, make):
    rid = unique_id()
    created = await put(client, collection, rid, make())
    assert created.status_code == 201
    replaced = await put(client, collection, rid, make(title="Renamed"))
    assert replaced.status_code == 200
    assert replaced.json()["version"] == 2
    assert replaced.headers["etag"] == '"2"'


async def test_write_that_changes_nothing_makes_no_new_version(client, collection, make):
    rid = unique_id()
    await put(client, collection, rid, make())
    again = await put(client, collection, rid, make())
    assert again.status_code == 200
    assert again.headers["etag"] == '"1"'
    revisions = await client.get(f"/v1/{collection}/{rid}/revisions")
    assert [r["version"] for r in revisions.json()["data"]] == [1]


async def test_fetched_record_sent_back_is_accepted_unchanged(client, collection, make):
    rid = unique_id()
    await put(client, collection, rid, make())
    fetched = (await client.get(f"/v1/{collection}/{rid}")).json()
    fetched["version"] = 99  # server-managed fields are ignored, never written from input
    fetched["owner"] = "someone-else"
    back = await put(client, collection, rid, fetched)
    assert back.status_code == 200
    assert back.json()["version"] == 1
    assert back.json()["owner"] == "bootstrap-admin"


async def test_unknown_field_is_422_with_pointer(client, collection, make):
    r = await put(client, collection, unique_id(), make(colour="red"))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert {"pointer": "/colour", "detail": "Extra inputs are not permitted"} in r.json()["errors"]


async def test_if_none_match_gives_304(client, collection, make):
    rid = unique_id()
    await put(client, collection, rid, make())
    r = await client.get(f"/v1/{collection}/{rid}", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304
    assert r.headers["etag"] == '"1"'
    r = await client.get(f"/v1/{collection}/{rid}", headers={"If-None-Match": '"7"'})
    assert r.status_code == 200


async def test_if_none_match_star_makes_put_create_only(client, collection, make):
    rid = unique_id()
    first = await put(client, collection, rid, make(), **{"If-None-Match": "*"})
    assert first.status_code == 201
    second = await put(client, collection, rid, make(title="Other"), **{"If-None-Match": "*"})
    assert second.status_code == 412


async def test_stale_if_match_returns_412(client, collection, make):
    rid = unique_id()
    await put(client, collection, rid, make())
    await put(client, collection, rid, make(title="Second"), **{"If-Match": '"1"'})
    stale = await put(client, collection, rid, make(title="Third"), **{"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2


async def test_patch_merges_and_null_removes(client, collection, make):
    rid = unique_id()
    await put(client, collection, rid, make(summary="Old", tags=["a", "b"]))
    r = await client.patch(
        f"/v1/{collection}/{rid}",
        content=b'{"summary": null, "tags": ["c"]}',
        headers={**ADMIN, "Content-Type": "application/merge-patch+json", "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["summary"] is None
    assert r.json()["tags"] == ["c"]
    assert r.json()["version"] == 2


async def test_patch_that_breaks_the_record_is_422(client, collection, make):
    rid = unique_id()
    await put(client, collection, rid, make())
    r = await client.patch(f"/v1/{collection}/{rid}", json={"sources": []}, headers=ADMIN)
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/sources"


async def test_delete_leaves_a_tombstone_and_put_brings_it_back(client, collection, make):
    rid = unique_id()
    await put(client, collection, rid, make())
    deleted = await client.delete(f"/v1/{collection}/{rid}", headers=ADMIN)
    assert deleted.status_code == 204
    gone = await client.get(f"/v1/{collection}/{rid}")
    assert gone.status_code == 410
    listed = await client.get(f"/v1/{collection}", params={"limit": 200})
    assert rid not in {r["id"] for r in listed.json()["data"]}
    back = await put(client, collection, rid, make())
    assert back.status_code == 201
    assert back.json()["version"] == 3


async def test_revisions_and_restore_record_who_and_when(client, collection, make):
    rid = unique_id()
    await put(client, collection, rid, make(title="First"))
    await put(client, collection, rid, make(title="Second"))
    await client.delete(f"/v1/{collection}/{rid}", headers=ADMIN)
    old = await client.get(f"/v1/{collection}/{rid}/revisions/1")
    assert old.json()["record"]["title"] == "First"
    restored = await client.post(f"/v1/{collection}/{rid}/revisions/1/restore", headers=ADMIN)
    assert restored.status_code == 200
    assert restored.json()["title"] == "First"
    assert restored.json()["version"] == 4
    history = (await client.get(f"/v1/{collection}/{rid}/revisions")).json()["data"]
    assert [(h["version"], h["op"]) for h in history] == [
        (4, "restore"),
        (3, "delete"),
        (2, "update"),
        (1, "create"),
    ]
    assert history[0]["restored_from"] == 1
    assert history[0]["by"] == "bootstrap-admin"


async def test_missing_record_is_404_problem(client, collection, make):
    r = await client.get(f"/v1/{collection}/{unique_id()}")
    assert r.status_code == 404
    assert r.json()["status"] == 404


async def test_concurrent_writers_from_one_version_never_both_win(client, collection, make):
    rid = unique_id()
    await put(client, collection, rid, make())
    answers = await asyncio.gather(
        *[
            put(client, collection, rid, make(title=f"T{i}"), **{"If-Match": '"1"'})
            for i in range(8)
        ]
    )
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 1
    assert codes.count(412) == 7
    assert (await client.get(f"/v1/{collection}/{rid}")).json()["version"] == 2


async def test_list_pages_with_cursor_and_link(fresh_client, collection, make):
    written = {unique_id() for _ in range(3)}
    for rid in written:
        await put(fresh_client, collection, rid, make())
    first = await fresh_client.get(f"/v1/{collection}", params={"limit": 2})
    assert len(first.json()["data"]) == 2
    nxt = first.json()["next"]
    assert nxt and 'rel="next"' in first.headers["link"]
    second = await fresh_client.get(f"/v1/{collection}", params={"limit": 2, "cursor": nxt})
    assert second.json()["next"] is None and "link" not in second.headers
    ids_1 = [r["id"] for r in first.json()["data"]]
    ids_2 = [r["id"] for r in second.json()["data"]]
    assert len(ids_2) == 1
    assert sorted(ids_1 + ids_2) == sorted(written)


async def test_tampered_cursor_is_422(client, collection, make):
    r = await client.get(f"/v1/{collection}", params={"cursor": "eyJzIjoxfQ.AAAA"})
    assert r.status_code == 422


async def test_post_never_takes_the_id_of_a_deleted_record(app_client, collection, make):
    async with app_client() as c:
        partner = await issue_key(c, "partner-posting", "partner")
        title = f"Recycled title {unique_id()}"
        first = await c.post(f"/v1/{collection}", json=make(title=title), headers=ADMIN)
        deleted = first.json()["id"]
        assert (await c.delete(f"/v1/{collection}/{deleted}", headers=ADMIN)).status_code == 204
        for headers, owner in ((partner, "partner-posting"), (ADMIN, "bootstrap-admin")):
            r = await c.post(f"/v1/{collection}", json=make(title=title), headers=headers)
            assert r.status_code == 201, r.text
            created = r.json()
            assert created["id"] != deleted
            assert created["version"] == 1 and created["owner"] == owner
            history = (await c.get(f"/v1/{collection}/{created['id']}/revisions")).json()
            assert [rev["version"] for rev in history["data"]] == [1]
        assert (await c.get(f"/v1/{collection}/{deleted}")).status_code == 410


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "RESTORE"])
async def test_if_match_star_needs_a_current_record_on_every_write(
    client, collection, make, method
):
    rid = unique_id()
    star = {**ADMIN, "If-Match": "*"}
    c: httpx.AsyncClient = client

    async def write(target: str) -> httpx.Response:
        url = f"/v1/{collection}/{target}"
        if method == "PUT":
            return await c.put(url, json=make(), headers=star)
        if method == "PATCH":
            return await c.patch(url, json={"summary": "Starred"}, headers=star)
        if method == "DELETE":
            return await c.delete(url, headers=star)
        return await c.post(f"{url}/revisions/1/restore", headers=star)

    assert (await write(unique_id("missing"))).status_code == 412
    await put(client, collection, rid, make())
    assert (await write(rid)).status_code in (200, 204)


async def test_deleting_another_partners_tombstone_is_410(app_client, collection, make):
    async with app_client() as c:
        owner = await issue_key(c, "partner-owner", "partner")
        other = await issue_key(c, "partner-other", "partner")
        rid = unique_id()
        await c.put(f"/v1/{collection}/{rid}", json=make(), headers=owner)
        assert (await c.delete(f"/v1/{collection}/{rid}", headers=owner)).status_code == 204
        r = await c.delete(f"/v1/{collection}/{rid}", headers=other)
        assert r.status_code == 410, r.text
