"""The route factory: one router of versioned CRUD per resource, the same for every collection.

Routers are thin: they read headers, call the repository once and shape the HTTP answer.
Domain errors come from below as `Problem`s and are rendered in one place (`problems.py`).
"""

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from pydantic import AfterValidator
from starlette.responses import Response, StreamingResponse

from service.auth.deps import Reader, Writer
from service.idempotency import respond
from service.records import examples
from service.records.bulk_routes import IDEMPOTENCY_RULES, IdempotencyKey, add_bulk_route
from service.records.export import MEDIA_TYPES, csv_lines, ndjson_lines
from service.records.http import JSONBytes, etag, matches_any, parse_version_tag
from service.records.merge_patch import merge_patch
from service.records.model import ID_PATTERN, not_reserved
from service.records.query import (
    COMMA_LIST,
    Filters,
    PageRequest,
    comma_list,
    filter_dependency,
    one_of,
    page_dependency,
    refuse_repeats,
)
from service.records.repository import Repository, Written
from service.records.resource import Resource
from service.records.responses import error_responses, links_to_record
from service.records.stats import FACETS, METRICS, parse_stats

#: Any record operation can meet a bad key, a bad parameter, a rate limit or an outage.
ALWAYS = (401, 422, 429, 503)
#: Operations with a body can also meet a malformed, oversized or non-JSON one.
BODY = (400, 413, 415)

IdPath = Annotated[
    str,
    Path(pattern=ID_PATTERN, description="The record's id (a slug)."),
    AfterValidator(not_reserved),
]
#: A version ETag this service issued (`"3"`, optionally weak), or `*`.
ETAG_PATTERN = r'^\s*(\*|(W/)?"[1-9][0-9]{0,9}")\s*$'
IfMatch = Annotated[
    str | None,
    Header(
        pattern=ETAG_PATTERN,
        description='Version ETag the write applies to, e.g. `"3"`; stale answers 412.',
    ),
]


def _answer(written: Written, base: str, status: int | None = None) -> Response:
    record = written.record
    headers = {"ETag": etag(written.version)}
    if written.status == "created":
        headers["Location"] = f"{base}/{record['id']}"
    code = status or (201 if written.status == "created" else 200)
    return JSONBytes(record, status_code=code, headers=headers)


