"""Examples for the contract, computed from the seed fixtures: request bodies, and the exact
answers a service holding only the fixtures gives to the queries named here (`*_QUERY`).
tests/test_answer_examples.py loads the fixtures, asks those queries and compares, so an
example cannot drift from what the server says. An installation without fixtures documents
no example."""

from collections import Counter
from functools import cache
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from service.fixtures import FIXTURES, fixture_files, read
from service.records.derive import derive
from service.records.resource import Resource

#: The list example answers `GET /v1/{collection}` with these parameters (a fixed order, so
#: the page is known; `next` is a cursor, signed with each deployment's own secret).
LIST_QUERY = {"fields": "title,year,country_codes", "sort": "id", "limit": "2"}
FACETS_QUERY = {"by": "kind", "size": "3"}
STATS_QUERY = {"group_by": "kind", "metrics": "count"}
TIMELINE_COUNTRY = "ISR"
EXAMPLE_CURSOR = "eyJoIjoi...signed-by-the-server"


@cache
def _served(collection: str) -> dict[str, dict[str, Any]]:
    """The public fields of each fixture as the service stores them (derived ones included),
    by id, in id order."""
    from service.wiring import RESOURCES  # wiring builds the routes that use this module

    model = next(r.fields_model for r in RESOURCES if r.name == collection)
    out = {}
    for name, path in fixture_files():
        if name == collection:
            data = read(path)
            fields, derived = derive(model.model_validate(data))
            public = {k: v for k, v in derived.items() if not k.startswith("_")}
            dates = {k: derived[k] for k in ("_date", "_date_text")}
            out[data["id"]] = fields.model_dump(mode="json") | public | dates
    return dict(sorted(out.items()))


def list_page(resource: Resource) -> dict[str, Any]:
    records = _served(resource.name)
    if not records:
        return {}
    wanted = LIST_QUERY["fields"].split(",")
    first = list(records.items())[: int(LIST_QUERY["limit"])]
    data = [{"id": i, "version": 1, **{k: r[k] for k in wanted}} for i, r in first]
    more = len(records) > len(first)
    return {"data": data, "total": len(records), "next": EXAMPLE_CURSOR if more else None}


def _ranked(counts: Counter[Any], size: int | None = None) -> list[tuple[Any, int]]:
    """Most frequent first, ties by value: the order of facets and statistics rows."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:size]


def _kinds(resource: Resource) -> Counter[Any]:
    return Counter(r["kind"] for r in _served(resource.name).values())


def facets(resource: Resource) -> dict[str, Any]:
    counts = _ranked(_kinds(resource), int(FACETS_QUERY["size"]))
    return {"kind": [{"value": v, "count": n} for v, n in counts]}


def stats(resource: Resource) -> dict[str, Any]:
    kinds = _kinds(resource)
    return {
        "group_by": ["kind"],
        "metrics": ["count"],
        "include_all": False,
        "roles": None,
        "rows": [{"kind": v, "count": n} for v, n in _ranked(kinds)],
        "totals": {"count": sum(kinds.values())},
    }


def timeline(resources: tuple[Resource, ...]) -> dict[str, Any]:
    keep = ("title", "kind", "status", "year", "usd", "usd_qualifier", "usd_period")
    items = []
    for resource in resources:
        for rid, r in _served(resource.name).items():
            if TIMELINE_COUNTRY in r["country_codes"]:
                item = {"collection": resource.name, "id": rid, "date": r["_date"]}
                item["date_text"] = r["_date_text"]
                items.append(item | {k: r.get(k) for k in (*keep, "usd_lower_bound")})
    items.sort(key=lambda i: (i["date"] is None, i["date"] or "", i["collection"], i["id"]))
    return {"country": TIMELINE_COUNTRY, "data": items}


def csv(resource: Resource) -> str:
    header = ",".join(resource.csv_columns)
    return header + "\r\n" + resource.example_id + ",1,...\r\n"


def json_example(example: dict[str, Any]) -> dict[str, Any]:
    """A response `content` entry carrying `example`, or none when there is no fixture."""
    return {"application/json": {"example": example}} if example else {}


def body_examples(resource: Resource) -> dict[str, dict[str, Any]]:
    path = FIXTURES / resource.name / f"{resource.example_id}.json"
    if not path.exists():
        return {}
    record = read(path)
    record.pop("id", None)
    return {
        resource.example_id: {
            "summary": f"The {resource.singular} {resource.example_id!r} from the seed fixtures",
            "value": record,
        }
    }


def restore_examples(app: FastAPI, openapi: dict[str, Any]) -> None:
    """Put each answer example back as declared: FastAPI drops every null from the document
    it generates, examples included, and an answer's nulls (`usd: null`, `next: null`) are
    part of what it says."""
    by_operation = {}
    for route in (ctx.original_route for ctx in iter_route_contexts(app.routes)):
        if not isinstance(route, APIRoute):
            continue
        for status, response in route.responses.items():
            for media, content in response.get("content", {}).items():
                if "example" in content:
                    by_operation[route.operation_id, str(status), media] = content["example"]
    for item in openapi.get("paths", {}).values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                for media, content in response.get("content", {}).items():
                    key = (operation.get("operationId"), status, media)
                    if key in by_operation:
                        content["example"] = by_operation[key]
