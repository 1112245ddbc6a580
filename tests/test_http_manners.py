"""HTTP manners for frontends and operators: CORS, gzip, caching, security headers,
request ids, structured logs and metrics."""

import gzip
import json
import logging

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import ValidationError

from service.logs import JsonFormatter
from service.main import create_app
from service.settings import Settings
from tests.conftest import ADMIN, ADMIN_SECRET, settings_for
from tests.factories import event, unique_id

ORIGIN = "https://explorer.example"


@pytest.fixture(scope="module")
async def cors_client(app_client):
    async with app_client(cors_origins=[ORIGIN], rate_limit_enabled=False) as c:
        yield c


async def test_preflight_allows_the_headers_writes_need(cors_client):
    r = await cors_client.options(
        "/v1/events/some-id",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, if-match, if-none-match, "
            "idempotency-key, content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ORIGIN
    allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
    assert {
        "authorization",
        "if-match",
        "if-none-match",
        "idempotency-key",
        "content-type",
    } <= allowed
    assert "PUT" in r.headers["access-control-allow-methods"]


async def test_preflight_from_another_origin_is_a_403_problem(cors_client):
    r = await cors_client.options(
        "/v1/events",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert "access-control-allow-origin" not in r.headers


async def test_answers_expose_the_headers_frontends_read(cors_client):
    rid = unique_id()
    r = await cors_client.put(
        f"/v1/events/{rid}", json=event(), headers={**ADMIN, "Origin": ORIGIN}
    )
    assert r.headers["access-control-allow-origin"] == ORIGIN
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "link", "location", "ratelimit", "ratelimit-policy", "x-request-id"} <= exposed
    error = await cors_client.get("/v1/events/no-such-id", headers={"Origin": ORIGIN})
    assert error.headers["access-control-allow-origin"] == ORIGIN  # errors are readable too


async def test_no_cors_headers_without_configured_origins(client):
    r = await client.get("/v1/events", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in r.headers


async def test_larger_answers_are_gzipped(cors_client):
    for _ in range(3):
        await cors_client.put(f"/v1/events/{unique_id()}", json=event(), headers=ADMIN)
    r = await cors_client.get("/v1/events", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.json()["data"]  # httpx decoded it
    small = await cors_client.get("/livez", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    async with cors_client.stream("GET", "/v1/events", headers={"Accept-Encoding": "gzip"}) as raw:
        compressed = b"".join([chunk async for chunk in raw.aiter_raw()])
    assert json.loads(gzip.decompress(compressed))["data"]


async def test_reads_are_revalidated_with_etags(client):
    rid = unique_id()
    await client.put(f"/v1/events/{rid}", json=event(), headers=ADMIN)
    r = await client.get(f"/v1/events/{rid}")
    assert r.headers["cache-control"] == "no-cache"
    again = await client.get(f"/v1/events/{rid}", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "no-cache"
    keyed = await client.get(f"/v1/events/{rid}", headers=ADMIN)
    assert keyed.headers["cache-control"] == "private, no-cache"
    write = await client.put(f"/v1/events/{rid}", json=event(title="New"), headers=ADMIN)
    assert write.headers["cache-control"] == "no-store"
    assert (await client.get("/v1/nowhere")).headers["cache-control"] == "no-store"


async def test_security_headers_on_every_answer(client):
    for path in ("/v1/events", "/v1/nowhere", "/livez"):
        r = await client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["content-security-policy"].startswith("default-src 'none'")
    docs = await client.get("/docs")
    assert "content-security-policy" not in docs.headers  # Swagger UI runs scripts


async def test_request_id_is_echoed_or_generated(client):
    given = await client.get("/v1/vocab", headers={"X-Request-ID": "frontend-42.a"})
    assert given.headers["x-request-id"] == "frontend-42.a"
    made = await client.get("/v1/vocab")
    assert len(made.headers["x-request-id"]) == 32
    unsafe = await client.get("/v1/vocab", headers={"X-Request-ID": "x" * 300})
    assert unsafe.headers["x-request-id"] != "x" * 300


async def test_one_json_log_line_per_request_without_secrets(client, caplog):
    caplog.set_level(logging.INFO, logger="service.access")
    rid = unique_id()
    await client.put(
        f"/v1/events/{rid}", json=event(), headers={**ADMIN, "X-Request-ID": "trace-me"}
    )
    [record] = [r for r in caplog.records if getattr(r, "request_id", None) == "trace-me"]
    line = JsonFormatter().format(record)
    assert "\n" not in line
    doc = json.loads(line)
    assert doc["msg"] == "request"
    assert doc["method"] == "PUT"
    assert doc["route"] == "/v1/events/{record_id}"
    assert doc["status"] == 201
    assert doc["principal"] == "bootstrap-admin"
    assert doc["duration_ms"] >= 0
    assert ADMIN_SECRET not in line and "authorization" not in line.lower()


async def test_metrics_count_requests_latency_and_database_errors(client):
    await client.get("/v1/vocab")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'http_requests_total{method="GET",route="/v1/vocab",status="200"}' in text
    assert 'http_request_duration_seconds_bucket{le="0.05",method="GET",route="/v1/vocab"}' in text
    assert "# TYPE db_errors_total counter" in text


async def test_an_unexpected_error_is_a_problem_with_every_header(database_uri):
    """A bug (an exception no handler expects) still passes through the HTTP stack."""
    app = create_app(settings_for(database_uri))

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/broken", broken)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            r = await c.get("/v1/broken", headers={"X-Request-ID": "bug-report-1"})
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "a bug" not in r.text
    assert r.headers["x-request-id"] == "bug-report-1"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_rate_limits_without_an_anonymous_entry_are_refused_at_start():
    with pytest.raises(ValidationError, match="anonymous"):
        Settings(rate_limits={"admin": 100, "editor": 100, "partner": 100, "reader": 100})


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, if-match, content-type",
    }


LOOPBACK = [
    "http://localhost:5173",
    "http://127.0.0.1:3000",
    "http://[::1]:8080",
    "http://localhost",
    "https://localhost:8443",
]
NOT_LOOPBACK = [
    "https://evil.example",
    "http://localhost.evil.example",
    "http://127.0.0.1.evil.example",
    "http://evil.example/http://localhost:3000",
    "http://127.0.0.2:3000",
    "file://",
]


async def test_a_service_on_loopback_allows_loopback_origins_on_any_port(app_client):
    async with app_client(host="127.0.0.1", rate_limit_enabled=False) as c:
        for origin in LOOPBACK:
            r = await c.options("/v1/events/some-id", headers=_preflight(origin))
            assert r.status_code == 200, (origin, r.text)
            assert r.headers["access-control-allow-origin"] == origin
            listed = await c.get("/v1/events", headers={"Origin": origin})
            assert listed.headers["access-control-allow-origin"] == origin
        for origin in NOT_LOOPBACK:
            r = await c.options("/v1/events", headers=_preflight(origin))
            assert r.status_code == 403, origin
            assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize(
    ("settings", "allowed"),
    [
        ({"host": "0.0.0.0"}, False),  # reachable from other machines: only the listed origins
        ({"host": "192.0.2.10"}, False),  # one interface, not loopback
        ({"host": "::1"}, True),
        ({"host": "localhost"}, True),
        ({"host": "127.0.0.1", "cors_loopback": False}, False),
        ({"host": "0.0.0.0", "cors_loopback": True}, True),
    ],
)
async def test_loopback_origins_follow_the_listening_address(app_client, settings, allowed):
    async with app_client(cors_origins=[ORIGIN], rate_limit_enabled=False, **settings) as c:
        r = await c.options("/v1/events", headers=_preflight("http://localhost:5173"))
        assert (r.status_code == 200) is allowed
        listed = await c.options("/v1/events", headers=_preflight(ORIGIN))
        assert listed.headers["access-control-allow-origin"] == ORIGIN  # listed ones always


def test_the_listening_address_comes_from_host(monkeypatch):
    monkeypatch.setenv("HOST", "127.0.0.1")
    assert Settings().host == "127.0.0.1"
    monkeypatch.setenv("CORS_LOOPBACK", "false")
    assert Settings().cors_loopback is False
