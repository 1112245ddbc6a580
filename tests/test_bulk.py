"""Bulk upsert: one result per item in input order, each item atomic on its own."""

from urllib.parse import quote

from tests.conftest import ADMIN
from tests.factories import event, issue_key, project, unique_id


async def test_mixed_batch_reports_each_item_and_writes_only_the_good_ones(fresh_client):
    partner_a = await issue_key(fresh_client, "partner-a", "partner")
    partner_b = await issue_key(fresh_client, "partner-b", "partner")
    mine, same, theirs = unique_id("mine"), unique_id("same"), unique_id("theirs")
    await fresh_client.put(f"/v1/projects/{mine}", json=project(), headers=partner_a)
    await fresh_client.put(f"/v1/projects/{same}", json=project(), headers=partner_a)
    await fresh_client.put(f"/v1/projects/{theirs}", json=project(), headers=partner_b)
    new = unique_id("new")
    items = [
        {"id": new, **project(title="A new cable")},
        {"id": mine, **project(title="Renamed cable")},
        {"id": same, **project()},
        {"id": theirs, **project(title="Hijacked")},
        {"id": unique_id("bad"), **project(countries=[{"code": "XXX", "role": "host"}])},
        {"id": "NO", **project()},
        {"id": mine, "if_match": 1, **project(title="Stale")},
    ]
    r = await fresh_client.post("/v1/projects/bulk", json={"records": items}, headers=partner_a)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [
        "created",
        "updated",
        "unchanged",
        "error",
        "error",
        "error",
        "error",
    ]
    assert [x["id"] for x in results][:5] == [new, mine, same, theirs, items[4]["id"]]
    assert [x["version"] for x in results[:3]] == [1, 2, 1]
    assert results[3]["error"]["status"] == 403
    assert results[4]["error"]["status"] == 422
    assert results[4]["error"]["errors"][0]["pointer"].startswith("/records/4/countries/0")
    assert results[5]["error"]["errors"][0]["pointer"] == "/records/5/id"
    assert results[6]["error"]["status"] == 422  # same id twice in one batch
    assert r.json()["summary"] == {
        "total": 7,
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "error": 4,
    }
    theirs_now = (await fresh_client.get(f"/v1/projects/{theirs}")).json()
    assert theirs_now["version"] == 1 and theirs_now["title"] != "Hijacked"
    assert (await fresh_client.get(f"/v1/projects/{new}")).json()["owner"] == "partner-a"
    same_revisions = (await fresh_client.get(f"/v1/projects/{same}/revisions")).json()["data"]
    assert len(same_revisions) == 1


async def test_stale_if_match_is_a_412_item(fresh_client):
    record_id = unique_id()
    await fresh_client.put(f"/v1/events/{record_id}", json=event(), headers=ADMIN)
    await fresh_client.put(f"/v1/events/{record_id}", json=event(title="v2"), headers=ADMIN)
    items = [{"id": record_id, "if_match": 1, **event(title="v3")}]
    r = await fresh_client.post("/v1/events/bulk", json={"records": items}, headers=ADMIN)
    assert r.json()["results"][0]["error"]["status"] == 412
    items[0]["if_match"] = 2
    r = await fresh_client.post("/v1/events/bulk", json={"records": items}, headers=ADMIN)
    assert r.json()["results"][0] == {"id": record_id, "status": "updated", "version": 3}


async def test_bulk_brings_back_a_deleted_record(fresh_client):
    record_id = unique_id()
    await fresh_client.put(f"/v1/events/{record_id}", json=event(), headers=ADMIN)
    await fresh_client.delete(f"/v1/events/{record_id}", headers=ADMIN)
    items = [{"id": record_id, **event()}]
    r = await fresh_client.post("/v1/events/bulk", json={"records": items}, headers=ADMIN)
    assert r.json()["results"][0]["status"] == "created"
    assert r.json()["results"][0]["version"] == 3
    assert (await fresh_client.get(f"/v1/events/{record_id}")).status_code == 200


