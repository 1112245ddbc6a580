"""Derived fields: year, USD (given or derived from ECB rates) and country codes."""

from tests.conftest import ADMIN
from tests.factories import project, unique_id


async def test_usd_is_derived_from_ecb_rates_and_marked(client):
    body = project(
        dates={"announced": {"value": "2018"}},
        funding=[
            {
                "amount": 200_000_000,
                "currency": "CNY",
                "kind": "co-funding",
                "period": "annual",
                "text": "200 million renminbi",
            }
        ],
    )
    r = await client.put(f"/v1/projects/{unique_id()}", json=body, headers=ADMIN)
    item = r.json()["funding"][0]
    assert item["usd_derived"] is True
    assert 25_000_000 < item["usd"] < 35_000_000  # CNY at mid-2018, about 6.6 per USD
    assert r.json()["year"] == 2018
    assert r.json()["usd"] == item["usd"]


async def test_usd_given_by_the_source_is_kept(client):
    body = project(
        funding=[
            {
                "amount": 80_000_000_000,
                "currency": "EUR",
                "usd": 91_000_000_000,
                "kind": "budget",
                "text": "EUR 80 bn (US$91 bn)",
            }
        ]
    )
    r = await client.put(f"/v1/projects/{unique_id()}", json=body, headers=ADMIN)
    assert r.json()["funding"][0] == r.json()["funding"][0] | {
        "usd": 91_000_000_000,
        "usd_derived": False,
    }


async def test_lower_bounds_and_words_only_amounts_mark_the_sum(client):
    body = project(
        funding=[
            {
                "amount": 7_000_000_000,
                "currency": "USD",
                "qualifier": "at-least",
                "kind": "loan",
                "text": "at least USD 7 billion",
            },
            {
                "amount": None,
                "currency": "USD",
                "kind": "investment",
                "text": "at least several hundred million USD",
            },
        ]
    )
    r = await client.put(f"/v1/projects/{unique_id()}", json=body, headers=ADMIN)
    assert r.json()["usd"] == 7_000_000_000
    assert r.json()["usd_lower_bound"] is True
    assert r.json()["funding"][1]["amount"] is None


async def test_country_codes_join_countries_and_organisations(client):
    body = project(
        countries=[{"code": "AUS", "role": "host"}],
        organisations=[{"name": "Huawei", "country": "CHN", "chinese": True, "role": "partner"}],
    )
    r = await client.put(f"/v1/projects/{unique_id()}", json=body, headers=ADMIN)
    assert r.json()["country_codes"] == ["AUS", "CHN"]


async def test_invalid_country_and_currency_are_refused(client):
    body = project(
        countries=[{"code": "XYZ"}],
        funding=[{"amount": 1, "currency": "ABC", "kind": "loan", "text": "x"}],
    )
    r = await client.put(f"/v1/projects/{unique_id()}", json=body, headers=ADMIN)
    pointers = {e["pointer"] for e in r.json()["errors"]}
    assert pointers == {"/countries/0/code", "/funding/0/currency"}


async def test_european_union_is_a_party(client):
    r = await client.put(
        f"/v1/projects/{unique_id()}",
        json=project(countries=[{"code": "EUU", "role": "partner"}]),
        headers=ADMIN,
    )
    assert r.status_code == 201
