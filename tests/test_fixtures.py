"""The seed fixtures load completely, idempotently, and keep money as the source gave it."""

import subprocess
import sys

from service.fixtures import fixture_files
from tests.factories import unique_id


def load(uri: str, database: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "service", "fixtures", "load"],
        env={"MONGODB_URI": uri, "DATABASE": database, "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


async def test_fixtures_load_idempotently_and_serve(app_client, database_uri):
    database = "fixtures_" + unique_id().replace("-", "_")
    total = len(list(fixture_files()))
    assert f"{total} created" in load(database_uri, database)
    assert f"{total} unchanged" in load(database_uri, database)  # no new versions

    async with app_client(database=database) as c:
        projects = (await c.get("/v1/projects", params={"limit": 200})).json()["data"]
        events = (await c.get("/v1/events", params={"limit": 200})).json()["data"]
        assert len(projects) + len(events) == total
        assert all(r["version"] == 1 for r in projects + events)

        fibre = (await c.get("/v1/projects/dsr-fibre-telecom")).json()
        item = fibre["funding"][0]
        assert (item["amount"], item["qualifier"]) == (7_000_000_000, "at-least")
        assert fibre["usd_lower_bound"] is True

        smart = (await c.get("/v1/projects/dsr-smart-safe-city")).json()
        assert smart["funding"][0]["amount"] is None  # words only: "several hundred million"

        forum = (await c.get("/v1/events/belt-and-road-forum-2017")).json()
        assert forum["start"]["value"].startswith("2017-05")
        assert any("2016" in c["description"] for c in forum["quality"]["conflicts"])
