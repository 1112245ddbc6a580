"""The published contracts equal what the code generates, and are valid."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

from service import contracts
from service.fixtures import fixture_files, read

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "regenerate with `make contracts` (python -m service contracts write)"


def test_committed_contracts_equal_generated():
    for path, expected in contracts.expected_files().items():
        assert path.exists(), f"{path.name} is missing: {REGENERATE}"
        assert path.read_text() == expected, f"{path.name} is out of date: {REGENERATE}"


async def test_served_openapi_equals_the_committed_file(client):
    served = (await client.get("/openapi.json")).json()
    assert served == yaml.safe_load((ROOT / "openapi.yaml").read_text())


def test_openapi_is_valid():
    validate(yaml.safe_load((ROOT / "openapi.yaml").read_text()))


def test_every_operation_has_id_summary_and_error_answers():
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    ids = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            ids.append(op["operationId"])
            assert op.get("summary"), f"{method} {path} has no summary"
            if path.startswith("/v1/"):
                errors = [c for c in op["responses"] if c[0] in "45"]
                assert errors, f"{method} {path} documents no error answer"
            for media in op.get("requestBody", {}).get("content", {}).values():
                has_examples = media.get("examples") or media.get("example")
                assert has_examples or media["schema"].get("examples"), f"{method} {path}"
    assert len(ids) == len(set(ids))


def test_every_fixture_validates_against_the_published_schemas():
    schemas = {
        "events": json.loads((ROOT / "schemas" / "event.schema.json").read_text()),
        "projects": json.loads((ROOT / "schemas" / "project.schema.json").read_text()),
    }
    files = list(fixture_files())
    assert len([f for f in files if f[0] == "events"]) >= 25
    assert len([f for f in files if f[0] == "projects"]) >= 30
    for collection, path in files:
        jsonschema.validate(read(path), schemas[collection])


@pytest.mark.parametrize(
    ("collection", "filters"),
    [
        ("events", {"q", "kind", "country", "sector", "organisation", "dual_use"}),
        ("projects", {"q", "kind", "status", "country", "sector", "organisation", "dual_use"}),
    ],
)
def test_every_filter_is_documented_with_its_type_and_enum(collection, filters):
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    schemas = spec["components"]["schemas"]
    numeric = {"year_from", "year_to", "usd_min", "usd_max", "updated_since", "tag"}
    for suffix in ("", "/facets", "/stats", "/export"):
        operation = spec["paths"][f"/v1/{collection}{suffix}"]["get"]
        params = {p["name"]: p for p in operation["parameters"]}
        assert filters | numeric <= set(params), suffix
        for name in filters - {"q", "organisation"}:
            schema = params[name]["schema"]
            # Repeated (`country=A&country=B`), as generated clients send an array.
            assert schema["type"] == "array" and params[name]["explode"] is True
            ref = schema["items"]["$ref"].rsplit("/", 1)[1]
            assert schemas[ref]["enum"], name
        assert operation["responses"]["200"]["content"], suffix
        examples = [c.get("example") for c in operation["responses"]["200"]["content"].values()]
        assert any(examples), f"{suffix} has no example"
    if collection == "events":
        assert "status" not in params


def test_country_enum_lists_iso_codes():
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    codes = spec["components"]["schemas"]["CountryCode"]["enum"]
    assert {"CHN", "PAK", "EUU"} <= set(codes) and len(codes) > 240
