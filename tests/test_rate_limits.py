"""Rate limits per principal, with RateLimit headers on every answer and 429 past the limit."""

import httpx
import pytest

from tests.conftest import ADMIN
from tests.factories import event, unique_id

LIMITS = {"anonymous": 3, "reader": 5, "partner": 5, "editor": 5, "admin": 5}


@pytest.fixture
async def limited(app_client):
    async with app_client(rate_limits=LIMITS, rate_limit_window_s=60) as c:
        yield c


async def test_every_answer_carries_the_policy_and_what_remains(limited):
    ok = await limited.get("/v1/events")
    missing = await limited.get("/v1/events/no-such-record")
    assert (ok.status_code, missing.status_code) == (200, 404)
    assert ok.headers["ratelimit-policy"] == '"anonymous";q=3;w=60'
    first, second = _remaining(ok), _remaining(missing)
    assert first[0] == 2
    # The 404 counts too, in the same fixed window unless a window boundary fell between.
    assert second[0] == (1 if second[1] <= first[1] else 2)


def _remaining(response: httpx.Response) -> tuple[int, int]:
    """(requests remaining, seconds to the window's end) from a `RateLimit` header."""
    policy, remaining, reset = response.headers["ratelimit"].split(";")
    assert policy == '"anonymous"'
    return int(remaining.removeprefix("r=")), int(reset.removeprefix("t="))


async def test_past_the_limit_is_429_with_retry_after(limited):
    for _ in range(3):
        assert (await limited.get("/v1/vocab")).status_code == 200
    r = await limited.get("/v1/vocab")
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/problem+json"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert r.headers["ratelimit"].startswith('"anonymous";r=0;')


async def test_limits_are_per_principal_and_per_role(limited):
    for _ in range(4):
        await limited.get("/v1/events")  # anonymous is exhausted
    assert (await limited.get("/v1/events")).status_code == 429
    r = await limited.put(f"/v1/events/{unique_id()}", json=event(), headers=ADMIN)
    assert r.status_code == 201
    assert r.headers["ratelimit-policy"] == '"admin";q=5;w=60'
    assert r.headers["ratelimit"].startswith('"admin";r=4;')


async def test_bad_keys_count_against_the_client_address(limited):
    for _ in range(3):
        r = await limited.get("/v1/events", headers={"Authorization": "Bearer guess"})
        assert r.status_code == 401
    r = await limited.get("/v1/events", headers={"Authorization": "Bearer guess"})
    assert r.status_code == 429


async def test_probes_and_metrics_are_never_limited(limited):
    for _ in range(10):
        assert (await limited.get("/livez")).status_code == 200
    assert "ratelimit" not in (await limited.get("/livez")).headers


async def test_processes_setting_divides_the_limit(app_client):
    async with app_client(rate_limits={"anonymous": 10}, rate_limit_processes=2) as c:
        r = await c.get("/v1/vocab")
        assert r.headers["ratelimit-policy"] == '"anonymous";q=5;w=60'


async def test_rate_limits_can_be_switched_off(app_client):
    async with app_client(rate_limit_enabled=False) as c:
        r = await c.get("/v1/vocab")
        assert "ratelimit" not in r.headers
