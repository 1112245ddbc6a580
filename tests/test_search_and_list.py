"""List and search: the filter grammar, full-text search, sorting and keyset paging."""

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN
from tests.dataset import EVENTS, PROJECTS
from tests.factories import event, project, unique_id


async def ids(client: httpx.AsyncClient, url: str, **params: Any) -> list[str]:
    r = await client.get(url, params={"limit": 200, **params})
    assert r.status_code == 200, r.text
    return [d["id"] for d in r.json()["data"]]


async def ids_set(client: httpx.AsyncClient, url: str, **params: Any) -> set[str]:
    return set(await ids(client, url, **params))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, set(PROJECTS)),
        ({"country": "PAK"}, {"p-cable-pak"}),
        ({"country": "PAK,KEN"}, {"p-cable-pak", "p-lab-ken"}),
        ({"kind": "cable"}, {"p-cable-pak", "p-cable-2"}),
        ({"kind": "cable,data-centre"}, {"p-cable-pak", "p-cable-2", "p-dc-aus"}),
        ({"status": "under-construction"}, {"p-cable-2", "p-dc-aus"}),
        ({"sector": "cables"}, {"p-cable-pak", "p-cable-2", "p-umbrella"}),
        ({"organisation": "Huawei"}, {"p-cable-pak", "p-dc-aus"}),
        (
            {"organisation": "Huawei,Chinese Academy of Sciences"},
            {"p-cable-pak", "p-dc-aus", "p-lab-ken"},
        ),
        ({"dual_use": "possible,none"}, {"p-dc-aus", "p-lab-ken"}),
        ({"tag": "cloud"}, {"p-dc-aus"}),
        ({"year_from": 2017}, {"p-dc-aus", "p-lab-ken", "p-cable-2"}),
        ({"year_to": 2016}, {"p-cable-pak", "p-umbrella"}),
        ({"year_from": 2016, "year_to": 2017}, {"p-cable-pak", "p-dc-aus"}),
        ({"usd_min": 100_000_000}, {"p-cable-2", "p-dc-aus", "p-umbrella"}),
        ({"usd_max": 44_000_000}, {"p-cable-pak", "p-lab-ken"}),
        ({"updated_since": "2000-01-01"}, set(PROJECTS)),
        ({"updated_since": "2999-01-01T00:00:00+02:00"}, set()),
        # Different filters combine with AND.
        ({"country": "CHN", "sector": "cables", "status": "completed"}, {"p-cable-pak"}),
        ({"kind": "cable", "year_from": 2017, "usd_min": 1}, {"p-cable-2"}),
        ({"q": "cable", "country": "OMN"}, {"p-cable-2"}),
        # A country in lower case is the same code.
        ({"country": "pak,Ken"}, {"p-cable-pak", "p-lab-ken"}),
        ({"confidence": "high"}, {"p-lab-ken"}),
        ({"confidence": "low,high"}, {"p-lab-ken", "p-cable-2"}),
        ({"has_conflicts": "true"}, {"p-cable-2"}),
        ({"has_conflicts": "false"}, set(PROJECTS) - {"p-cable-2"}),
        ({"parent": "p-umbrella"}, {"p-cable-2", "p-dc-aus"}),
        ({"umbrella": "p-umbrella"}, {"p-cable-pak", "p-cable-2"}),
        ({"umbrella": "p-umbrella", "parent": "p-umbrella"}, {"p-cable-2"}),
        # An empty q (what a cleared search box sends) is no search.
        ({"q": ""}, set(PROJECTS)),
        ({"q": "  "}, set(PROJECTS)),
    ],
)
async def test_project_filters(seeded, params, expected):
    assert await ids_set(seeded, "/v1/projects", **params) == expected


async def test_event_filters(seeded):
    assert await ids_set(seeded, "/v1/events", kind="forum,summit") == {
        "e-forum-2017",
        "e-summit-2015",
    }
    assert await ids_set(seeded, "/v1/events", country="KEN", sector="research") == {
        "e-agreement-2018"
    }
    assert await ids_set(seeded, "/v1/events", tag="brf", year_from=2017) == {"e-forum-2017"}