def build_router(resource: Resource) -> APIRouter:
    name, one = resource.name, resource.singular
    Fields = resource.fields_model
    Record = resource.record_model
    router = APIRouter(prefix=f"/v1/{name}", tags=[name])
    record_examples = examples.body_examples(resource)
    base = f"/v1/{name}"

    async def repo(request: Request) -> Repository:
        # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, and that
        # hop cost more CPU than the rest of a GET by id (seen with py-spy; bench/).
        return request.app.state.repositories[name]  # type: ignore[no-any-return]

    Repo = Annotated[Repository, Depends(repo)]

    Filtered = Annotated[Filters, Depends(filter_dependency(resource))]
    Paged = Annotated[PageRequest, Depends(page_dependency(resource))]
    facet_names = [d for d in FACETS if d in resource.dimensions]
    dimensions = list(resource.dimensions)

    @router.get(
        "",
        operation_id=f"list_{name}",
        summary=f"List and search {name}",
        description="Filters combine with AND; a comma inside one filter means any-of. Pages "
        'are keyset-paged: follow `next` (also sent as a `Link: <...>; rel="next"` header) '
        "until it is null. Every matching record is returned exactly once along the walk, "
        "even while others are written.",
        responses={
            200: {"content": {"application/json": {"example": examples.list_page(resource)}}},
            **error_responses(422, *ALWAYS),
        },
    )
    async def list_records(
        request: Request, repository: Repo, _: Reader, filters: Filtered, page: Paged
    ) -> Response:
        answer = await repository.list_page(filters, page)
        headers = {}
        if answer["next"]:
            url = request.url.include_query_params(cursor=answer["next"])
            headers["Link"] = f'<{url}>; rel="next"'
        return JSONBytes(answer, headers=headers)

    @router.get(
        "/facets",
        operation_id=f"facet_{name}",
        summary=f"Count {name} per value, for filter panels",
        description="For each facet in `by`, the values with the number of matching records, "
        "most frequent first (records without a value count under `null`; a record counts "
        "once under each of its countries, sectors or organisations). A facet ignores its "
        "own field's filter, so a panel can still offer the other values.",
        responses={
            200: {"content": {"application/json": {"example": examples.facets()}}},
            **error_responses(422, *ALWAYS),
        },
    )
    async def facets(
        repository: Repo,
        _: Reader,
        filters: Filtered,
        request: Request,
        by: Annotated[
            str,
            Query(
                max_length=500,
                description="Facets to count, comma-separated.",
                examples=[",".join(facet_names[:3])],
                json_schema_extra={COMMA_LIST: {"type": "string", "enum": facet_names}},
            ),
        ],
        size: Annotated[
            int, Query(ge=1, le=1000, description="At most this many values per facet.")
        ] = 100,
    ) -> Response:
        refuse_repeats(request, {"by", "size"})
        chosen = comma_list("by", by, one_of(facet_names, "a facet of this collection"))
        return JSONBytes(await repository.facets(filters, chosen, size))

    @router.get(
        "/stats",
        operation_id=f"stats_{name}",
        summary=f"Aggregate {name} by one or two dimensions",
        description="Rows per value (or pair of values) of `group_by`, with the requested "
        "metrics, and `totals` over all matching records. `count` counts every matching "
        "record (a record counts once under each of its countries, sectors, organisations or "
        "currencies). `usd` sums the USD amounts recommended for aggregates (projects marked "
        "`recommended_for_aggregates: false` and funding items marked so are left out unless "
        "`include_all=true`); `usd_lower_bound` is true when the sum is only a lower bound "
        "(amounts qualified `at-least`/`more-than`, or unknown). `usd_avg` is `usd` divided "
        "by the number of records with a known amount. `usd` is null where no amount is "
        "known. Grouped by currency, sums are per funding item in that currency.",
        responses={
            200: {"content": {"application/json": {"example": examples.stats()}}},
            **error_responses(422, *ALWAYS),
        },
    )
    async def stats_route(
        repository: Repo,
        _: Reader,
        filters: Filtered,
        request: Request,
        group_by: Annotated[
            str,
            Query(
                max_length=100,
                description="One or two dimensions, comma-separated.",
                examples=["year,sector"],
                json_schema_extra={COMMA_LIST: {"type": "string", "enum": dimensions}},
            ),
        ],
        metrics: Annotated[
            str,
            Query(
                max_length=100,
                description="Metrics per row, comma-separated.",
                json_schema_extra={COMMA_LIST: {"type": "string", "enum": list(METRICS)}},
            ),
        ] = "count",
        order: Annotated[
            str | None,
            Query(
                max_length=50,
                description="Row order: a requested metric or a dimension, `-` for "
                "descending. Default: `-count` (or the first metric, descending).",
                examples=["-usd"],
            ),
        ] = None,
        top: Annotated[
            int | None, Query(ge=1, le=1000, description="Only the first rows in `order`.")
        ] = None,
        include_all: Annotated[
            bool,
            Query(description="Include amounts not recommended for aggregates in USD sums."),
        ] = False,
    ) -> Response:
        refuse_repeats(request, {"group_by", "metrics", "order", "top", "include_all"})
        query = parse_stats(dimensions, group_by, metrics, order, top, include_all)
        return JSONBytes(await repository.stats(filters, query))

    @router.get(
        "/export",
        operation_id=f"export_{name}",
        summary=f"Export every matching {one}",
        description="Streams every matching record in id order, without paging: NDJSON (one "
        "record per line, as GET serves it) or CSV (a header row, then one row per record; "
        "lists joined with `;`, USD as a whole number). `Content-Disposition` names the file.",
        responses={
            200: {
                "content": {
                    "application/x-ndjson": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}, "example": examples.csv(resource)},
                },
            },
            **error_responses(422, *ALWAYS),
        },
        response_class=StreamingResponse,
    )
    async def export_route(
        repository: Repo,
        _: Reader,
        filters: Filtered,
        format: Annotated[
            Literal["ndjson", "csv"], Query(description="`ndjson` or `csv`.")
        ] = "ndjson",
    ) -> StreamingResponse:
        records = repository.export(filters)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        body = (
            csv_lines(records, resource.csv_columns) if format == "csv" else ndjson_lines(records)
        )
        disposition = f'attachment; filename="{name}-{stamp}.{format}"'
        return StreamingResponse(
            body, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": disposition}
        )

    @router.post(
        "",
        operation_id=f"create_{one}",
        summary=f"Create a {one}",
        description=f"Creates a {one} with an id made from its title. Answers 201 with "
        "`Location` and `ETag`. Server-managed fields in the body are ignored.\n\n"
        + IDEMPOTENCY_RULES,
        status_code=201,
        response_model=Record,
        responses={
            201: {"description": "Created.", "links": links_to_record(one)},
            **error_responses(403, 409, *BODY, *ALWAYS),
        },
    )
    async def create(
        request: Request,
        record: Annotated[Fields, Body(openapi_examples=record_examples)],  # type: ignore[valid-type]
        repository: Repo,
        who: Writer,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        async def run() -> Response:
            return _answer(await repository.create(record, who), base)

        return await respond(request, who, idempotency_key, run)

    @router.get(
        "/{record_id}",
        operation_id=f"get_{one}",
        summary=f"Get a {one}",
        description="`ETag` carries the version; `If-None-Match` with it answers 304. "
        "A deleted record answers 410.",
        response_model=Record,
        responses={304: {"description": "Not modified."}, **error_responses(404, 410, *ALWAYS)},
    )
    async def get(
        record_id: IdPath,
        repository: Repo,
        _: Reader,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        record = await repository.get(record_id)
        tag = etag(record["version"])
        if matches_any(if_none_match, record["version"]):
            return Response(status_code=304, headers={"ETag": tag})
        return JSONBytes(record, headers={"ETag": tag})

    @router.put(
        "/{record_id}",
        operation_id=f"put_{one}",
        summary=f"Create or replace a {one}",
        description="201 when created, 200 when replaced or unchanged (a write that changes "
        "nothing makes no new version). `If-Match` pins the version replaced; "
        "`If-None-Match: *` makes the PUT create-only.",
        response_model=Record,
        responses={
            200: {"description": "Replaced or unchanged.", "links": links_to_record(one)},
            201: {"description": "Created.", "model": Record, "links": links_to_record(one)},
            **error_responses(403, 412, *BODY, *ALWAYS),
        },
    )
    async def put(
        record_id: IdPath,
        record: Annotated[Fields, Body(openapi_examples=record_examples)],  # type: ignore[valid-type]
        repository: Repo,
        who: Writer,
        if_match: IfMatch = None,
        if_none_match: Annotated[
            str | None, Header(description="`*`: create only, 412 if it exists.")
        ] = None,
    ) -> Response:
        if if_match is not None and if_match.strip() == "*":
            await repository.get(record_id)  # If-Match: * needs a current record
        written = await repository.put(
            record_id,
            record,
            who,
            if_match=parse_version_tag(if_match, "If-Match"),
            create_only=(if_none_match or "").strip() == "*",
        )
        return _answer(written, base)

    @router.patch(
        "/{record_id}",
        operation_id=f"patch_{one}",
        summary=f"Update part of a {one} (JSON Merge Patch)",
        description="RFC 7396: objects merge, `null` removes a field, arrays are replaced. "
        "Send `application/merge-patch+json` (or `application/json`).",
        response_model=Record,
        responses=error_responses(403, 404, 410, 412, *BODY, *ALWAYS),
    )
    async def patch(
        record_id: IdPath,
        changes: Annotated[
            dict[str, Any],
            Body(media_type="application/merge-patch+json", examples=[{"summary": "New text"}]),
        ],
        repository: Repo,
        who: Writer,
        if_match: IfMatch = None,
    ) -> Response:
        written = await repository.patch(
            record_id,
            lambda current: merge_patch(current, changes),
            who,
            if_match=parse_version_tag(if_match, "If-Match"),
        )
        return _answer(written, base)

    @router.delete(
        "/{record_id}",
        operation_id=f"delete_{one}",
        summary=f"Delete a {one}",
        description="Leaves a tombstone: later GETs answer 410, lists leave it out, the "
        "changes feed reports the deletion, and a PUT or restore brings it back.",
        status_code=204,
        responses=error_responses(403, 404, 410, 412, *ALWAYS),
    )
    async def delete(
        record_id: IdPath, repository: Repo, who: Writer, if_match: IfMatch = None
    ) -> Response:
        written = await repository.delete(
            record_id, who, if_match=parse_version_tag(if_match, "If-Match")
        )
        return Response(status_code=204, headers={"ETag": etag(written.version)})

    @router.get(
        "/{record_id}/revisions",
        operation_id=f"list_{one}_revisions",
        summary=f"List the revisions of a {one}",
        description="Newest first: version, operation, when and by which key.",
        responses=error_responses(404, *ALWAYS),
    )
    async def revisions(record_id: IdPath, repository: Repo, _: Reader) -> Response:
        return JSONBytes({"data": await repository.revision_list(record_id)})

    @router.get(
        "/{record_id}/revisions/{version}",
        operation_id=f"get_{one}_revision",
        summary=f"Get one revision of a {one}",
        description="The record as it was at that version (`record` is null for a deletion).",
        responses=error_responses(404, *ALWAYS),
    )
    async def revision(
        record_id: IdPath,
        version: Annotated[int, Path(ge=1, le=2**31)],
        repository: Repo,
        _: Reader,
    ) -> Response:
        return JSONBytes(await repository.revision(record_id, version))

    @router.post(
        "/{record_id}/revisions/{version}/restore",
        operation_id=f"restore_{one}",
        summary=f"Restore an earlier revision of a {one}",
        description="Makes that revision's content current as a new version, recording who "
        "restored it; also brings back a deleted record.",
        response_model=Record,
        responses=error_responses(403, 404, 412, *ALWAYS),
    )
    async def restore(
        record_id: IdPath,
        version: Annotated[int, Path(ge=1, le=2**31)],
        repository: Repo,
        who: Writer,
        if_match: IfMatch = None,
    ) -> Response:
        written = await repository.restore(
            record_id, version, who, if_match=parse_version_tag(if_match, "If-Match")
        )
        return _answer(written, base, status=200)

    add_bulk_route(router, resource)
    return router
