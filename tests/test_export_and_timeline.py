"""Export (NDJSON and CSV, streamed) and a country's timeline."""

import csv
import io
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest

from service.events.resource import EVENTS as EVENT_RESOURCE
from service.projects.resource import PROJECTS as PROJECT_RESOURCE
from service.records.routes.csv_columns import COLUMNS, FUNDING_COLUMNS
from service.records.routes.export_format import csv_lines
from tests.conftest import ADMIN
from tests.dataset import EVENTS, PROJECTS, M
from tests.factories import project, unique_id


async def test_ndjson_export_streams_every_matching_record(seeded):
    r = await seeded.get("/v1/projects/export", params={"format": "ndjson", "sort": "id"})
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
    r = await seeded.get(
        "/v1/projects/export", params={"kind": "cable", "q": "cable", "sort": "id"}
    )
    assert [orjson.loads(line)["id"] for line in r.text.splitlines()] == [
        "p-cable-2",
        "p-cable-pak",
    ]
    r = await seeded.get("/v1/events/export", params={"country": "KEN"})
    assert [orjson.loads(line)["id"] for line in r.text.splitlines()] == ["e-agreement-2018"]


async def test_csv_export_flattens_lists_and_has_a_header(seeded):
    r = await seeded.get("/v1/projects/export", params={"format": "csv", "sort": "id"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id"] for row in rows] == sorted(PROJECTS)
    pak = next(row for row in rows if row["id"] == "p-cable-pak")
    assert pak["countries"] == "PAK:host;CHN:financier"
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
    assert rows[0]["start"] == "2017-05-14"
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
            yield {"id": f"r-{i}", "countries": [{"code": "CHN", "role": "host"}], "usd": i}

    chunks = [c async for c in csv_lines(records(450), ["id", "countries", "usd"])]
    assert len(chunks) == 3  # 200 rows per chunk: memory stays flat however many records
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert rows[0] == ["id", "countries", "usd"] and rows[450] == ["r-449", "CHN:host", "449"]


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


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_rows_carry_what_an_analyst_needs(client):
    rid, parent = unique_id("csv-full"), unique_id("csv-parent")
    body = project(
        dates={
            "announced": {"value": "2013", "text": "autumn 2013", "estimated": True},
            "signed": {"value": "2014-05", "text": "May 2014"},
        },
        countries=[{"code": "CHN", "role": "financier"}, {"code": "KEN", "role": "recipient"}],
        funding=[
            {
                "amount": 5 * M,
                "currency": "USD",
                "kind": "estimate",
                "text": "an overlap",
                "recommended_for_aggregates": False,
            },
            {
                "amount": 200 * M,
                "currency": "CNY",
                "qualifier": "approx",
                "kind": "loan",
                "period": "annual",
                "year": 2018,
                "text": "some 200 million yuan a year",
            },
        ],
        quality={
            "confidence": "low",
            "conflicts": [
                {"field": "funding", "description": "Two amounts"},
                {"field": "signed", "description": "Another month"},
            ],
        },
        parent_id=parent,
        umbrella_ids=["digital-silk-road", "belt-and-road-initiative"],
        sources=[
            {"url": "https://a.example/1", "title": "One"},
            {"url": "https://b.example/2", "title": "Two"},
        ],
    )
    served = await client.put(f"/v1/projects/{rid}", json=body, headers=ADMIN)
    assert served.status_code == 201
    record = served.json()
    rows = read_csv((await client.get("/v1/projects/export?format=csv")).text)
    row = next(r for r in rows if r["id"] == rid)
    loan = record["funding"][1]  # the first item recommended for aggregates is the headline
    assert loan["usd_derived"] is True and loan["usd"] > 0
    assert (row["amount"], row["currency"], row["amount_qualifier"]) == (
        str(200 * M),
        "CNY",
        "approx",
    )
    assert (row["amount_kind"], row["amount_period"], row["amount_year"]) == (
        "loan",
        "annual",
        "2018",
    )
    assert row["amount_text"] == "some 200 million yuan a year"
    assert (row["amount_usd"], row["amount_usd_derived"]) == (str(loan["usd"]), "true")
    assert (row["funding_items"], row["usd"]) == ("2", str(record["usd"]))
    assert row["recommended_for_aggregates"] == "true"
    assert (row["announced"], row["announced_text"], row["announced_estimated"]) == (
        "2013",
        "autumn 2013",
        "true",
    )
    assert (row["signed"], row["signed_text"], row["signed_estimated"]) == (
        "2014-05",
        "May 2014",
        "false",
    )
    assert (row["started"], row["started_text"], row["started_estimated"]) == ("", "", "")
    assert (row["confidence"], row["conflicts"]) == ("low", "2")
    assert row["conflicts_text"] == "funding: Two amounts | signed: Another month"
    assert (row["parent_id"], row["umbrella_ids"]) == (
        parent,
        "digital-silk-road;belt-and-road-initiative",
    )
    assert (row["sources_count"], row["sources"]) == (
        "2",
        "https://a.example/1;https://b.example/2",
    )
    assert row["countries"] == "CHN:financier;KEN:recipient"


async def test_a_record_without_funding_has_empty_amount_cells(seeded):
    rows = read_csv((await seeded.get("/v1/projects/export?format=csv")).text)
    undated = next(r for r in rows if r["id"] == "p-undated")
    assert undated["funding_items"] == "0"
    assert all(undated[c] == "" for c in ("amount", "currency", "amount_usd", "amount_usd_derived"))
    dc = next(r for r in rows if r["id"] == "p-dc-aus")  # three items, the first one counts
    assert (dc["amount"], dc["funding_items"], dc["usd"]) == (str(100 * M), "3", str(100 * M))


def test_every_declared_column_has_a_definition():
    for resource in (EVENT_RESOURCE, PROJECT_RESOURCE):
        assert set(resource.csv_columns) <= set(COLUMNS), resource.name
        assert set(resource.csv_funding_columns) <= set(FUNDING_COLUMNS), resource.name
        assert len(set(resource.csv_columns)) == len(resource.csv_columns)


@pytest.mark.parametrize("filters", [{}, {"country": "CHN"}, {"sector": "cables,data-centres"}])
async def test_funding_rows_let_the_sums_be_redone_by_hand(seeded, filters):
    r = await seeded.get(
        "/v1/projects/export", params={"format": "csv", "rows": "funding", **filters}
    )
    assert r.status_code == 200
    assert "-funding-" in r.headers["content-disposition"]
    items = read_csv(r.text)
    records = read_csv(
        (await seeded.get("/v1/projects/export", params={"format": "csv", **filters})).text
    )
    assert len(items) == sum(int(rec["funding_items"]) for rec in records)
    for rec in records:  # a record's usd is the sum of its items recommended for aggregates
        mine = [i for i in items if i["id"] == rec["id"]]
        assert [i["item"] for i in mine] == [str(n) for n in range(1, len(mine) + 1)]
        known = [
            int(i["usd"]) for i in mine if i["recommended_for_aggregates"] == "true" and i["usd"]
        ]
        assert rec["usd"] == (str(sum(known)) if known else "")
    stats = await seeded.get(
        "/v1/projects/stats", params={"group_by": "kind", "metrics": "usd", **filters}
    )
    counted = sum(int(i["usd"]) for i in items if i["counted"] == "true" and i["usd"])
    assert counted == stats.json()["totals"]["usd"]  # and the statistics' total too
    umbrella = [i for i in items if i["id"] == "p-umbrella"]
    if umbrella:  # an item of a record left out of aggregates is never counted
        assert umbrella[0]["record_recommended_for_aggregates"] == "false"
        assert umbrella[0]["counted"] == "false"


async def test_funding_rows_give_each_item_as_the_source_states_it(seeded):
    r = await seeded.get("/v1/projects/export", params={"format": "csv", "rows": "funding"})
    items = read_csv(r.text)
    lab = next(i for i in items if i["id"] == "p-lab-ken")
    assert (lab["amount"], lab["currency"], lab["qualifier"], lab["money_kind"]) == (
        str(10 * M),
        "EUR",
        "at-least",
        "grant",
    )
    assert (lab["usd"], lab["usd_derived"], lab["usd_lower_bound"]) == (
        str(11 * M),
        "false",
        "true",
    )
    assert (lab["text"], lab["countries"]) == ("at least EUR 10 million", "KEN:host;CHN:partner")
    unknown = next(i for i in items if i["id"] == "p-dc-aus" and i["item"] == "3")
    assert (unknown["amount"], unknown["usd"], unknown["usd_lower_bound"]) == ("", "", "true")


async def test_bom_starts_the_file_for_spreadsheet_programs(seeded):
    with_bom = await seeded.get("/v1/events/export", params={"format": "csv", "bom": "true"})
    assert with_bom.content.startswith(b"\xef\xbb\xbf")
    plain = await seeded.get("/v1/events/export", params={"format": "csv"})
    assert not plain.content.startswith(b"\xef\xbb\xbf")
    assert read_csv(with_bom.content.decode("utf-8-sig")) == read_csv(plain.text)
    funding = await seeded.get(
        "/v1/projects/export", params={"format": "csv", "rows": "funding", "bom": "true"}
    )
    assert funding.content.startswith(b"\xef\xbb\xbfid,")


@pytest.mark.parametrize("params", [{"bom": "true"}, {"rows": "funding"}, {"rows": "items"}])
async def test_csv_only_options_with_ndjson_are_422(seeded, params):
    r = await seeded.get("/v1/projects/export", params={"format": "ndjson", **params})
    assert r.status_code == 422


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "-year"},
        {"sort": "usd"},
        {"sort": "-usd"},
        {"sort": "title"},
        {},  # the list's default order, newest change first
        {"q": "cable"},  # by relevance, as the list ranks it
        {"q": "cable", "sort": "relevance", "country": "CHN"},
        {"q": "cable", "sort": "-year"},
    ],
)
async def test_export_sorts_like_the_list(seeded, params):
    listed = (await seeded.get("/v1/projects", params={**params, "limit": 200})).json()
    assert len(listed["data"]) > 1
    ndjson = await seeded.get("/v1/projects/export", params=params)
    exported = [orjson.loads(line)["id"] for line in ndjson.text.splitlines()]
    assert exported == [d["id"] for d in listed["data"]]
    rows = read_csv(
        (await seeded.get("/v1/projects/export", params={**params, "format": "csv"})).text
    )
    assert [r["id"] for r in rows] == exported


