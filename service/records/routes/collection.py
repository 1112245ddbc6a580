"""Collection routes: list and search, facets, statistics, export, and create by title."""

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from starlette.responses import Response, StreamingResponse

from service.auth.deps import Reader, Writer
from service.records.grammar.query import (
    Filters,
    PageRequest,
    comma_list,
    invalid,
    one_of,
)
from service.records.grammar.stats import FACETS, METRICS, parse_stats
from service.records.resource import Resource
from service.records.routes import examples
from service.records.routes.export_format import MEDIA_TYPES, chosen, csv_lines, ndjson_lines
from service.records.routes.openapi_docs import ALWAYS, BODY, links_to_record
from service.records.routes.params import (
    COMMA_LIST,
    LIST_NOTE,
    View,
    filter_dependency,
    page_dependency,
    view_dependency,
)
from service.records.routes.repository_dep import repository_for
from service.records.routes.written import answer
from service.records.storage.repository import Repository
from service.vocab.terms import PARTY_ROLES
from service.web import answers
from service.web.error_docs import error_responses
from service.web.idempotent import IDEMPOTENCY_RULES, IdempotencyKey, respond
from service.web.json_response import JSONBytes
from service.web.parsed_body import ParsedBodyRoute


def collection_router(resource: Resource) -> APIRouter:
    name, one = resource.name, resource.singular
    Fields = resource.fields_model
    Record = resource.record_model
    router = APIRouter(prefix=f"/v1/{name}", tags=[name], route_class=ParsedBodyRoute)
    record_examples = examples.body_examples(resource)
    base = f"/v1/{name}"
    Repo = Annotated[Repository, Depends(repository_for(resource))]
    Filtered = Annotated[Filters, Depends(filter_dependency(resource))]
    Paged = Annotated[PageRequest, Depends(page_dependency(resource))]
    Viewed = Annotated[View, Depends(view_dependency(resource))]
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
        response_model=answers.list_page(resource),
        responses={
            200: {"content": examples.json_example(examples.list_page(resource))},
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
        response_model=answers.facets(resource),
        responses={
            200: {"content": examples.json_example(examples.facets(resource))},
            **error_responses(422, *ALWAYS),
        },
    )
    async def facets(
        repository: Repo,
        _: Reader,
        filters: Filtered,
        request: Request,
        by: Annotated[
            list[str],
            Query(
                description="Facets to count." + LIST_NOTE,
                examples=[facet_names[:3]],
                json_schema_extra={COMMA_LIST: {"type": "string", "enum": facet_names}},
            ),
        ],
        size: Annotated[
            int, Query(ge=1, le=1000, description="At most this many values per facet.")
        ] = 100,
    ) -> Response:
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
        "known. Grouped by currency, sums are per funding item in that currency. "
        "Amounts a year over years the source does not close ('USD 150 bn a year') are never "
        "added to `usd`: they are summed apart in `usd_per_year`. "
        "By year, each funding item goes to the year it is for; an annual amount over a "
        "closed period to each of its years; an amount for a period that cannot be split "
        "('since 2013', '2014-2020') to a row of its own with `year: null` and `period` "
        "in words (rows of single years have `period: null`). Such rows, and rows of money "
        "with no party in the counted roles (`organisation`/`country: null`), count the "
        "records whose money they hold. By organisation or country, money is credited only "
        "to parties in the roles of `role` (default: `financier`, the providing side; the "
        "answer's `roles` says which), and, when a funding item names who provides it "
        "(`provided_by`), only to those among the providing side; `count` still counts "
        "every record under every party it names. Country roles are those of `countries`.",
        response_model=answers.Stats,
        responses={
            200: {"content": examples.json_example(examples.stats(resource))},
            **error_responses(422, *ALWAYS),
        },
    )
    async def stats_route(
        repository: Repo,
        _: Reader,
        filters: Filtered,
        request: Request,
        group_by: Annotated[
            list[str],
            Query(
                description="One or two dimensions." + LIST_NOTE,
                examples=[["year", "sector"]],
                json_schema_extra={COMMA_LIST: {"type": "string", "enum": dimensions}},
            ),
        ],
        metrics: Annotated[
            list[str],
            Query(
                description="Metrics per row (default: count)." + LIST_NOTE,
                json_schema_extra={COMMA_LIST: {"type": "string", "enum": list(METRICS)}},
            ),
        ] = ["count"],  # noqa: B006 (FastAPI copies defaults)
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
        role: Annotated[
            str | None,
            Query(
                max_length=300,
                description="Roles in which organisations or countries are credited with "
                "money, comma-separated. Default: `financier`.",
                examples=["financier,lead"],
                json_schema_extra={COMMA_LIST: {"type": "string", "enum": list(PARTY_ROLES)}},
            ),
        ] = None,
    ) -> Response:
        query = parse_stats(dimensions, group_by, metrics, order, top, include_all, role)
        return JSONBytes(await repository.stats(filters, query))

    @router.get(
        "/export",
        operation_id=f"export_{name}",
        summary=f"Export every matching {one}",
        description="Streams every matching record, without paging: NDJSON (one record per "
        "line, as the list serves it) or CSV (a header row, then one row per record, or with "
        "`rows=funding` one row per funding item). `sort` and `fields` work as in the list, "
        "so a list's query string without `limit`, `cursor` and `count` exports what it "
        "shows, in the same order. In CSV, lists are joined with `;`, countries "
        "are `code:role`, booleans are `true`/`false`, missing values are empty, and `fields` "
        "keeps the columns read from the fields it names. The README lists the columns. "
        "`Content-Disposition` names the file.",
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
        request: Request,
        repository: Repo,
        _: Reader,
        filters: Filtered,
        view: Viewed,
        format: Annotated[
            Literal["ndjson", "csv"], Query(description="`ndjson` or `csv`.")
        ] = "ndjson",
        rows: Annotated[
            Literal["records", "funding"],
            Query(
                description="CSV only: `records` (one row per record) or `funding` (one row "
                "per funding item with its record's id, title and flags; `counted` marks the "
                "items that `stats` sums into `usd`)."
            ),
        ] = "records",
        bom: Annotated[
            bool,
            Query(
                description="CSV only: start the file with a UTF-8 byte order mark, so that "
                "spreadsheet programs (Excel) read it as UTF-8."
            ),
        ] = False,
    ) -> StreamingResponse:
        if format == "ndjson" and (rows != "records" or bom):
            raise invalid("rows" if rows != "records" else "bom", "applies to format=csv only")
        suffix = "-funding" if rows == "funding" else ""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        disposition = f'attachment; filename="{name}{suffix}-{stamp}.{format}"'
        if format == "ndjson":
            body = ndjson_lines(repository.export(filters, view.sort, view.fields))
        else:
            table = resource.csv_funding_columns if rows == "funding" else resource.csv_columns
            columns = chosen(table, rows, view.fields)
            needed = view.fields
            if needed is not None and rows == "funding":
                needed = (*needed, "funding")
            records = repository.export(filters, view.sort, needed)
            body = csv_lines(records, columns, rows, bom)
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
            return answer(await repository.create(record, who), base)

        return await respond(request, who, idempotency_key, run)

    return router
