"""Idempotency keys on POST and bulk: replay, mismatch, in-flight duplicates, expiry."""

import asyncio
import time

import httpx

from tests.conftest import ADMIN
from tests.factories import event, issue_key, unique_id


def keyed(key: str, headers: dict[str, str] = ADMIN) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_retry_replays_the_first_answer_and_changes_nothing(fresh_client):
    body = event(title=f"Replayed forum {unique_id()}")
    first = await fresh_client.post("/v1/events", json=body, headers=keyed("k-1"))
    again = await fresh_client.post("/v1/events", json=body, headers=keyed("k-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    listed = (await fresh_client.get("/v1/events")).json()["data"]
    assert len(listed) == 1


async def test_same_key_with_another_body_is_422(fresh_client):
    await fresh_client.post("/v1/events", json=event(title="One forum"), headers=keyed("k-2"))
    r = await fresh_client.post("/v1/events", json=event(title="Other forum"), headers=keyed("k-2"))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


async def test_key_order_and_spacing_do_not_make_another_body(fresh_client):
    body = event(title="Same forum")
    await fresh_client.post("/v1/events", json=body, headers=keyed("k-3"))
    reordered = dict(reversed(list(body.items())))
    r = await fresh_client.post("/v1/events", json=reordered, headers=keyed("k-3"))
    assert r.status_code == 201 and r.headers["idempotent-replayed"] == "true"


async def test_keys_are_scoped_to_the_caller(fresh_client):
    other = await issue_key(fresh_client, "partner-scope", "partner")
    body = event(title="Scoped forum")
    a = await fresh_client.post("/v1/events", json=body, headers=keyed("shared"))
    b = await fresh_client.post("/v1/events", json=body, headers=keyed("shared", other))
    assert a.status_code == b.status_code == 201
    assert "idempotent-replayed" not in b.headers
    assert a.json()["id"] != b.json()["id"]


async def test_duplicate_while_the_first_is_in_flight_is_409(fresh_client):
    # 1,000 records keep the first request busy for a while; the duplicate starts once the
    # first has claimed the key (its claim is the first thing it awaits).
    payload = {"records": [{"id": unique_id("slow"), **event()} for _ in range(1000)]}

    async def duplicate_soon() -> httpx.Response:
        await asyncio.sleep(0.05)
        r: httpx.Response = await fresh_client.post(
            "/v1/events/bulk", json=payload, headers=keyed("slow")
        )
        return r

    first, duplicate = await asyncio.gather(
        fresh_client.post("/v1/events/bulk", json=payload, headers=keyed("slow")),
        duplicate_soon(),
    )
    assert first.status_code == 200 and first.json()["summary"]["created"] == 1000
    assert duplicate.status_code == 409, duplicate.text
    assert duplicate.headers["retry-after"]
    later = await fresh_client.post("/v1/events/bulk", json=payload, headers=keyed("slow"))
    assert later.status_code == 200 and later.headers["idempotent-replayed"] == "true"


async def test_keys_expire_after_their_time_to_live(app_client):
    async with app_client(idempotency_ttl_s=0.5) as c:
        r = await c.post("/v1/events", json=event(title="Kept forum"), headers=keyed("ttl"))
        assert r.status_code == 201
        time.sleep(0.6)
        other = await c.post("/v1/events", json=event(title="New forum"), headers=keyed("ttl"))
        assert other.status_code == 201
        assert "idempotent-replayed" not in other.headers


async def test_forty_concurrent_retries_create_exactly_one_record(fresh_client):
    body = event(title=f"Concurrent forum {unique_id()}")
    answers = await asyncio.gather(
        *(fresh_client.post("/v1/events", json=body, headers=keyed("k-40")) for _ in range(40))
    )
    statuses = sorted({a.status_code for a in answers})
    assert set(statuses) <= {201, 409}, statuses
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1
    assert [a for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers]
    listed = (await fresh_client.get("/v1/events")).json()["data"]
    assert len(listed) == 1
    again = await fresh_client.post("/v1/events", json=body, headers=keyed("k-40"))
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"


async def test_bulk_retry_replays_and_writes_no_new_versions(fresh_client):
    record_id = unique_id()
    payload = {"records": [{"id": record_id, **event()}]}
    first = await fresh_client.post("/v1/events/bulk", json=payload, headers=keyed("b-1"))
    again = await fresh_client.post("/v1/events/bulk", json=payload, headers=keyed("b-1"))
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["results"][0]["status"] == "created"
    assert again.headers["idempotent-replayed"] == "true"
    revisions = (await fresh_client.get(f"/v1/events/{record_id}/revisions")).json()["data"]
    assert len(revisions) == 1
