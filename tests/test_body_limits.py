"""Who may make the service read a body, and how much: the key is checked before a byte of
the body is read, and the large limit belongs to the bulk routes and the roles that may use
them, not to any path that ends in `/bulk`."""

import json
from collections.abc import AsyncIterator

import pytest

from tests.conftest import ADMIN
from tests.factories import event, issue_key, project, unique_id

JSON = {"content-type": "application/json"}
CHUNK = b" " * 65_536


class Endless:
    """A body streamed without Content-Length that counts how much of it the service read."""

    def __init__(self, chunks: int = 260) -> None:  # 16 MiB if it were all read
        self.chunks = chunks
        self.produced = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"records": ['
        for _ in range(self.chunks):
            self.produced += 1
            yield CHUNK


@pytest.fixture
async def small(app_client):
    """Limits small enough to cross in a test: 2,000 bytes, 8,000 for bulk."""
    async with app_client(max_body_bytes=2000, max_bulk_body_bytes=8000) as c:
        yield c


async def test_anonymous_bulk_body_is_401_before_it_is_read(client):
    body = Endless()
    r = await client.post("/v1/projects/bulk", content=body, headers=JSON)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"] == "application/problem+json"
    assert body.produced <= 1, f"read {body.produced} chunks of 64 KiB before refusing"


async def test_anonymous_record_body_is_401_before_it_is_read(client):
    body = Endless(chunks=16)  # 1 MiB
    r = await client.post("/v1/projects", content=body, headers=JSON)
    assert r.status_code == 401
    assert body.produced <= 1


async def test_bad_key_is_401_before_the_body_is_read(client):
    body = Endless()
    headers = {**JSON, "Authorization": "Bearer srt_not-a-key"}
    r = await client.post("/v1/events/bulk", content=body, headers=headers)
    assert r.status_code == 401
    assert body.produced <= 1


async def test_reader_is_403_before_a_bulk_body_is_read(client):
    reader = await issue_key(client, unique_id("reader"), "reader")
    body = Endless()
    r = await client.post("/v1/events/bulk", content=body, headers={**JSON, **reader})
    assert r.status_code == 403
    assert body.produced <= 1


async def test_keys_api_body_from_a_non_admin_is_403_unread(client):
    editor = await issue_key(client, unique_id("editor"), "editor")
    body = Endless(chunks=16)
    r = await client.post("/v1/keys", content=body, headers={**JSON, **editor})
    assert r.status_code == 403
    assert body.produced <= 1


async def test_anonymous_oversized_bulk_is_401_not_413(small):
    """The caller learns nothing about limits, and the service reads nothing, without a key."""
    big = json.dumps({"records": [{"id": "x", **event(summary="x" * 9000)}]}).encode()
    r = await small.post("/v1/events/bulk", content=big, headers=JSON)
    assert r.status_code == 401


async def test_writers_have_the_bulk_limit_on_the_bulk_routes(small):
    partner = await issue_key(small, unique_id("partner"), "partner")
    for headers in (ADMIN, partner):
        record = {"id": unique_id(), **project(summary="p" * 3000)}
        body = json.dumps({"records": [record]}).encode()
        assert 2000 < len(body) <= 8000
        r = await small.post("/v1/projects/bulk", content=body, headers={**JSON, **headers})
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["status"] == "created"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v1/events/bulk"),  # a record whose id is `bulk`: not the bulk route
        ("PATCH", "/v1/projects/bulk"),
        ("POST", "/v1/nothing/bulk"),  # no such route
        ("POST", "/v1/events/some-id/bulk"),
    ],
)
async def test_paths_ending_in_bulk_that_are_not_the_bulk_route_get_the_small_limit(
    small, method, path
):
    body = json.dumps({"records": [], **event(summary="x" * 3000)}).encode()
    assert 2000 < len(body) <= 8000
    r = await small.request(method, path, content=body, headers={**JSON, **ADMIN})
    assert r.status_code == 413, r.text
    assert r.json()["limit"] == 2000
