"""`POST /v1/{collection}/bulk`: the bulk upsert route of one collection."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field, create_model
from starlette.responses import Response

from service.auth.deps import Writer
from service.middleware.limits import BULK_ROUTE
from service.records.resource import Resource
from service.records.routes.examples import body_examples
from service.records.routes.repository_dep import repository_for
from service.records.storage.bulk import MAX_ITEMS, summary, upsert_many
from service.records.storage.repository import Repository
from service.web.error_docs import error_responses
from service.web.idempotent import IDEMPOTENCY_RULES, IdempotencyKey, respond
from service.web.json_response import JSONBytes
from service.web.parsed_body import ParsedBodyRoute


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


def bulk_router(resource: Resource) -> APIRouter:
    name, one = resource.name, resource.singular
    router = APIRouter(prefix=f"/v1/{name}", tags=[name], route_class=ParsedBodyRoute)
    Repo = Annotated[Repository, Depends(repository_for(resource))]

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
        name=BULK_ROUTE,
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
        repository: Repo,
        who: Writer,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:

        async def run() -> Response:
            results = await upsert_many(repository, body.records, who)  # type: ignore[attr-defined]
            return JSONBytes({"results": results, "summary": summary(results)})

        return await respond(request, who, idempotency_key, run)

    return router
