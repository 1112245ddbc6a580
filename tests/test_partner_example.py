"""The partner example client works against a real service: it pushes in bulk with idempotency
keys (a re-run replays), mirrors into a file, and resumes after being killed mid-way."""

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ADMIN
from tests.convergence import server_state
from tests.dbserver import ROOT
from tests.factories import event, project
from tests.service_process import services

CLIENT = [sys.executable, str(ROOT / "examples" / "partner_sync.py")]


def run_client(url: str, *args: str, key: str | None = None) -> str:
    env = {"PATH": "", **({"SRT_KEY": key} if key else {})}
    out = subprocess.run(
        [*CLIENT, "--url", url, *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_example_client_pushes_mirrors_and_resumes_after_a_kill(database_uri, tmp_path: Path):
    with services(database_uri, 1) as (url,), httpx.Client(base_url=url, timeout=30) as api:
        for _ in range(100):
            if api.get("/readyz").status_code == 200:
                break
            time.sleep(0.05)
        secret = api.post(
            "/v1/keys", json={"name": "partner-example", "role": "partner"}, headers=ADMIN
        ).json()["secret"]
        for n in range(15):
            api.put(f"/v1/events/seed-event-{n:02d}", json=event(), headers=ADMIN)
        mine = tmp_path / "mine.json"
        mine.write_text(
            json.dumps([{"id": f"example-cable-{n:03d}", **project()} for n in range(30)])
        )
        first = run_client(url, "push", "--collection", "projects", str(mine), key=secret)
        assert "30 created" in first and "replayed" not in first
        again = run_client(url, "push", "--collection", "projects", str(mine), key=secret)
        assert "(replayed)" in again

        state = tmp_path / "mirror.json"
        mirror = subprocess.Popen(
            [*CLIENT, "--url", url, "mirror", "--state", str(state), "--limit", "1"],
            stdout=subprocess.DEVNULL,
            env={"PATH": ""},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if state.exists() and len(json.loads(state.read_text())["records"]) >= 5:
                break
            time.sleep(0.02)
        mirror.kill()
        mirror.wait()
        held = len(json.loads(state.read_text())["records"])
        assert 5 <= held < 45  # interrupted part-way

        api.delete("/v1/projects/example-cable-003", headers=ADMIN)
        api.patch("/v1/events/seed-event-00", json={"summary": "Edited"}, headers=ADMIN)
        assert "up to date" in run_client(url, "mirror", "--state", str(state), "--limit", "7")

        mirrored = json.loads(state.read_text())
        server = {f"{c}/{i}": r for (c, i), r in _state(url).items()}
        assert mirrored["records"] == server
        assert "projects/example-cable-003" in mirrored["deleted"]


def _state(url: str) -> dict[tuple[str, str], dict[str, object]]:
    import asyncio

    async def read() -> dict[tuple[str, str], dict[str, object]]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            return await server_state(client)

    return asyncio.run(read())
