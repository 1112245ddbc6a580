"""`POST /v1/{collection}/bulk`: the bulk upsert route, added to each resource's router."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request
from pydantic import BaseModel, Field, create_model
from starlette.responses import Response

from service.auth.deps import Writer
from service.idempotency import respond
from service.records.bulk import MAX_ITEMS, summary
from service.records.examples import body_examples
from service.records.http import JSONBytes
from service.records.repository import Repository
from service.records.resource import Resource
from service.records.responses import error_responses

IDEMPOTENCY_RULES = (
    "`Idempotency-Key` (optional, up to 255 characters): a retry with the same key, the same "
    "key (principal) and the same body replays the first answer, status and body, with "
    "`Idempotent-Replayed: true`, and changes nothing. The same key with a different body "
    "is a 422; while the first request is still running, a duplicate is a 409 (retry after "
    "`Retry-After`). Keys are scoped to the caller's API key and the route, and kept at "
    "least 24 hours. Answers 5xx are not kept: a retry runs again."
)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Makes a retry safe: see the operation's description.",
    ),
]


class BulkResult(BaseModel):
    id: str | None
    status: str = Field(description="`created`, `updated`, `unchanged` or `error`.")
    version: int | None = Field(description="The record's version after this item.")
    error: dict[str, Any] | None = Field(
        default=None, description="For `error`: the item's problem document (RFC 9457)."
    )


class BulkAnswer(BaseModel):
    results: list[BulkResult] = Field(description="One per item, in input order.")
    summary: dict[str, int] = Field(
        examples=[{"total": 3, "created": 1, "updated": 1, "unchanged": 0, "error": 1}]
    )


def add_bulk_route(router: APIRouter, resource: Resource) -> None:
    name, one = resource.name, resource.singular

    BulkRequest = create_model(
        f"Bulk{one.capitalize()}Request",
        records=(
            list[dict[str, Any]],
            Field(
                max_length=MAX_ITEMS,
                description=f"Up to {MAX_ITEMS} {name}, each a full {one} as PUT takes it "
                "plus its `id` (required: you choose it) and an optional `if_match` version "
                "the item applies to (stale: that item is a 412 error).",
            ),
        ),
    )
    examples = {
        key: {
            "summary": f"One {one} from the seed fixtures, by id",
            "value": {"records": [{"id": resource.example_id, **example["value"]}]},
        }
        for key, example in body_examples(resource).items()
    }

    @router.post(
        "/bulk",
        operation_id=f"bulk_upsert_{name}",
        summary=f"Create or replace many {name} by id",
        description=f"Create-or-replace like PUT, for up to {MAX_ITEMS} records; more is a "
        "422 before anything is written. Answers 200 with one result per item in input "
        "order: `created`, `updated`, `unchanged` (identical to what is stored: no new "
        "version) or `error` with the item's problem (422 invalid, 403 a record the key may "
        "not change, 412 stale `if_match`). Each item is atomic on its own; a bad item does "
        "not stop the others.\n\n" + IDEMPOTENCY_RULES,
        response_model=BulkAnswer,
        responses=error_responses(400, 401, 403, 409, 413, 415, 422, 503),
    )
    async def bulk_upsert(
        request: Request,
        body: Annotated[BulkRequest, Body(openapi_examples=examples)],
        who: Writer,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        repository: Repository = request.app.state.repositories[name]

        async def run() -> Response:
            results = await repository.bulk(body.records, who)  # type: ignore[attr-defined]
            return JSONBytes({"results": results, "summary": summary(results)})

        return await respond(request, who, idempotency_key, run)
