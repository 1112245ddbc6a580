"""Request examples for the contract, taken from the seed fixtures so they are always valid."""

from typing import Any

import orjson

from service.fixtures import FIXTURES
from service.records.resource import Resource


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
