"""Facets and statistics over the known data set: counts agree with list totals."""

from typing import Any

import httpx
import pytest

from tests.dataset import EVENTS, PROJECTS, M


async def get(client: httpx.AsyncClient, url: str, **params: Any) -> Any:
    r = await client.get(url, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def total(client: httpx.AsyncClient, collection: str, **filters: Any) -> int:
    return int((await get(client, f"/v1/{collection}", limit=1, **filters))["total"])


def as_dict(values: list[dict[str, Any]]) -> dict[Any, int]:
    return {v["value"]: v["count"] for v in values}


async def test_facets_count_values_most_frequent_first(seeded):
    answer = await get(
        seeded, "/v1/projects/facets", by="country,sector,kind,status,year,dual_use,organisation"
    )
    assert answer["country"][0] == {"value": "CHN", "count": 5}
    assert as_dict(answer["country"]) == {
        "CHN": 5,
        "PAK": 1,
        "OMN": 1,
        "KEN": 1,
        "AUS": 1,
        "RUS": 1,
    }
    assert as_dict(answer["kind"]) == {
        "cable": 2,
        "joint-laboratory": 1,
        "programme": 1,
        "data-centre": 1,
        "university-alliance": 1,
    }
    assert answer["kind"][0] == {"value": "cable", "count": 2}
    assert as_dict(answer["year"]) == {2015: 1, 2016: 1, 2017: 1, 2018: 1, 2019: 1, None: 1}
    assert as_dict(answer["dual_use"]) == {"unassessed": 4, "none": 1, "possible": 1}
    # Huawei is named twice on one record: that record counts once.
    assert as_dict(answer["organisation"]) == {"Huawei": 2, "Chinese Academy of Sciences": 1}
    counts = [v["count"] for v in answer["sector"]]
    assert counts == sorted(counts, reverse=True)


async def test_facet_ignores_its_own_filter_but_applies_the_others(seeded):
    answer = await get(
        seeded, "/v1/projects/facets", by="country,kind", country="PAK", kind="cable"
    )
    # The country facet ignores country=PAK but keeps kind=cable.
    assert as_dict(answer["country"]) == {"CHN": 2, "PAK": 1, "OMN": 1}
    # The kind facet ignores kind=cable but keeps country=PAK.
    assert as_dict(answer["kind"]) == {"cable": 1}


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"country": "CHN"},
        {"q": "cable"},
        {"sector": "cables", "year_from": 2016},
        {"kind": "cable,programme", "status": "completed,ongoing"},
    ],
)
async def test_single_valued_facets_add_up_to_the_list_total(seeded, filters):
    answer = await get(seeded, "/v1/projects/facets", by="kind,status,year,dual_use", **filters)
    for name in ("kind", "status", "year", "dual_use"):
        own = ("year_from", "year_to") if name == "year" else (name,)
        others = {k: v for k, v in filters.items() if k not in own}
        expected = await total(seeded, "projects", **others)
        assert sum(v["count"] for v in answer[name]) == expected, name


async def test_facet_value_counts_equal_the_filtered_list_totals(seeded):
    answer = await get(seeded, "/v1/projects/facets", by="country,sector,organisation")
    for facet, param in (
        ("country", "country"),
        ("sector", "sector"),
        ("organisation", "organisation"),
    ):
        for item in answer[facet]:
            assert item["count"] == await total(seeded, "projects", **{param: item["value"]})


async def test_event_facets_and_size(seeded):
    answer = await get(seeded, "/v1/events/facets", by="country", size=1)
    assert answer == {"country": [{"value": "CHN", "count": len(EVENTS)}]}


