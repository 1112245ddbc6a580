"""The benchmark's raw twin (bench/twin.py) answers the same bytes as the service.

The benchmark compares the two only while it runs; this keeps the twin honest in between.
Both serve one small bench dataset on a database of their own, with the same cursor secret,
and every fixed GET workload with a twin must answer 200 with identical bodies.
"""

import uuid
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from bench import dataset, twin
from bench.workloads import WORKLOADS
from tests.conftest import AppClient, settings_for

#: Large enough that `status=ongoing` (29), `q=digital cable` (49) and the changes feed
#: (200, pages of 100) all have a second page; small enough to load in a moment.
COUNT = 200
#: What the benchmark sends: no Accept-Encoding, so the service's gzip never applies.
IDENTITY = {"Accept-Encoding": "identity"}


def fixed_workloads() -> dict[str, tuple[str, str]]:
    """(service path, twin path) of each fixed GET workload with a twin, by workload name."""
    out: dict[str, tuple[str, str]] = {}
    for w in WORKLOADS:
        if w.twin is None or w.kind != "wrk" or w.service.script != "fixed":
            continue
        paths = (w.service.path, w.twin.path)
        # livez needs no database (constant bytes); list_10k asks what list asks.
        if w.service.method == "GET" and w.name != "livez" and paths not in out.values():
            out[w.name] = paths
    return out


FIXED = fixed_workloads()
#: The by_id workloads' script prefixes, with a few ids of the dataset.
BY_ID = {
    f"get_by_id/{i:06d}": ("/v1/projects/proj-", "/raw/projects/proj-", f"{i:06d}")
    for i in (0, 7, COUNT - 1)
}
#: How each paged workload is followed: the query parameter that takes the previous `next`.
FOLLOW = {"search": "cursor", "changes": "since"}

Pair = tuple[httpx.AsyncClient, httpx.AsyncClient]


@pytest.fixture(scope="module")
async def pair(database_uri: str, app_client: AppClient) -> AsyncIterator[Pair]:
    """(service, twin) clients on one bench dataset."""
    database = f"test_twin_{uuid.uuid4().hex[:10]}"
    await dataset.ensure(database_uri, database, COUNT, log=lambda _: None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MONGODB_URI", database_uri)
        mp.setenv("DATABASE", database)
        # The secret the service gets from the suite's settings: cursors must match.
        mp.setenv("CURSOR_SECRET", settings_for(database_uri, database).cursor_secret)
        app = twin.create_app()
    async with (
        app_client(database) as service,
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://twin", headers=IDENTITY
        ) as raw,
    ):
        service.headers.update(IDENTITY)
        yield service, raw


async def both(pair: Pair, service_path: str, twin_path: str) -> bytes:
    service, raw = pair
    s, t = await service.get(service_path), await raw.get(twin_path)
    assert (s.status_code, t.status_code) == (200, 200), (s.text, t.text)
    assert s.content == t.content, f"{service_path} and {twin_path} differ"
    return s.content


def test_every_fixed_workload_is_covered():
    assert set(FIXED) >= {"list", "search", "facets", "stats", "changes"}


@pytest.mark.parametrize("name", sorted(FIXED))
async def test_twin_answers_the_service_bytes(pair, name):
    service_path, twin_path = FIXED[name]
    body = orjson.loads(await both(pair, service_path, twin_path))
    if name in ("list", "search"):
        assert body["data"] and body["next"], "the page is not full: the test proves little"
    if name == "changes":
        assert body["changes"] and body["more"]
    if name in FOLLOW:  # the list twin serves first pages only, and compares its `next` above
        token = body.get("next")
        assert token
        after = f"&{FOLLOW[name]}={token}"
        await both(pair, service_path + after, twin_path + after)


@pytest.mark.parametrize("name", sorted(BY_ID))
async def test_twin_answers_the_service_bytes_by_id(pair, name):
    service_prefix, twin_prefix, index = BY_ID[name]
    await both(pair, service_prefix + index, twin_prefix + index)
