"""Errors are problem documents everywhere; writes need a key; health endpoints."""

import subprocess
import sys

import pytest

from tests.conftest import ADMIN
from tests.factories import event, unique_id


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/v1/nowhere", 404), ("DELETE", "/v1/vocab", 405), ("GET", "/v1/events/AB", 422)],
)
async def test_routing_errors_are_problem_documents(client, method, path, status):
    r = await client.request(method, path)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == status
    assert "Traceback" not in r.text


async def test_write_without_key_is_401_with_www_authenticate(client):
    r = await client.post("/v1/events", json=event())
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_bad_key_is_401_even_for_reads(client):
    r = await client.get("/v1/events", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


async def test_anonymous_reads_are_on_by_default(client):
    assert (await client.get("/v1/events")).status_code == 200


async def test_anonymous_reads_can_be_switched_off(app_client):
    async with app_client(anonymous_reads=False) as c:
        assert (await c.get("/v1/events")).status_code == 401
        assert (await c.get("/v1/events", headers=ADMIN)).status_code == 200


async def test_bootstrap_admin_key_can_write(client):
    r = await client.put(f"/v1/events/{unique_id()}", json=event(), headers=ADMIN)
    assert r.status_code == 201


async def test_cli_creates_a_key_whose_secret_is_the_last_line(app_client, database_uri):
    env_db = "cli_keys_" + unique_id().replace("-", "_")
    out = subprocess.run(
        [sys.executable, "-m", "service", "keys", "create", "--name", "analyst", "--role", "admin"],
        env={"MONGODB_URI": database_uri, "DATABASE": env_db, "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    secret = out.stdout.strip().splitlines()[-1]
    assert secret.startswith("srt_") and len(secret) > 40
    async with app_client(database=env_db) as c:
        r = await c.put(
            f"/v1/events/{unique_id()}",
            json=event(),
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert r.status_code == 201
        assert r.json()["owner"] == "analyst"


async def test_livez_and_readyz(client):
    assert (await client.get("/livez")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200


async def test_vocab_publishes_every_coded_field(client):
    vocab = (await client.get("/v1/vocab")).json()
    assert {"code": "EUU", "name": "European Union"} in vocab["countries"]
    assert "telecom" in {s["code"] for s in vocab["sectors"]}
    assert "concern-raised" in vocab["dual_use_levels"]


async def test_405_names_every_method_the_path_allows(client):
    r = await client.request("OPTIONS", "/v1/events/some-record")
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "PUT", "PATCH", "DELETE"}