@pytest.mark.parametrize(
    ("url", "params", "parameter"),
    [
        ("/v1/projects/facets", {"by": "colour"}, "by"),
        ("/v1/projects/facets", {}, "by"),
        ("/v1/events/facets", {"by": "status"}, "by"),
        ("/v1/projects/facets", {"by": "country", "country": "$ne"}, "country"),
        ("/v1/projects/stats", {"group_by": "colour"}, "group_by"),
        ("/v1/projects/stats", {"group_by": "year,sector,kind"}, "group_by"),
        ("/v1/projects/stats", {"group_by": "year", "metrics": "median"}, "metrics"),
        ("/v1/projects/stats", {"group_by": "year", "order": "-usd"}, "order"),
        ("/v1/projects/stats", {"group_by": "year", "top": 0}, "top"),
        ("/v1/events/stats", {"group_by": "status"}, "group_by"),
        ("/v1/projects/stats", {"group_by": "year", "group[$gt]": "1"}, "group[$gt]"),
    ],
)
async def test_bad_facet_and_stats_parameters_are_422(seeded, url, params, parameter):
    r = await seeded.get(url, params=params)
    assert r.status_code == 422, r.text
    assert parameter in {e["parameter"] for e in r.json()["errors"]}


async def test_stats_by_year_sums_only_what_is_recommended_for_aggregates(seeded):
    answer = await get(seeded, "/v1/projects/stats", group_by="year", metrics="count,usd,usd_avg")
    rows = {r["year"]: r for r in answer["rows"]}
    assert rows[2016] == {
        "year": 2016,
        "period": None,
        "count": 1,
        "usd": 44 * M,
        "usd_avg": 44 * M,
        "usd_lower_bound": False,
        "usd_per_year": None,
    }
    assert rows[2019]["usd"] == 500 * M and rows[2019]["usd_lower_bound"]  # "more than"
    assert rows[2018]["usd"] == 11 * M and rows[2018]["usd_lower_bound"]  # "at least"
    # The data centre: 100M counted, 50M not recommended, one unknown amount (lower bound).
    assert rows[2017]["usd"] == 100 * M and rows[2017]["usd_lower_bound"]
    # The umbrella programme is not recommended for aggregates; the undated alliance has no money.
    assert rows[2015] == {
        "year": 2015,
        "period": None,
        "count": 1,
        "usd": None,
        "usd_avg": None,
        "usd_lower_bound": False,
        "usd_per_year": None,
    }
    assert rows[None]["count"] == 1
    assert answer["totals"]["count"] == len(PROJECTS) == sum(r["count"] for r in answer["rows"])
    assert answer["totals"]["usd"] == (44 + 500 + 11 + 100) * M
    assert answer["totals"]["usd_lower_bound"] is True
    assert answer["totals"]["usd_avg"] == round((44 + 500 + 11 + 100) * M / 4)


async def test_include_all_adds_what_is_not_recommended(seeded):
    answer = await get(
        seeded, "/v1/projects/stats", group_by="year", metrics="usd", include_all="true"
    )
    rows = {r["year"]: r for r in answer["rows"]}
    assert rows[2015]["usd"] == 1000 * M
    assert rows[2017]["usd"] == 150 * M
    assert answer["totals"]["usd"] == (44 + 500 + 11 + 100 + 1000 + 50) * M


async def test_stats_by_two_dimensions(seeded):
    answer = await get(seeded, "/v1/projects/stats", group_by="year,sector", metrics="count,usd")
    rows = {(r["year"], r["sector"]): r for r in answer["rows"]}
    assert rows[(2015, "telecom")]["count"] == 1 and rows[(2015, "cables")]["count"] == 1
    assert rows[(2018, "research")]["usd"] == 11 * M
    assert rows[(2018, "agriculture")]["usd"] == 11 * M
    assert rows[(None, "higher-education")]["count"] == 1
    assert answer["group_by"] == ["year", "sector"]
    assert answer["totals"]["count"] == len(PROJECTS)


async def test_stats_by_country_and_kind_agree_with_list_totals(seeded):
    answer = await get(seeded, "/v1/projects/stats", group_by="country,kind")
    for row in answer["rows"]:
        assert row["count"] == await total(
            seeded, "projects", country=row["country"], kind=row["kind"]
        )


