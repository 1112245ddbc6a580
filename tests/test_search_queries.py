"""Real queries over the seed article's records: what each must find, rank and leave out.

Each row is a query someone reading the article would type, with the records it must return
(`found`), the ones that must come first in their collection's ranking (`top`, in any order
within the first len(top)), the ones it must not return (`not_found`), and, where the answer
is known completely, `exactly`. Ids are unique across events and projects, so the two
collections' results are checked together. Loaded from fixtures/ through the API.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from service.fixtures import fixture_files, read
from tests.conftest import ADMIN
from tests.factories import project, unique_id

ROSTEC = {
    "avic-rostec-aviation",
    "casc-rostec-agreement-2014",
    "casc-rostec-dual-use",
    "casic-rostec",
    "cetc-rostec-1",
    "cetc-rostec-2",
    "zhuhai-airshow-2014",
}
DSR_ESTIMATES = {
    "dsr-data-research-centres",
    "dsr-ecommerce-payments",
    "dsr-fibre-telecom",
    "dsr-smart-safe-city",
}
EU_CHINA = {
    "eu-china-cofunding-launch-2015",
    "eu-china-cofunding-mechanism",
    "eu-china-flagship-roadmap",
    "eu-china-innovation-dialogue-2013",
    "eu-china-innovation-dialogue-2017",
    "horizon-2020",
    "china-ec-agreement-1998",
}


@dataclass(frozen=True)
class Case:
    q: str
    found: set[str] = field(default_factory=set)
    top: set[str] = field(default_factory=set)
    not_found: set[str] = field(default_factory=set)
    exactly: set[str] | None = None


CASES = [
    # Words every record's source shares (its title and publisher) match only the records
    # that use them themselves.
    Case(
        "digital silk road",
        found={"digital-silk-road", "bri-progress-report", *DSR_ESTIMATES},
        top={"digital-silk-road"},
        not_found=ROSTEC | EU_CHINA | {"newton-fund", "torch-programme"},
    ),
    Case("military", not_found=ROSTEC | DSR_ESTIMATES | EU_CHINA),
    Case("military growth", exactly=set()),
    Case("International Defense Security Technology", exactly=set()),
    Case("idstch", exactly=set()),
    Case(
        "Innovation Road",
        top={"innovation-road-subforum-2019"},
        not_found=ROSTEC | {"digital-silk-road", "university-alliance-new-silk-road"},
    ),
    # British and American spellings, and the domain's variants.
    Case(
        "fiber optic", found={"dsr-fibre-telecom", "ndrc-vision-and-actions", "made-in-china-2025"}
    ),
    Case(
        "fibre optic", found={"dsr-fibre-telecom", "ndrc-vision-and-actions", "made-in-china-2025"}
    ),
    Case("fiber-optic cable", top={"dsr-fibre-telecom"}, not_found=ROSTEC),
    Case("Jiao Tong", exactly={"university-alliance-new-silk-road"}),
    Case("Jiaotong", exactly={"university-alliance-new-silk-road"}),
    Case("Xi'an Jiaotong University", exactly={"university-alliance-new-silk-road"}),
    Case("Xian", found={"university-alliance-new-silk-road", "euro-asia-economic-forum-2015"}),
    Case(
        "AI",
        found={"us-startup-investments", "br-sti-action-plan", "belt-and-road-forum-2017"},
        not_found=ROSTEC | EU_CHINA,
    ),
    Case(
        "artificial intelligence",
        found={"us-startup-investments", "br-sti-action-plan", "br-sti-action-plan-2017"},
        top={"us-startup-investments"},
    ),
    Case("FDI", exactly={"dsr-fibre-telecom"}),
    Case("foreign direct investment", exactly={"dsr-fibre-telecom"}),
    Case("RMB", exactly={"eu-china-cofunding-mechanism"}),
    Case("yuan", exactly={"eu-china-cofunding-mechanism"}),
    Case("renminbi", exactly={"eu-china-cofunding-mechanism"}),
    Case("CNY", exactly={"eu-china-cofunding-mechanism"}),
    Case("EU", found=EU_CHINA, not_found=ROSTEC),
    Case("European Union", found=EU_CHINA, not_found=ROSTEC),
    Case(
        "BRI",
        found={"belt-and-road-initiative", "italy-joins-bri-2019", "belt-and-road-forum-2017"},
        not_found=ROSTEC | EU_CHINA,
    ),
    Case("one belt one road", found={"belt-and-road-initiative"}, not_found=ROSTEC),
    Case("defense", found=ROSTEC, not_found=EU_CHINA),
    Case("defence industry", found={"zhuhai-airshow-2014"}, not_found=EU_CHINA),
    Case("research centers", found={"us-research-centres", "dsr-data-research-centres"}),
    Case("organization", found={"cast-st-organisation-platform", "cast-folk-st-exchange"}),
    Case("Torch program", top={"torch-programme"}, found={"unsw-torch", "unsw-torch-signing"}),
    # Years, dates and kinds.
    Case(
        "belt road forum 2017",
        top={"belt-and-road-forum-2017"},
        not_found={"belt-and-road-forum-2019", "innovation-road-subforum-2019"},
    ),
    Case("1998", exactly={"china-ec-agreement-1998"}),
    Case("Zhuhai 2014", found=ROSTEC - {"casc-rostec-agreement-2014", "casc-rostec-dual-use"}),
    Case("forum 2019", top={"belt-and-road-forum-2019", "innovation-road-subforum-2019"}),
    Case("summit", exactly={"china-israel-hitech-summit"}),
    Case("university alliance", top={"university-alliance-new-silk-road"}),
    Case("aggregate estimate", found=DSR_ESTIMATES, not_found=ROSTEC),
    # Funding wording.
    Case("loans", exactly={"dsr-fibre-telecom"}),
    Case("USD 7 billion", exactly={"dsr-fibre-telecom"}),
    Case("USD 10 billion", exactly={"dsr-ecommerce-payments"}),
    Case("$100m", found={"unsw-torch", "unsw-torch-signing"}, not_found=ROSTEC),
    Case("several hundred million", exactly={"dsr-smart-safe-city"}),
    Case("US dollar", found={"dsr-smart-safe-city", "dsr-fibre-telecom"}, not_found=ROSTEC),
    # Organisations, people, places and sectors the article names.
    Case("Rostec", exactly=ROSTEC),
    Case("Zhuhai Airshow", top={"zhuhai-airshow-2014"}),
    Case("Huawei", found={"huawei-nbn-ban-2013", "unsw-torch"}, top={"huawei-nbn-ban-2013"}),
    Case("ASIO", exactly={"huawei-nbn-ban-2013"}),
    Case("MERICS", found=DSR_ESTIMATES | {"digital-silk-road", "africa-ict-financing"}),
    Case("Wang Zhigang", exactly={"most-action-plan-statement"}),
    Case("Imran Khan", exactly={"belt-and-road-forum-2019"}),
    Case("Putin", found={"spief-2016", "eaeu-china-fta", "belt-and-road-forum-2019"}),
    Case("EAEU", exactly={"spief-2016", "eaeu-china-fta"}),
    Case("Haifa", exactly={"china-israel-hitech-summit"}),
    Case("Fraunhofer", exactly={"germany-china-cooperation"}),
    Case("Newton Fund", top={"newton-fund"}),
    Case("Horizon 2020", top={"horizon-2020"}, found={"eu-china-cofunding-mechanism"}),
    Case("cofunding", found={"eu-china-cofunding-mechanism", "eu-china-cofunding-launch-2015"}),
    Case("startups", found={"us-startup-investments", "torch-programme"}),
    Case("Beidou", top={"beidou-bri"}, not_found=ROSTEC),
    Case("Australia", found={"huawei-nbn-ban-2013", "unsw-torch", "unsw-torch-signing"}),
    Case("Russia", found=ROSTEC | {"spief-2016"}, not_found=EU_CHINA),
    Case("5G", found={"digital-silk-road", "dsr-fibre-telecom"}, not_found=ROSTEC),
    Case("e-commerce mobile payments", top={"dsr-ecommerce-payments"}, not_found=ROSTEC),
    Case("quantum computing", found={"br-sti-action-plan", "belt-and-road-forum-2017"}),
    Case(
        "Alibaba Tencent Baidu",
        exactly={"national-informatization-strategy-2016", "dsr-ecommerce-payments"},
    ),
    Case("3D printing", exactly={"china-israel-hitech", "china-israel-hitech-summit"}),
    Case("semiconductors", top={"us-semiconductor-acquisitions"}),
    Case("helicopters avionics", found={"avic-rostec-aviation"}, not_found=EU_CHINA),
    Case("smart cities", top={"dsr-smart-safe-city"}, not_found=ROSTEC),
]


@pytest.fixture(scope="module")
async def article(app_client: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client() as c:
        for collection, path in fixture_files():
            data = read(path)
            r = await c.put(f"/v1/{collection}/{data['id']}", json=data, headers=ADMIN)
            assert r.status_code == 201, r.text
        yield c


async def ranked(client: httpx.AsyncClient, collection: str, q: str) -> list[str]:
    r = await client.get(f"/v1/{collection}", params={"q": q, "limit": 200, "fields": "id"})
    assert r.status_code == 200, r.text
    return [d["id"] for d in r.json()["data"]]


@pytest.mark.parametrize("case", CASES, ids=[c.q for c in CASES])
async def test_real_query(article, case: Case):
    events, projects = (
        await ranked(article, "events", case.q),
        await ranked(article, "projects", case.q),
    )
    found = set(events) | set(projects)
    assert case.found <= found, f"missing: {sorted(case.found - found)}"
    assert not (case.not_found & found), f"unwanted: {sorted(case.not_found & found)}"
    if case.exactly is not None:
        assert found == case.exactly
    for results in (events, projects):
        wanted = case.top & set(results)
        assert wanted <= set(results[: len(wanted)]), f"not first: {results[: len(wanted) + 2]}"
    assert case.top <= found


async def test_there_are_enough_real_queries():
    assert len(CASES) >= 40


async def test_no_query_of_the_table_matches_everything(article):
    everything = len(list(fixture_files()))
    for case in CASES:
        events, projects = (
            await ranked(article, "events", case.q),
            await ranked(article, "projects", case.q),
        )
        assert len(events) + len(projects) < everything, case.q


async def spelled(client: httpx.AsyncClient, words: str) -> str:
    """A project titled `words` plus a word of its own; returns that word."""
    marker = unique_id("m").replace("-", "")
    body = project(title=f"{words} {marker}", sectors=[], tags=[])
    r = await client.put(f"/v1/projects/{marker}", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    return marker


async def test_the_synonym_list_is_published_and_each_spelling_finds_every_other(client):
    r = await client.get("/v1/vocab/synonyms")
    assert r.status_code == 200
    groups = {g["canonical"]: g["variants"] for g in r.json()["synonyms"]}
    for canonical, variant in [
        ("fibre", "fiber"),
        ("jiaotong", "jiao tong"),
        ("rmb", "yuan"),
        ("rmb", "renminbi"),
        ("rmb", "cny"),
        ("ai", "artificial intelligence"),
        ("eu", "european union"),
        ("bri", "belt and road"),
    ]:
        assert variant in groups[canonical]
    for canonical, variants in groups.items():
        spellings = [canonical, *variants]
        for written in spellings:
            marker = await spelled(client, written)
            for typed in spellings:
                r = await client.get("/v1/projects", params={"q": f"{typed} {marker}"})
                assert [d["id"] for d in r.json()["data"]] == [marker], (written, typed)


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("fiber-optic cable", "fibre optic"),
        ("fibre-optic cable", "fiber optic"),
        ("research centers", "research centres"),
        ("digitization programme", "digitisation program"),
        ("defense industry", "defence industry"),
        ("Jiaotong University", "Jiao Tong"),
        ("Jiao Tong University", "Jiaotong"),
        ("start-ups", "startups"),
        ("co-funding", "cofunding"),
        ("200 million yuan", "RMB"),
        ("European Union", "EU"),
        ("One Belt, One Road", "BRI"),
        ("Belt and Road", "belt road"),
    ],
)
async def test_spellings_and_variants_meet(client, written, typed):
    marker = await spelled(client, written)
    r = await client.get("/v1/projects", params={"q": f"{typed} {marker}"})
    assert [d["id"] for d in r.json()["data"]] == [marker]
