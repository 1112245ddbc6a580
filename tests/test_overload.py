"""Overload: heavy reads beyond the per-process gate are shed with a fast 503, every query
carries a server-side time limit, and, black-box, the service as a real process sent lists at
twice the rate it can sustain sheds the excess instead of queueing it, keeps the requests it
lets in fast, and is itself again the moment the load stops.

Figures are printed (`pytest -s -m faults tests/test_overload.py`) for the README.
"""

import asyncio
import time
import uuid
from collections import Counter

import httpx
import pytest
from pymongo import monitoring

from tests.conftest import ADMIN, AppClient
from tests.factories import event
from tests.service_process import ServiceProcess


class Commands(monitoring.CommandListener):
    """Records the commands sent to the database while armed (registered once, globally:
    pymongo has no way to unregister a listener)."""

    armed = False
    seen: list[dict[str, object]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if Commands.armed:
            Commands.seen.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


monitoring.register(Commands())


async def test_every_query_reaches_the_server_with_a_time_limit(app_client: AppClient):
    async with app_client(db_query_timeout_ms=1200) as client:
        await client.put("/v1/events/limited", json=event(), headers=ADMIN)
        Commands.armed = True
        try:
            assert (await client.get("/v1/events?limit=5&count=exact")).status_code == 200
            assert (await client.get("/v1/events/limited")).status_code == 200
        finally:
            Commands.armed = False
        metrics = (await client.get("/metrics")).text
    sent = [c for c in Commands.seen if next(iter(c)) in ("find", "aggregate", "count")]
    assert len(sent) >= 2
    assert all(0 < int(str(c["maxTimeMS"])) <= 1200 for c in sent), sent
    assert "db_query_time_limit_seconds 1.2" in metrics


async def test_heavy_reads_beyond_the_gate_are_shed_at_once(app_client: AppClient):
    async with app_client(db_heavy_reads=1, db_heavy_read_wait_ms=0) as client:
        await client.put("/v1/events/gated", json=event(), headers=ADMIN)
        started = time.monotonic()
        answers = await asyncio.gather(*(client.get("/v1/events") for _ in range(12)))
        took = time.monotonic() - started
        metrics = (await client.get("/metrics")).text
    statuses = Counter(r.status_code for r in answers)
    assert statuses[200] >= 1 and statuses[503] >= 1 and set(statuses) == {200, 503}, statuses
    shed = [r for r in answers if r.status_code == 503]
    assert all(r.headers["retry-after"] == "1" for r in shed)
    assert all(r.headers["content-type"] == "application/problem+json" for r in shed)
    assert took < 2.0
    assert f"db_heavy_reads_shed_total {float(statuses[503])}" in metrics
    assert "db_heavy_reads_limit 1.0" in metrics and "db_heavy_reads_in_flight 0.0" in metrics


RECORDS = 3000
URL = "/v1/events?limit=20"
#: How long a client waits for an answer before giving up (the requests' timeout).
CLIENT_TIMEOUT = 5.0


def seed(client: httpx.Client) -> None:
    for start in range(0, RECORDS, 1000):
        records = [
            {
                "id": f"load-{i:05d}",
                **event(title=f"Forum {i}", start={"value": str(1990 + i % 36)}),
            }
            for i in range(start, start + 1000)
        ]
        r = client.post("/v1/events/bulk", json={"records": records}, headers=ADMIN, timeout=120)
        assert r.status_code == 200, r.text


async def capacity(base: str, seconds: float = 4.0, connections: int = 4) -> float:
    """Lists answered per second by a few clients that each send the next at once."""
    done = 0
    async with httpx.AsyncClient(base_url=base, timeout=CLIENT_TIMEOUT) as client:
        deadline = time.monotonic() + seconds

        async def loop() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                if (await client.get(URL)).status_code == 200:
                    done += 1

        await asyncio.gather(*(loop() for _ in range(connections)))
    return done / seconds


async def open_loop(base: str, rate: float, seconds: float) -> list[tuple[str, float, bool]]:
    """Send `rate` requests a second for `seconds`, whatever the answers (as independent
    clients do); each outcome is (status or error, seconds to answer, has Retry-After)."""
    outcomes: list[tuple[str, float, bool]] = []
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=base, timeout=CLIENT_TIMEOUT, limits=limits) as client:

        async def one() -> None:
            started = time.monotonic()
            try:
                r = await client.get(URL)
                outcome = str(r.status_code)
                retry_after = bool(r.headers.get("retry-after"))
            except httpx.HTTPError as exc:
                outcome, retry_after = type(exc).__name__, False
            outcomes.append((outcome, time.monotonic() - started, retry_after))

        tasks = []
        began = time.monotonic()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, began + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return outcomes


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


@pytest.mark.faults
def test_twice_the_sustainable_rate_is_shed_not_queued(database_uri):
    service = ServiceProcess(
        database_uri, f"overload_{uuid.uuid4().hex[:6]}", rate_limit_enabled="false"
    )
    service.start()
    try:
        with httpx.Client(base_url=service.url) as client:
            seed(client)
        sustainable = asyncio.run(capacity(service.url))
        rate = 2 * sustainable
        outcomes = asyncio.run(open_loop(service.url, rate, seconds=10))
        with httpx.Client(base_url=service.url, timeout=CLIENT_TIMEOUT) as client:
            started = time.monotonic()
            after = client.get(URL)
            after_took = time.monotonic() - started
            metrics = client.get("/metrics").text
    finally:
        service.stop()
    statuses = Counter(o for o, _, _ in outcomes)
    ok = [took for o, took, _ in outcomes if o == "200"]
    shed = [took for o, took, _ in outcomes if o == "503"]
    print(
        f"\nlists at 2x the sustainable rate: sustainable {sustainable:.1f}/s, sent "
        f"{rate:.1f}/s for 10 s; {dict(statuses)}; p99 of 200s "
        f"{p99(ok) if ok else float('nan'):.2f} s, slowest 503 "
        f"{max(shed) if shed else float('nan'):.2f} s; right after the load a list took "
        f"{after_took:.2f} s ({after.status_code})"
    )
    assert set(statuses) <= {"200", "503"}, statuses  # every request answered in time
    assert all(retry for o, _, retry in outcomes if o == "503")
    assert ok and p99(ok) < 1.0, p99(ok)
    assert after.status_code == 200 and after_took < 1.0
    assert "db_heavy_reads_shed_total" in metrics and "db_heavy_reads_in_flight" in metrics
    assert "db_query_time_limit_seconds 1.0" in metrics
