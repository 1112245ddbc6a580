"""The published contracts equal what the code generates, and are valid."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
            assert schema["type"] == "array" and params[name]["style"] == "form"
            assert params[name]["explode"] is True  # repeated, as generated clients send it
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


def _operations() -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    for path, item in spec["paths"].items():
        for method, op in item.items():
            yield spec, f"{method.upper()} {path}", op


def test_every_json_answer_declares_a_typed_schema():
    """A generated client returns None for an answer whose schema is empty."""
    for spec, where, op in _operations():
        for status, response in op["responses"].items():
            if status.startswith("2") and "application/json" in response.get("content", {}):
                schema = response["content"]["application/json"].get("schema", {})
                ref = schema.get("$ref", "")
                assert ref.startswith("#/components/schemas/"), f"{where} {status}: {schema}"
                target = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
                assert target.get("properties"), f"{where} {status}: {ref} has no properties"


def test_errors_are_declared_as_problem_json_only_with_types_the_server_sends():
    from service.problems import TYPE_BASE
    from service.web.error_docs import SLUGS

    seen = 0
    for spec, where, op in _operations():
        assert "Problem" in spec["components"]["schemas"]
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], where
                content = response["content"]["application/problem+json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Problem"}, where
                assert content["example"]["type"] == TYPE_BASE + SLUGS[int(status)], where
                assert content["example"]["status"] == int(status), where
                seen += 1
    assert seen > 100


def test_public_operations_need_no_key_and_info_names_licence_and_contact():
    publics = []
    for _spec, where, op in _operations():
        if op["x-access"] == "public":
            assert op["security"] == [], where
            publics.append(where)
        else:
            assert op["security"], where
    assert {"GET /livez", "GET /readyz", "GET /v1/vocab"} <= set(publics)
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert spec["info"]["license"]["name"] and spec["info"]["license"]["url"]
    assert spec["info"]["contact"]["url"]