async def test_stats_by_currency_sum_funding_items(seeded):
    answer = await get(seeded, "/v1/projects/stats", group_by="currency", metrics="count,usd")
    rows = {r["currency"]: r for r in answer["rows"]}
    assert rows["USD"]["count"] == 4
    assert rows["USD"]["usd"] == (44 + 500 + 100) * M and rows["USD"]["usd_lower_bound"]
    assert rows["EUR"] == {
        "currency": "EUR",
        "count": 1,
        "usd": 11 * M,
        "usd_lower_bound": True,
        "usd_per_year": None,
    }


async def test_stats_order_top_and_filters(seeded):
    answer = await get(
        seeded, "/v1/projects/stats", group_by="kind", metrics="count,usd", order="-usd", top=2
    )
    assert [(r["kind"], r["usd"]) for r in answer["rows"]] == [
        ("cable", 544 * M),
        ("data-centre", 100 * M),
    ]
    answer = await get(seeded, "/v1/projects/stats", group_by="year", order="year", country="CHN")
    assert [r["year"] for r in answer["rows"]] == [2015, 2016, 2018, 2019, None]
    assert answer["totals"]["count"] == await total(seeded, "projects", country="CHN")


async def test_stats_by_organisation_and_dual_use(seeded):
    answer = await get(
        seeded,
        "/v1/projects/stats",
        group_by="organisation,dual_use",
        metrics="usd",
        role="contractor,operator",
    )
    assert answer["roles"] == ["contractor", "operator"]
    rows = {(r["organisation"], r["dual_use"]): r for r in answer["rows"]}
    assert rows[("Huawei", "possible")]["usd"] == 100 * M  # named twice, counted once
    assert rows[("Huawei", "unassessed")]["usd"] == 44 * M


async def test_event_stats(seeded):
    answer = await get(seeded, "/v1/events/stats", group_by="kind")
    assert {r["kind"]: r["count"] for r in answer["rows"]} == {
        "summit": 1,
        "forum": 1,
        "agreement": 1,
    }


async def test_empty_collection_has_empty_facets_and_stats(fresh_client):
    assert await get(fresh_client, "/v1/projects/facets", by="country") == {"country": []}
    answer = await get(fresh_client, "/v1/projects/stats", group_by="year", metrics="count,usd")
    assert answer["rows"] == []
    assert answer["totals"] == {
        "count": 0,
        "usd": None,
        "usd_lower_bound": False,
        "usd_per_year": None,
    }


async def test_tag_facet_and_stats_dimension(seeded):
    answer = await get(seeded, "/v1/projects/facets", by="tag,kind", tag="fibre")
    # The tag facet ignores its own filter; the kind facet keeps it.
    assert as_dict(answer["tag"]) == {"fibre": 1, "cloud": 1}
    assert as_dict(answer["kind"]) == {"cable": 1}
    rows = (await get(seeded, "/v1/projects/stats", group_by="tag", metrics="count,usd"))["rows"]
    by_tag = {r["tag"]: (r["count"], r["usd"]) for r in rows}
    assert by_tag == {"fibre": (1, 44 * M), "cloud": (1, 100 * M)}
    events = await get(seeded, "/v1/events/facets", by="tag")
    assert sum(v["count"] for v in events["tag"]) >= 1


async def test_facets_and_stats_with_q_count_only_the_matches(seeded):
    matches = await total(seeded, "projects", q="cable")
    assert 0 < matches < len(PROJECTS)
    answer = await get(seeded, "/v1/projects/facets", by="kind", q="cable")
    assert sum(v["count"] for v in answer["kind"]) == matches
    stats = await get(seeded, "/v1/projects/stats", group_by="kind", q="cable")
    assert stats["totals"]["count"] == matches
