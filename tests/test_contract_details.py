"""Small points of the published contract: what a parameter, header or method answer means."""

import pytest

from tests.conftest import ADMIN, ADMIN_SECRET
from tests.factories import event, unique_id


@pytest.mark.parametrize("value", ["0.5", "0", "1700000000", "-1", "1e9"])
async def test_updated_since_is_a_date_time_not_a_unix_timestamp(client, value):
    r = await client.get("/v1/events", params={"updated_since": value})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["parameter"] for e in r.json()["errors"]] == ["updated_since"]


async def test_updated_since_still_takes_iso_8601(client):
    for value in ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00+03:00", "2026-01-01T00:00:00"):
        r = await client.get("/v1/events", params={"updated_since": value})
        assert r.status_code == 200, (value, r.text)


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("/v1/projects/bulk", {"POST"}),
        ("/v1/events/facets", {"GET"}),
        ("/v1/events/stats", {"GET"}),
        ("/v1/events/some-record", {"GET", "PUT", "PATCH", "DELETE"}),
    ],
)
async def test_allow_lists_only_what_the_path_serves(client, path, served):
    for method in ("OPTIONS", "TRACE"):
        r = await client.request(method, path, headers=ADMIN)
        assert r.status_code == 405
        assert set(r.headers["allow"].split(", ")) == served
    for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - served:
        r = await client.request(method, path, headers=ADMIN)
        assert r.status_code == 405, (method, path, r.status_code)
        assert set(r.headers["allow"].split(", ")) == served


async def test_a_url_longer_than_the_limit_is_a_414_problem(client):
    r = await client.get("/v1/events", params={"q": "silk", "pad": "x" * 10_000})
    assert r.status_code == 414
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 414 and r.json()["limit"] == 8192
    r = await client.get("/v1/events/" + "a" * 10_000)
    assert r.status_code == 414
    assert (await client.get("/v1/events", params={"q": "x" * 400})).status_code == 200


@pytest.mark.parametrize("suffix", ["\u00a0", "\u00a0\u00a0", "\x85", "\x0b"])
async def test_a_bearer_token_with_non_http_whitespace_is_refused(client, suffix):
    header = f"Bearer {ADMIN_SECRET}{suffix}".encode("latin-1")
    r = await client.get("/v1/keys", headers={"Authorization": header})
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"


async def test_a_bearer_token_with_http_whitespace_around_it_is_accepted(client):
    for header in (f"Bearer {ADMIN_SECRET} ", f"Bearer  {ADMIN_SECRET}\t"):
        r = await client.get("/v1/keys", headers={"Authorization": header})
        assert r.status_code == 200, (header, r.text)


async def test_if_match_with_a_list_applies_when_one_tag_is_current(client):
    rid = unique_id()
    path = f"/v1/events/{rid}"
    await client.put(path, json=event(), headers=ADMIN)
    await client.put(path, json=event(title="v2"), headers=ADMIN)  # now version 2
    r = await client.put(path, json=event(title="v3"), headers={**ADMIN, "If-Match": '"1", "2"'})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3
    stale = await client.put(
        path, json=event(title="v4"), headers={**ADMIN, "If-Match": '"1","2", W/"4"'}
    )
    assert stale.status_code == 412, stale.text
    patch = await client.patch(
        path,
        json={"title": "v4"},
        headers={**ADMIN, "If-Match": '"7", "3"', "Content-Type": "application/merge-patch+json"},
    )
    assert patch.status_code == 200, patch.text
    gone = await client.delete(path, headers={**ADMIN, "If-Match": '"2", "4"'})
    assert gone.status_code == 204
    restored = await client.post(
        f"{path}/revisions/1/restore", headers={**ADMIN, "If-Match": '"4", "5"'}
    )
    assert restored.status_code == 200, restored.text
    bad = await client.put(path, json=event(), headers={**ADMIN, "If-Match": '"1", abc'})
    assert bad.status_code == 422
