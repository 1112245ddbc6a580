"""Money in statistics goes where the source puts it: to its years or its period, to the
parties that provide it, and every record shows its headline amount."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from service.fixtures import fixture_files, read
from tests.conftest import ADMIN, AppClient
from tests.factories import project, unique_id

M = 1_000_000
BN = 1000 * M
MERICS = {"name": "MERICS", "role": "analyst"}


def money(usd: int | None, **extra: Any) -> dict[str, Any]:
    return {"amount": usd, "currency": "USD", "kind": "estimate", "text": "words", **extra}


RECORDS: dict[str, dict[str, Any]] = {
    # "at least USD 7 billion for projects completed since 2013"
    "since-2013": project(
        dates={"started": {"value": "2013", "text": "projects completed since 2013"}},
        countries=[{"code": "CHN", "role": "financier"}],
        organisations=[MERICS],
        funding=[money(7 * BN, qualifier="at-least", year_from=2013)],
    ),
    # "each side spending 200 million renminbi (US$29 million) annually from 2018 to 2020"
    "annual-2018-2020": project(
        dates={"started": {"value": "2015"}},
        countries=[{"code": "CHN", "role": "financier"}, {"code": "EUU", "role": "financier"}],
        organisations=[
            {"name": "MOST", "role": "financier", "country": "CHN"},
            {"name": "European Commission", "role": "financier", "country": "EUU"},
        ],
        funding=[money(29 * M, period="annual", year_from=2018, year_to=2020, provided_by=["CHN"])],
    ),
    # "roughly $150bn a year", an umbrella not to be summed
    "a-year": project(
        kind="programme",
        dates={"announced": {"value": "2013"}},
        countries=[{"code": "CHN", "role": "financier"}],
        recommended_for_aggregates=False,
        funding=[
            money(150 * BN, period="annual", qualifier="approx", recommended_for_aggregates=False)
        ],
    ),
    # "a $100m innovation partnership", funded by the companies, not the government
    "partnership": project(
        dates={"started": {"value": "2016-08"}},
        countries=[
            {"code": "AUS", "role": "host"},
            {"code": "CHN", "role": "financier"},
            {"code": "IND", "role": "partner"},
        ],
        organisations=[
            {"name": "UNSW", "role": "lead", "country": "AUS"},
            {"name": "Government of China", "role": "partner", "country": "CHN"},
            {"name": "Huawei", "role": "financier", "country": "CHN"},
        ],
        funding=[money(100 * M, year=2016)],
    ),
    # "Europe's EUR 80 billion programme", 2014-2020, not to be summed
    "horizon": project(
        kind="programme",
        dates={"started": {"value": "2014"}},
        countries=[{"code": "EUU", "role": "financier"}],
        recommended_for_aggregates=False,
        funding=[
            {
                "amount": 80 * BN,
                "currency": "EUR",
                "kind": "budget",
                "text": "EUR 80 billion",
                "year_from": 2014,
                "year_to": 2020,
                "recommended_for_aggregates": False,
            }
        ],
    ),
}


@pytest.fixture(scope="module")
async def money_db(app_client: AppClient) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client() as c:
        for rid, body in RECORDS.items():
            r = await c.put(f"/v1/projects/{rid}", json=body, headers=ADMIN)
            assert r.status_code == 201, r.text
        yield c


async def stats(client: httpx.AsyncClient, **params: Any) -> Any:
    r = await client.get("/v1/projects/stats", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def rows_by(answer: Any, *names: str) -> dict[Any, Any]:
    return {tuple(r[n] for n in names): r for r in answer["rows"]}


# --- 1. money lands in its years, or in a row of its own --------------------------------


async def test_an_amount_for_a_period_gets_a_row_of_its_own_not_its_first_year(money_db):
    answer = await stats(money_db, group_by="year", metrics="count,usd")
    rows = rows_by(answer, "year", "period")
    assert rows[(None, "since 2013")]["usd"] == 7 * BN
    assert rows[(None, "since 2013")]["usd_lower_bound"] is True
    assert rows[(2013, None)]["usd"] is None  # counted there, but none of its money
    assert rows[(2013, None)]["count"] == 2


async def test_an_annual_amount_over_a_closed_period_is_spent_in_each_year(money_db):
    rows = rows_by(await stats(money_db, group_by="year", metrics="usd"), "year", "period")
    assert [rows[(y, None)]["usd"] for y in (2018, 2019, 2020)] == [29 * M] * 3
    assert (2015, None) in rows and rows[(2015, None)]["usd"] is None
    answer = await stats(money_db, group_by="kind", metrics="usd")
    assert rows_by(answer, "kind")[("cable",)]["usd"] == 7 * BN + 3 * 29 * M + 100 * M


async def test_a_rate_a_year_is_never_added_to_totals(money_db):
    answer = await stats(money_db, group_by="year", metrics="usd", include_all="true")
    rows = rows_by(answer, "year", "period")
    rate = rows[(None, "a year, years not stated")]
    assert (rate["usd"], rate["usd_per_year"]) == (None, 150 * BN)
    horizon = rows[(None, "2014-2020")]["usd"]
    assert horizon is not None and horizon > 80 * BN  # EUR converted, one amount, its own row
    totals = answer["totals"]
    assert totals["usd"] == 7 * BN + 3 * 29 * M + 100 * M + horizon
    assert totals["usd_per_year"] == 150 * BN


async def test_the_timeline_keeps_the_wording_of_a_period(money_db):
    r = await money_db.get("/v1/countries/CHN/timeline")
    item = {i["id"]: i for i in r.json()["data"]}["since-2013"]
    assert item["date_text"] == "projects completed since 2013"
    assert (item["usd"], item["usd_period"], item["usd_qualifier"]) == (
        7 * BN,
        "since 2013",
        "at-least",
    )


@pytest.mark.parametrize(
    "item",
    [
        {"year": 2018, "year_from": 2018},
        {"year_from": 2019, "year_to": 2018},
        {"year_to": 2018},
        {"provided_by": ["FRA"]},
    ],
)
async def test_contradictory_periods_and_unknown_providers_are_refused(money_db, item):
    body = project(funding=[money(M, **item)])
    r = await money_db.put(f"/v1/projects/{unique_id()}", json=body, headers=ADMIN)
    assert r.status_code == 422, r.text


# --- 2. money is credited to the side that provides it -----------------------------------


async def test_money_by_organisation_goes_to_the_providing_side_only(money_db):
    answer = await stats(money_db, group_by="organisation", metrics="count,usd")
    assert answer["roles"] == ["financier"]
    rows = rows_by(answer, "organisation")
    assert rows[("Huawei",)]["usd"] == 100 * M
    assert rows[("Government of China",)]["usd"] is None
    assert rows[("UNSW",)]["usd"] is None
    assert rows[("MERICS",)]["usd"] is None  # the analyst provides nothing
    assert rows[("MERICS",)]["count"] == 1  # but counts stay per record
    # The Chinese side's share, and only that, goes to the Chinese financier.
    assert rows[("MOST",)]["usd"] == 3 * 29 * M
    assert rows[("European Commission",)]["usd"] is None
    # Money no named organisation provides is shown, not lost.
    assert rows[(None,)]["usd"] == 7 * BN


async def test_money_by_country_follows_country_roles_and_providers(money_db):
    answer = await stats(money_db, group_by="country", metrics="usd")
    rows = rows_by(answer, "country")
    assert rows[("CHN",)]["usd"] == 7 * BN + 3 * 29 * M + 100 * M
    assert rows[("AUS",)]["usd"] is None and rows[("IND",)]["usd"] is None
    assert rows[("EUU",)]["usd"] is None
    hosts = rows_by(
        await stats(money_db, group_by="country", metrics="usd", role="host"), "country"
    )
    assert hosts[("AUS",)]["usd"] == 100 * M and hosts[("CHN",)]["usd"] is None


async def test_roles_are_answered_only_for_parties_and_checked(money_db):
    assert (await stats(money_db, group_by="kind"))["roles"] is None
    r = await money_db.get("/v1/projects/stats", params={"group_by": "country", "role": "boss"})
    assert r.status_code == 422 and r.json()["errors"][0]["parameter"] == "role"


# --- 3. every record shows its headline amount -------------------------------------------


async def test_every_record_shows_its_headline_amount(money_db):
    r = await money_db.get("/v1/projects/a-year")
    record = r.json()
    assert (record["usd"], record["usd_period"], record["usd_qualifier"]) == (
        150 * BN,
        "a year, years not stated",
        "approx",
    )
    horizon = (await money_db.get("/v1/projects/horizon")).json()
    assert horizon["usd"] > 80 * BN and horizon["usd_derived"] is True
    assert horizon["usd_period"] == "2014-2020"
    spread = (await money_db.get("/v1/projects/annual-2018-2020")).json()
    assert (spread["usd"], spread["usd_period"]) == (3 * 29 * M, "total")


async def test_the_largest_amounts_sort_first_and_pass_usd_min(money_db):
    r = await money_db.get("/v1/projects", params={"sort": "-usd", "fields": "usd", "limit": 2})
    assert [d["id"] for d in r.json()["data"]] == ["a-year", "horizon"]
    r = await money_db.get("/v1/projects", params={"usd_min": 50 * BN, "fields": "usd"})
    assert {d["id"] for d in r.json()["data"]} == {"a-year", "horizon"}


# --- stored records follow the recipe -----------------------------------------------------


async def test_records_stored_under_an_older_recipe_are_derived_again_on_start(
    app_client: AppClient, database_uri: str
):
    database = "rederive_" + unique_id().replace("-", "_")
    async with app_client(database=database) as c:
        body = RECORDS["horizon"]
        assert (await c.put("/v1/projects/old", json=body, headers=ADMIN)).status_code == 201
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(database_uri)
    try:
        col = mongo[database]["projects"]
        # What the former recipe stored: no headline for an amount not for aggregates.
        await col.update_one(
            {"_id": "old"}, {"$set": {"usd": None}, "$unset": {"_derivation": "", "_usd_asc": ""}}
        )
        async with app_client(database=database) as c:
            record = (await c.get("/v1/projects/old")).json()
            assert record["usd"] is not None and record["usd"] > 80 * BN
            assert record["version"] == 1
            r = await c.get("/v1/projects", params={"sort": "usd", "fields": "usd"})
            assert r.json()["data"][0]["usd"] == record["usd"]
    finally:
        await mongo.close()


# --- the seed article, as a reader would sign it ------------------------------------------


@pytest.fixture(scope="module")
async def article(app_client: AppClient) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client() as c:
        for collection, path in fixture_files():
            data = read(path)
            r = await c.put(f"/v1/{collection}/{data['id']}", json=data, headers=ADMIN)
            assert r.status_code == 201, r.text
        yield c


async def test_digital_silk_road_money_by_year_is_since_2013_not_in_2013(article):
    answer = await stats(article, group_by="year", metrics="usd", tag="digital-silk-road")
    with_money = [r for r in answer["rows"] if r["usd"] is not None]
    assert with_money == [
        {
            "year": None,
            "period": "since 2013",
            "usd": 17 * BN,
            "usd_lower_bound": True,
            "usd_per_year": None,
        }
    ]
    assert answer["totals"]["usd"] == 17 * BN


async def test_digital_silk_road_money_by_organisation_credits_no_named_organisation(article):
    answer = await stats(article, group_by="organisation", metrics="usd", tag="digital-silk-road")
    rows = rows_by(answer, "organisation")
    assert rows[(None,)]["usd"] == 17 * BN  # "Chinese entities", none of them named
    assert all(r["usd"] is None for k, r in rows.items() if k != (None,))
    by_country = rows_by(
        await stats(article, group_by="country", metrics="usd", tag="digital-silk-road"),
        "country",
    )
    assert by_country[("CHN",)]["usd"] == 17 * BN


async def test_unsw_money_is_not_the_chinese_governments_nor_indias(article):
    rows = rows_by(await stats(article, group_by="organisation", metrics="usd"), "organisation")
    assert rows[("Government of the People's Republic of China",)]["usd"] is None
    assert rows[("Mercator Institute for China Studies (MERICS)",)]["usd"] is None
    countries = rows_by(await stats(article, group_by="country", metrics="usd"), "country")
    assert countries[("IND",)]["usd"] is None and countries[("AUS",)]["usd"] is None
    assert countries[("EUU",)]["usd"] is None