async def test_export_fields_select_like_the_list(seeded):
    query = {"sort": "-year", "fields": "title,year,usd,countries", "country": "CHN"}
    listed = (await seeded.get("/v1/projects", params={**query, "limit": 200})).json()["data"]
    ndjson = await seeded.get("/v1/projects/export", params=query)
    assert [orjson.loads(line) for line in ndjson.text.splitlines()] == listed
    r = await seeded.get("/v1/projects/export", params={**query, "format": "csv"})
    header = next(csv.reader(io.StringIO(r.text)))
    assert header == ["id", "version", "title", "year", "countries", "usd"]  # table order
    assert [row["id"] for row in read_csv(r.text)] == [d["id"] for d in listed]
    funding = await seeded.get(
        "/v1/projects/export", params={**query, "format": "csv", "rows": "funding"}
    )
    names = next(csv.reader(io.StringIO(funding.text)))
    assert {"id", "title", "year", "countries", "amount", "usd", "counted"} <= set(names)
    assert "kind" not in names and "status" not in names


@pytest.mark.parametrize("params", [{"sort": "relevance"}, {"sort": "colour"}, {"fields": "nope"}])
async def test_export_refuses_what_it_cannot_sort_or_select(seeded, params):
    assert (await seeded.get("/v1/projects/export", params=params)).status_code == 422
