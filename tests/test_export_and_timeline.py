"""Export (NDJSON and CSV, streamed) and a country's timeline."""

import csv
import io
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest

from service.records.routes.export_format import csv_lines
from tests.conftest import ADMIN
from tests.dataset import EVENTS, PROJECTS, M
from tests.factories import project, unique_id


async def test_ndjson_export_streams_every_matching_record(seeded):
    r = await seeded.get("/v1/projects/export", params={"format": "ndjson"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="projects-') and disposition.endswith(
        '.ndjson"'
    )
    records = [orjson.loads(line) for line in r.text.splitlines()]
    assert [rec["id"] for rec in records] == sorted(PROJECTS)  # tombstone left out
    one = next(rec for rec in records if rec["id"] == "p-cable-pak")
    assert one == (await seeded.get("/v1/projects/p-cable-pak")).json()


async def test_export_applies_the_filters(seeded):
    r = await seeded.get("/v1/projects/export", params={"kind": "cable", "q": "cable"})
    assert [orjson.loads(line)["id"] for line in r.text.splitlines()] == [
        "p-cable-2",
        "p-cable-pak",
    ]
    r = await seeded.get("/v1/events/export", params={"country": "KEN"})
    assert [orjson.loads(line)["id"] for line in r.text.splitlines()] == ["e-agreement-2018"]


async def test_csv_export_flattens_lists_and_has_a_header(seeded):
    r = await seeded.get("/v1/projects/export", params={"format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id"] for row in rows] == sorted(PROJECTS)
    pak = next(row for row in rows if row["id"] == "p-cable-pak")
    assert pak["countries"] == "PAK;CHN"
    assert pak["country_codes"] == "CHN;PAK"
    assert pak["usd"] == str(44 * M)
    assert pak["organisations"] == "Huawei"
    assert pak["usd_lower_bound"] == "false"
    assert pak["sources"] == "https://example.org/article"
    undated = next(row for row in rows if row["id"] == "p-undated")
    assert undated["year"] == "" and undated["usd"] == ""


async def test_events_csv_has_event_columns(seeded):
    r = await seeded.get("/v1/events/export", params={"format": "csv", "kind": "forum"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1
    assert rows[0]["start.value"] == "2017-05-14"
    assert rows[0]["tags"] == "brf"


async def test_csv_of_nothing_is_just_the_header(seeded):
    r = await seeded.get("/v1/projects/export", params={"format": "csv", "country": "FRA"})
    assert r.text.count("\r\n") == 1 and r.text.startswith("id,version,title")


async def test_export_with_a_bad_format_or_filter_is_422(seeded):
    assert (await seeded.get("/v1/projects/export", params={"format": "xlsx"})).status_code == 422
    assert (await seeded.get("/v1/projects/export", params={"country": "$gt"})).status_code == 422
    assert (await seeded.get("/v1/projects/export", params={"limit": 5})).status_code == 422


async def test_csv_is_written_in_chunks_as_records_arrive():
    async def records(n: int) -> AsyncIterator[dict[str, object]]:
        for i in range(n):
            yield {"id": f"r-{i}", "countries": [{"code": "CHN"}], "usd": i}

    chunks = [c async for c in csv_lines(records(450), ["id", "countries", "usd"])]
    assert len(chunks) == 3  # 200 rows per chunk: memory stays flat however many records
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert rows[0] == ["id", "countries", "usd"] and rows[450] == ["r-449", "CHN", "449"]


async def test_timeline_merges_events_and_projects_in_date_order(seeded):
    r = await seeded.get("/v1/countries/PAK/timeline")
    assert r.status_code == 200
    data = r.json()["data"]
    assert [(d["collection"], d["id"], d["date"]) for d in data] == [
        ("events", "e-summit-2015", "2015-04"),
        ("projects", "p-cable-pak", "2016-05"),
        ("events", "e-forum-2017", "2017-05-14"),
    ]
    assert data[1]["usd"] == 44 * M and data[1]["status"] == "completed"


async def test_timeline_year_range_and_undated_last(seeded):
    r = await seeded.get("/v1/countries/CHN/timeline", params={"year_from": 2017, "year_to": 2018})
    assert [d["id"] for d in r.json()["data"]] == ["e-forum-2017", "p-lab-ken", "e-agreement-2018"]
    everything = (await seeded.get("/v1/countries/CHN/timeline")).json()["data"]
    assert everything[-1]["id"] == "p-undated" and everything[-1]["date"] is None
    chn = {rid for rid, body in {**PROJECTS, **EVENTS}.items() if "CHN" in str(body["countries"])}
    assert {d["id"] for d in everything} == chn


@pytest.mark.parametrize("code", ["XXX", "pak", "$gt", "PAKI"])
async def test_timeline_of_a_non_country_is_422(seeded, code):
    assert (await seeded.get(f"/v1/countries/{code}/timeline")).status_code == 422


async def test_timeline_refuses_unknown_parameters(seeded):
    assert (await seeded.get("/v1/countries/PAK/timeline?kind=forum")).status_code == 422


async def test_indexes_for_filters_and_sorts_exist_at_start(app_client, database_uri):
    from pymongo import AsyncMongoClient

    from service.projects.resource import PROJECTS
    from service.records.storage.indexes import indexes

    name = f"test_idx_{uuid.uuid4().hex[:8]}"
    async with app_client(database=name):
        mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(database_uri)
        try:
            found = [dict(i["key"]) async for i in await mongo[name]["projects"].list_indexes()]
        finally:
            await mongo.close()
    for keys in indexes(PROJECTS):
        assert dict(keys) in found


def test_no_index_holds_two_array_fields():
    from service.events.resource import EVENTS
    from service.projects.resource import PROJECTS
    from service.records.storage.indexes import indexes

    arrays = {"country_codes", "sectors", "tags", "_orgs", "_terms", "_currencies"}
    for resource in (EVENTS, PROJECTS):
        for keys in indexes(resource):
            assert len({k for k, _ in keys} & arrays) <= 1, keys


async def test_csv_cells_that_a_spreadsheet_would_run_are_defused(client):
    rid = unique_id("csv")
    r = await client.put(
        f"/v1/projects/{rid}", json=project(title='=HYPERLINK("http://x")'), headers=ADMIN
    )
    assert r.status_code == 201
    csv_text = (await client.get("/v1/projects/export", params={"format": "csv"})).text
    line = next(line for line in csv_text.splitlines() if line.startswith(rid))
    assert "'=HYPERLINK" in line


async def test_route_names_are_reserved_as_ids(client):
    for name in ("facets", "stats", "export", "bulk"):
        r = await client.put(f"/v1/projects/{name}", json=project(), headers=ADMIN)
        assert r.status_code in (405, 422), (name, r.status_code)
