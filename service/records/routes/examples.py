"""Examples for the contract: request bodies from the seed fixtures (so they are always
valid), and what list, facets, stats and export answers look like."""

from typing import Any

import orjson

from service.fixtures import FIXTURES
from service.records.resource import Resource


def list_page(resource: Resource) -> dict[str, Any]:
    return {
        "data": [
            {
                "id": resource.example_id,
                "version": 3,
                "title": "Belt and Road Forum for International Cooperation",
                "year": 2017,
                "usd": None,
                "country_codes": ["CHN"],
            }
        ],
        "total": 42,
        "next": "eyJoIjoiNGQ5Y2Y0NjEiLCJ2IjoxMjMsImkiOiJ4In0.c2lnbmF0dXJlMTIz",
    }


def facets() -> dict[str, Any]:
    return {
        "country": [{"value": "CHN", "count": 41}, {"value": "PAK", "count": 6}],
        "year": [{"value": 2017, "count": 9}, {"value": None, "count": 2}],
    }


def stats() -> dict[str, Any]:
    return {
        "group_by": ["year", "sector"],
        "metrics": ["count", "usd"],
        "include_all": False,
        "roles": None,
        "rows": [
            {
                "year": 2018,
                "sector": "research",
                "period": None,
                "count": 1,
                "usd": 29_000_000,
                "usd_lower_bound": False,
                "usd_per_year": None,
            },
            {
                "year": None,
                "sector": "cables",
                "period": "since 2013",
                "count": 1,
                "usd": 7_000_000_000,
                "usd_lower_bound": True,
                "usd_per_year": None,
            },
        ],
        "totals": {
            "count": 55,
            "usd": 17_161_811_879,
            "usd_lower_bound": True,
            "usd_per_year": None,
        },
    }


def csv(resource: Resource) -> str:
    header = ",".join(resource.csv_columns)
    return header + "\r\n" + resource.example_id + ",3,...\r\n"


def body_examples(resource: Resource) -> dict[str, dict[str, Any]]:
    path = FIXTURES / resource.name / f"{resource.example_id}.json"
    if not path.exists():  # an installation without fixtures documents no example
        return {}
    record = orjson.loads(path.read_bytes())
    record.pop("id", None)
    return {
        resource.example_id: {
            "summary": f"The {resource.singular} {resource.example_id!r} from the seed fixtures",
            "value": record,
        }
    }
