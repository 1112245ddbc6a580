"""Every example in the contract is real: it validates against the schema it illustrates, and
it is what a service holding exactly the seed fixtures answers (service/records/routes/
examples.py names the queries). Real answers validate against the declared schemas too."""

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from service.records.routes import examples
from tests.conftest import ADMIN, fixture_puts

ROOT = Path(__file__).resolve().parent.parent
SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())
COLLECTIONS = ("events", "projects")


def check(schema: dict[str, Any], value: Any) -> None:
    """Validate `value` against a schema of the contract, its `$ref`s resolved in it."""
    root = {**schema, "components": SPEC["components"]}
    jsonschema.Draft202012Validator(root).validate(value)


def answer_doc(path: str, status: str, method: str = "get") -> dict[str, Any]:
    content: dict[str, Any] = SPEC["paths"][path][method]["responses"][status]["content"]
    return next(iter(content.values()))


@pytest.fixture(scope="module")
async def fixtures_only(app_client):
    async with app_client() as client:
        for path, body in fixture_puts():
            r = await client.put(path, json=body, headers=ADMIN)
            assert r.status_code == 201, r.text
        yield client


def test_every_example_validates_against_its_schema():
    checked = 0
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                for media, content in response.get("content", {}).items():
                    if "example" in content and "$ref" in content.get("schema", {}):
                        try:
                            check(content["schema"], content["example"])
                        except jsonschema.ValidationError as exc:
                            pytest.fail(f"{method} {path} {status} {media}: {exc.message}")
                        checked += 1
    assert checked > 200


async def assert_real(client, path: str, url: str, params: dict[str, str]) -> dict[str, Any]:
    documented = answer_doc(path, "200")
    r = await client.get(url, params=params)
    assert r.status_code == 200, r.text
    check(documented["schema"], r.json())
    return {"served": r.json(), "example": documented["example"]}


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_list_facets_and_stats_examples_are_what_the_server_answers(
    fixtures_only, collection
):
    base = f"/v1/{collection}"
    page = await assert_real(fixtures_only, base, base, examples.LIST_QUERY)
    served, example = page["served"], page["example"]
    assert isinstance(served.pop("next"), str) and isinstance(example.pop("next"), str)
    assert served == example
    for suffix, query in (("/facets", examples.FACETS_QUERY), ("/stats", examples.STATS_QUERY)):
        found = await assert_real(fixtures_only, base + suffix, base + suffix, query)
        assert found["served"] == found["example"], suffix


async def test_timeline_example_is_what_the_server_answers(fixtures_only):
    path = "/v1/countries/{code}/timeline"
    url = f"/v1/countries/{examples.TIMELINE_COUNTRY}/timeline"
    found = await assert_real(fixtures_only, path, url, {})
    assert found["served"] == found["example"] and found["served"]["data"]


async def test_every_answer_of_a_walk_validates_against_its_schema(fixtures_only):
    """Full records, revisions, the vocabulary, the changes feed: all as declared."""
    for collection in COLLECTIONS:
        base = f"/v1/{collection}"
        listed = (await fixtures_only.get(base, params={"limit": 200})).json()
        check(answer_doc(base, "200")["schema"], listed)
        rid = listed["data"][0]["id"]
        for path, url in (
            (base + "/{record_id}", f"{base}/{rid}"),
            (base + "/{record_id}/revisions", f"{base}/{rid}/revisions"),
            (base + "/{record_id}/revisions/{version}", f"{base}/{rid}/revisions/1"),
        ):
            r = await fixtures_only.get(url)
            assert r.status_code == 200, url
            check(answer_doc(path, "200")["schema"], r.json())
        stats = await fixtures_only.get(
            base + "/stats", params={"group_by": "year,sector", "metrics": "count,usd,usd_avg"}
        )
        check(answer_doc(base + "/stats", "200")["schema"], stats.json())
    for path in ("/v1/vocab", "/v1/changes", "/livez", "/readyz"):
        check(answer_doc(path, "200")["schema"], (await fixtures_only.get(path)).json())


async def test_error_examples_carry_what_the_server_sends(fixtures_only):
    """Each error example's type, title and status are those of a real answer."""
    rid = fixture_puts()[0][0].rsplit("/", 1)[1]
    cases: list[tuple[str, str, str, dict[str, Any]]] = [
        ("/v1/events", "get", "422", dict(url="/v1/events", params={"limit": 0})),
        ("/v1/events/{record_id}", "get", "404", dict(url="/v1/events/no-such-event")),
        (
            "/v1/events/{record_id}",
            "get",
            "401",
            dict(url="/v1/events", headers={"Authorization": "Bearer nope"}),
        ),
        (
            "/v1/events",
            "post",
            "415",
            dict(url="/v1/events", content=b"x", headers={**ADMIN, "content-type": "text/plain"}),
        ),
        (
            "/v1/events",
            "post",
            "400",
            dict(
                url="/v1/events",
                content=b"{",
                headers={**ADMIN, "content-type": "application/json"},
            ),
        ),
        (
            "/v1/events/{record_id}",
            "delete",
            "412",
            dict(url=f"/v1/events/{rid}", headers={**ADMIN, "If-Match": '"999"'}),
        ),
    ]
    for path, method, status, request in cases:
        documented = answer_doc(path, status, method)
        url = request.pop("url")
        r = await fixtures_only.request(method.upper(), url, **request)
        assert r.status_code == int(status), r.text
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        check(documented["schema"], body)
        example = documented["example"]
        assert (body["type"], body["title"], body["status"]) == (
            example["type"],
            example["title"],
            example["status"],
        ), (method, path, status)
        if status == "422":
            assert body["errors"] == example["errors"]