async def test_more_than_1000_records_is_refused_before_any_is_written(fresh_client):
    items = [{"id": f"too-many-{i:04d}", **event()} for i in range(1001)]
    r = await fresh_client.post("/v1/events/bulk", json={"records": items}, headers=ADMIN)
    assert r.status_code in (413, 422)
    assert (await fresh_client.get("/v1/events")).json()["data"] == []


async def test_bulk_needs_a_writing_key(fresh_client):
    reader = await issue_key(fresh_client, "a-reader", "reader")
    payload = {"records": [{"id": unique_id(), **event()}]}
    assert (await fresh_client.post("/v1/events/bulk", json=payload)).status_code == 401
    r = await fresh_client.post("/v1/events/bulk", json=payload, headers=reader)
    assert r.status_code == 403


async def test_a_full_batch_of_1000_is_written_and_fed_to_the_changes_feed(fresh_client):
    items = [{"id": f"batch-{i:04d}", **event(title=f"Forum {i}")} for i in range(1000)]
    r = await fresh_client.post("/v1/events/bulk", json={"records": items}, headers=ADMIN)
    assert r.status_code == 200, r.text[:500]
    assert r.json()["summary"]["created"] == 1000
    assert [x["id"] for x in r.json()["results"]] == [x["id"] for x in items]
    seen: set[str] = set()
    since = None
    while True:
        params = {"limit": 400} | ({"since": since} if since else {})
        page = (await fresh_client.get("/v1/changes", params=params)).json()
        seen |= {c["id"] for c in page["changes"]}
        since = page["next"]
        if not page["more"]:
            break
    assert seen == {x["id"] for x in items}
    again = await fresh_client.post("/v1/events/bulk", json={"records": items}, headers=ADMIN)
    assert again.json()["summary"]["unchanged"] == 1000


def _edge_ids() -> dict[str, bool]:
    """Ids at the edges of the id type, each with whether it is valid."""
    stem = unique_id("edge")
    return {
        f"{stem}\n": False,  # `$` of Python's `re` matches before a final newline
        f"{stem}\r\n": False,
        f"{stem}-\u0430": False,  # Cyrillic a
        f"{stem}-\uff41": False,  # fullwidth a
        f"{stem}\u2010x": False,  # a hyphen lookalike
        f"{stem}-\u0131": False,  # dotless i, which upper- and lower-cases to ASCII
        f" {stem}": False,
        "bulk": False,
        (stem + "-" + "x" * 100)[:100]: True,
        (stem + "-" + "y" * 101)[:101]: False,
    }


async def test_bulk_accepts_exactly_the_ids_the_item_routes_accept(fresh_client):
    """Every id bulk creates can be read, replaced, patched, deleted and restored by id, and
    every id the item routes refuse, bulk refuses too."""
    edge = _edge_ids()
    r = await fresh_client.post(
        "/v1/projects/bulk",
        json={"records": [{"id": record_id, **project()} for record_id in edge]},
        headers=ADMIN,
    )
    assert r.status_code == 200, r.text
    by_bulk = {
        record_id: res["status"] for record_id, res in zip(edge, r.json()["results"], strict=True)
    }
    assert by_bulk == {rid: "created" if ok else "error" for rid, ok in edge.items()}
    for record_id, ok in edge.items():
        path = f"/v1/projects/{quote(record_id, safe='')}"
        if ok:
            assert (await fresh_client.get(path)).status_code == 200
            patch = {"title": "Renamed"}
            assert (await fresh_client.patch(path, json=patch, headers=ADMIN)).status_code == 200
            assert (await fresh_client.delete(path, headers=ADMIN)).status_code == 204
            restore = await fresh_client.post(f"{path}/revisions/1/restore", headers=ADMIN)
            assert restore.status_code == 200, restore.text
            put = await fresh_client.put(path, json=project(), headers=ADMIN)
            assert put.status_code == 200, put.text
        else:
            put = await fresh_client.put(path, json=project(), headers=ADMIN)
            assert put.status_code in (404, 405, 422), (record_id, put.text)
            assert (await fresh_client.get(path)).status_code in (404, 405, 422)
    listed = (await fresh_client.get("/v1/projects", params={"limit": 200})).json()["data"]
    assert {x["id"] for x in listed} == {rid for rid, ok in edge.items() if ok}
