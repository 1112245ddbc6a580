"""A small, fully known data set for counting tests: what each filter, facet and sum must give.

Loaded once per test module into a database of its own (see `seeded` in the test modules).
"""

from typing import Any

from tests.factories import SOURCE, event, project

M = 1_000_000


def usd(amount: int, **extra: Any) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD", "kind": "loan", "text": f"${amount}", **extra}


PROJECTS: dict[str, dict[str, Any]] = {
    "p-cable-pak": project(
        title="Fibre-optic cable between Pakistan and China",
        kind="cable",
        status="completed",
        dates={"started": {"value": "2016-05"}},
        countries=[{"code": "PAK", "role": "host"}, {"code": "CHN", "role": "financier"}],
        organisations=[{"name": "Huawei", "role": "contractor", "country": "CHN"}],
        sectors=["cables"],
        tags=["fibre"],
        funding=[usd(44 * M)],
        umbrella_ids=["p-umbrella"],
    ),
    "p-cable-2": project(
        title="Submarine cable to Oman",
        summary="A new subsea link.",
        kind="cable",
        status="under-construction",
        dates={"announced": {"value": "2019"}},
        countries=[{"code": "OMN", "role": "host"}, {"code": "CHN", "role": "financier"}],
        sectors=["cables"],
        funding=[usd(500 * M, qualifier="more-than")],
        parent_id="p-umbrella",
        umbrella_ids=["p-umbrella"],
        quality={
            "confidence": "low",
            "conflicts": [{"field": "start", "description": "Two years are given."}],
        },
    ),
    "p-lab-ken": project(
        title="Joint laboratory on crop science",
        summary="Plant breeding research.",
        kind="joint-laboratory",
        status="agreed",
        dates={"signed": {"value": "2018-03-01"}},
        countries=[{"code": "KEN", "role": "host"}, {"code": "CHN", "role": "partner"}],
        organisations=[{"name": "Chinese Academy of Sciences", "role": "lead"}],
        sectors=["research", "agriculture"],
        dual_use={"level": "none"},
        quality={"confidence": "high"},
        funding=[
            {
                "amount": 10 * M,
                "currency": "EUR",
                "usd": 11 * M,
                "qualifier": "at-least",
                "kind": "grant",
                "text": "at least EUR 10 million",
            }
        ],
    ),
    "p-umbrella": project(
        title="Digital Silk Road programme",
        summary="Umbrella for cable and telecom network projects.",
        kind="programme",
        status="ongoing",
        dates={"announced": {"value": "2015"}},
        countries=[{"code": "CHN", "role": "host"}],
        sectors=["telecom", "cables"],
        recommended_for_aggregates=False,
        funding=[usd(1000 * M, kind="estimate")],
    ),
    "p-dc-aus": project(
        title="Data centre in Sydney",
        kind="data-centre",
        status="under-construction",
        dates={"started": {"value": "2017"}},
        countries=[{"code": "AUS", "role": "host"}],
        organisations=[
            {"name": "Huawei", "role": "contractor"},
            {"name": "Huawei", "role": "operator"},
        ],
        sectors=["data-centres"],
        tags=["cloud"],
        parent_id="p-umbrella",
        dual_use={"level": "possible"},
        funding=[
            usd(100 * M),
            usd(50 * M, recommended_for_aggregates=False),
            {"amount": None, "currency": "USD", "kind": "investment", "text": "several hundred"},
        ],
    ),
    "p-undated": project(
        title="Alliance of universities",
        summary="Universities of the Silk Road.",
        kind="university-alliance",
        status="unknown",
        dates={},
        countries=[{"code": "CHN", "role": "member"}, {"code": "RUS", "role": "member"}],
        sectors=["higher-education"],
        funding=[],
        sources=[{**SOURCE, "title": "A report on cable diplomacy"}],
    ),
}

EVENTS: dict[str, dict[str, Any]] = {
    "e-summit-2015": event(
        title="Pakistan-China summit",
        kind="summit",
        start={"value": "2015-04"},
        countries=[{"code": "PAK", "role": "host"}, {"code": "CHN", "role": "partner"}],
        sectors=["policy"],
    ),
    "e-forum-2017": event(
        title="Belt and Road Forum",
        kind="forum",
        start={"value": "2017-05-14"},
        countries=[{"code": "CHN", "role": "host"}, {"code": "PAK", "role": "participant"}],
        sectors=["policy", "trade"],
        tags=["brf"],
    ),
    "e-agreement-2018": event(
        title="Cooperation agreement with Kenya",
        kind="agreement",
        start={"value": "2018-09-03"},
        countries=[{"code": "KEN", "role": "signatory"}, {"code": "CHN", "role": "signatory"}],
        sectors=["research"],
    ),
}

#: Records created and then deleted: their tombstones must never show up.
DELETED = {"projects": "p-deleted", "events": "e-deleted"}