async def test_tombstones_never_appear(seeded):
    assert await ids_set(seeded, "/v1/projects") == set(PROJECTS)
    assert await ids_set(seeded, "/v1/events") == set(EVENTS)
    r = await seeded.get("/v1/projects", params={"kind": "cable"})
    assert r.json()["total"] == 2


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"country": "XXX"}, "country"),
        ({"country": "pk"}, "country"),
        ({"confidence": "certain"}, "confidence"),
        ({"has_conflicts": "perhaps"}, "has_conflicts"),
        ({"parent": "Not An Id"}, "parent"),
        ({"umbrella": "$ne"}, "umbrella"),
        ({"country": "$gt"}, "country"),
        ({"country": "PAK,"}, "country"),
        ({"kind": "forum"}, "kind"),  # an event kind on projects
        ({"status": "$ne"}, "status"),
        ({"sector": '{"$gt": ""}'}, "sector"),
        ({"organisation": "$where"}, "organisation"),
        ({"tag": "Not A Tag"}, "tag"),
        ({"dual_use": "maybe"}, "dual_use"),
        ({"year_from": "2017a"}, "year_from"),
        ({"year_from": 1700}, "year_from"),
        ({"year_from": 2018, "year_to": 2017}, "year_to"),
        ({"usd_min": -1}, "usd_min"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"limit": 201}, "limit"),
        ({"limit": 0}, "limit"),
        ({"sort": "_seq"}, "sort"),
        ({"sort": "relevance"}, "sort"),
        ({"count": "maybe"}, "count"),
        ({"fields": "title,_terms"}, "fields"),
        ({"countri": "PAK"}, "countri"),
        ({"country[$ne]": "PAK"}, "country[$ne]"),
        ({"q[$where]": "1"}, "q[$where]"),
    ],
)
async def test_bad_or_hostile_parameters_are_422(seeded, params, parameter):
    r = await seeded.get("/v1/projects", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert parameter in {e["parameter"] for e in r.json()["errors"]}


async def test_bracket_syntax_gets_a_clear_answer(seeded):
    r = await seeded.get("/v1/projects?country[$ne]=PAK")
    assert r.status_code == 422
    assert "Bracket syntax" in r.json()["detail"]


async def test_a_filter_given_twice_is_422(seeded):
    r = await seeded.get("/v1/projects?country=PAK&country=KEN")
    assert r.status_code == 422
    assert "commas" in r.json()["errors"][0]["detail"]


@pytest.mark.parametrize(
    ("params", "listed"),
    [
        ({"kind": "cables"}, ["cable", "data-centre", "aggregate-estimate"]),
        ({"status": "done"}, ["completed", "under-construction", "unknown"]),
        ({"confidence": "certain"}, ["low", "medium", "high"]),
        ({"dual_use": "maybe"}, ["possible", "documented"]),
    ],
)
async def test_an_unknown_enum_value_lists_the_valid_ones(seeded, params, listed):
    r = await seeded.get("/v1/projects", params=params)
    assert r.status_code == 422
    detail = r.json()["errors"][0]["detail"]
    assert all(value in detail for value in listed), detail


async def test_an_unknown_country_says_where_the_codes_are(seeded):
    r = await seeded.get("/v1/projects", params={"country": "XXX"})
    assert "GET /v1/vocab" in r.json()["errors"][0]["detail"]


async def test_empty_q_keeps_the_default_order(seeded):
    assert await ids(seeded, "/v1/projects", q="") == await ids(seeded, "/v1/projects")


async def test_event_parent_filter(seeded, fresh_client):
    await fresh_client.put("/v1/events/the-forum", json=event(), headers=ADMIN)
    await fresh_client.put(
        "/v1/events/a-sub-forum", json=event(parent_id="the-forum"), headers=ADMIN
    )
    assert await ids(fresh_client, "/v1/events", parent="the-forum") == ["a-sub-forum"]
    r = await fresh_client.get("/v1/events", params={"umbrella": "the-forum"})
    assert r.status_code == 422  # events are counted under no umbrella


async def test_status_is_not_a_filter_of_events(seeded):
    r = await seeded.get("/v1/events", params={"status": "completed"})
    assert r.status_code == 422


# --- full-text search -----------------------------------------------------------------------


async def test_search_matches_stems(seeded):
    # "cables" finds records about a "cable", in any of their own fields; the deleted one
    # stays out, and so does a record whose source's title alone mentions cables.
    found = await ids_set(seeded, "/v1/projects", q="cables")
    assert found == {"p-cable-pak", "p-cable-2", "p-umbrella"}


async def test_search_folds_case_punctuation_and_needs_every_term(seeded, fresh_client):
    body = project(title="University Alliance of the New Silk Road")
    body["organisations"] = [{"name": "Xi'an Jiaotong University", "role": "lead"}]
    await fresh_client.put("/v1/projects/alliance", json=body, headers=ADMIN)
    await fresh_client.put(
        "/v1/projects/other", json=project(title="Xi'an data centre"), headers=ADMIN
    )
    assert await ids(fresh_client, "/v1/projects", q="XI'AN jiaotong") == ["alliance"]
    assert await ids(fresh_client, "/v1/projects", q="JIAOTONG, alliances!") == ["alliance"]
    assert await ids(fresh_client, "/v1/projects", q="alliance centre") == []  # every term
    assert set(await ids(fresh_client, "/v1/projects", q="xi\u2019an")) == {"alliance", "other"}
    assert set(await ids(fresh_client, "/v1/projects", q="Xí-AN")) == {"alliance", "other"}


@pytest.mark.parametrize("q", ["$where", "((((", "the of and", '{"$gt": 1}', "'; DROP", "\\u0000"])
async def test_anything_typed_is_just_text(seeded, q):
    r = await seeded.get("/v1/projects", params={"q": q})
    assert r.status_code == 200
    assert r.json()["data"] == []


async def test_search_ranks_title_then_summary_then_other_then_recency(seeded):
    ranked = await ids(seeded, "/v1/projects", q="cable")
    # Two title matches (newest year first), then the summary match.
    assert ranked == ["p-cable-2", "p-cable-pak", "p-umbrella"]


async def test_relevance_pages_walk_in_rank_order(seeded):
    walked = await walk(seeded, "/v1/projects", limit=1, q="cable")
    assert walked == ["p-cable-2", "p-cable-pak", "p-umbrella"]


async def test_search_with_another_sort(seeded):
    assert await ids(seeded, "/v1/projects", q="cable", sort="id") == sorted(
        ["p-cable-2", "p-cable-pak", "p-umbrella"]
    )


# --- sorting and paging ---------------------------------------------------------------------


async def walk(client: httpx.AsyncClient, url: str, **params: Any) -> list[str]:
    """Every id along the `next` chain, checking the Link header on each page."""
    seen: list[str] = []
    cursor = None
    for _ in range(1000):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(url, params=query)
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [d["id"] for d in page["data"]]
        cursor = page["next"]
        if not cursor:
            assert "link" not in r.headers
            return seen
        assert r.headers["link"].endswith('rel="next"') and cursor in r.headers["link"]
    raise AssertionError("the walk does not end")


def expected_order(sort: str) -> list[str]:
    field = sort.lstrip("-")
    descending = sort.startswith("-")
    records = {rid: body for rid, body in PROJECTS.items()}

    def value(rid: str) -> Any:
        body = records[rid]
        if field == "id":
            return rid
        if field == "title":
            return body["title"]
        if field == "year":
            dates = body.get("dates", {})
            for name in ("started", "signed", "announced", "completed"):
                if name in dates:
                    return int(dates[name]["value"][:4])
            return None
        if field == "date":
            dates = body.get("dates", {})
            for name in ("started", "signed", "announced", "completed"):
                if name in dates:
                    return dates[name]["value"]
            return None
        raise AssertionError(field)

    # Nulls sort first ascending (as in MongoDB), and last descending; ties by id.
    keys = sorted(records, key=lambda r: (value(r) is not None, value(r) or 0, r))
    if descending:
        keys = sorted(records, key=lambda r: (value(r) is not None, value(r) or 0, r), reverse=True)
    return keys


@pytest.mark.parametrize("sort", ["id", "-id", "title", "-title", "year", "-year", "date", "-date"])
async def test_sorts_walk_every_record_once_in_order(seeded, sort):
    walked = await walk(seeded, "/v1/projects", sort=sort, limit=2)
    assert walked == expected_order(sort)


@pytest.mark.parametrize("sort", ["usd", "-usd", "created_at", "-created_at", "-updated_at"])
async def test_other_sorts_walk_every_record_once(seeded, sort):
    walked = await walk(seeded, "/v1/projects", sort=sort, limit=2)
    assert sorted(walked) == sorted(PROJECTS)
    whole = await ids(seeded, "/v1/projects", sort=sort)
    assert walked == whole


@pytest.mark.parametrize("sort", ["usd", "-usd"])
async def test_usd_sort_puts_missing_amounts_last_both_ways_across_pages(seeded, sort):
    values, cursor = [], None
    while True:
        params = {"sort": sort, "fields": "usd", "limit": 2} | (
            {"cursor": cursor} if cursor else {}
        )
        page = (await seeded.get("/v1/projects", params=params)).json()
        values += [d["usd"] for d in page["data"]]
        if not (cursor := page["next"]):
            break
    known = [v for v in values if v is not None]
    assert len(values) == len(PROJECTS) and len(known) < len(values)
    assert values == sorted(known, reverse=sort.startswith("-")) + [None] * (
        len(values) - len(known)
    )


async def test_default_order_is_newest_change_first(fresh_client):
    for rid in ("first", "second", "third"):
        await fresh_client.put(f"/v1/projects/{rid}", json=project(), headers=ADMIN)
    await fresh_client.put("/v1/projects/first", json=project(title="Changed"), headers=ADMIN)
    assert await ids(fresh_client, "/v1/projects") == ["first", "third", "second"]


async def test_count_none_leaves_out_the_total(seeded):
    r = await seeded.get("/v1/projects", params={"count": "none", "limit": 2})
    assert "total" not in r.json()
    r = await seeded.get("/v1/projects", params={"limit": 2})
    assert r.json()["total"] == len(PROJECTS)


async def test_fields_projection_always_keeps_id_and_version(seeded):
    r = await seeded.get("/v1/projects", params={"fields": "title,usd", "sort": "year"})
    for record in r.json()["data"]:
        assert set(record) == {"id", "version", "title", "usd"}


async def test_cursor_of_another_query_is_422(seeded):
    first = await seeded.get("/v1/projects", params={"limit": 1, "kind": "cable"})
    cursor = first.json()["next"]
    r = await seeded.get("/v1/projects", params={"limit": 1, "kind": "programme", "cursor": cursor})
    assert r.status_code == 422
    r = await seeded.get("/v1/projects", params={"limit": 1, "sort": "id", "cursor": cursor})
    assert r.status_code == 422


async def test_tampered_cursor_is_422(seeded):
    first = await seeded.get("/v1/projects", params={"limit": 1})
    data, _, mac = first.json()["next"].partition(".")
    r = await seeded.get("/v1/projects", params={"cursor": data[:-2] + "AA." + mac})
    assert r.status_code == 422


@pytest.mark.parametrize("sort", ["-updated_at", "id", "-year"])
async def test_walk_while_writing_returns_each_untouched_record_once(app_client, sort):
    async with app_client() as client:
        untouched = [f"keep-{i:03d}" for i in range(40)]
        churn = [f"churn-{i:02d}" for i in range(10)]
        for i, rid in enumerate(untouched + churn):
            body = project(dates={"started": {"value": str(2000 + i % 20)}})
            await client.put(f"/v1/projects/{rid}", json=body, headers=ADMIN)

        stop = asyncio.Event()

        async def writer() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                rid = churn[n % len(churn)]
                year = str(2000 + n % 25)
                body = project(title=f"Churn {n}", dates={"started": {"value": year}})
                await client.put(f"/v1/projects/{rid}", json=body, headers=ADMIN)
                await client.put(f"/v1/projects/{unique_id('new')}", json=project(), headers=ADMIN)
                if n % 3 == 0:
                    await client.delete(
                        f"/v1/projects/{churn[(n + 5) % len(churn)]}", headers=ADMIN
                    )
                await asyncio.sleep(0)

        task = asyncio.create_task(writer())
        try:
            seen = []
            cursor = None
            while True:
                params = {"limit": 3, "sort": sort, **({"cursor": cursor} if cursor else {})}
                page = (await client.get("/v1/projects", params=params)).json()
                seen += [d["id"] for d in page["data"]]
                await asyncio.sleep(0.01)  # let the writer land writes between pages
                cursor = page["next"]
                if not cursor:
                    break
        finally:
            stop.set()
            await task
        kept = [rid for rid in seen if rid.startswith("keep-")]
        assert sorted(kept) == untouched  # every untouched record, exactly once
