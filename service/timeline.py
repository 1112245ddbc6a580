"""A country's timeline: its events and projects merged in date order."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from service.auth.deps import Reader
from service.problems import Invalid
from service.records.routes import examples
from service.vocab.countries import is_country
from service.web import answers
from service.web.error_docs import error_responses
from service.web.json_response import JSONBytes
from service.wiring import RESOURCES, services_of

router = APIRouter(prefix="/v1/countries", tags=["countries"])


@router.get(
    "/{code}/timeline",
    operation_id="get_country_timeline",
    summary="A country's events and projects in date order",
    description="Every event and project that names the country (in any role, or through an "
    "organisation), as summaries merged by date; records without a date come last. "
    "`date` is the record's primary date at its known precision and `date_text` the "
    "source's wording of it ('projects completed since 2013' is a period, not an event of "
    "2013); `usd` is the headline amount, with `usd_qualifier` and `usd_period` ('total', "
    "'annual' or a period in words such as 'since 2013').",
    response_model=answers.Timeline,
    responses={
        200: {"content": examples.json_example(examples.timeline(RESOURCES))},
        **error_responses(401, 422, 503),
    },
)
async def timeline(
    request: Request,
    _: Reader,
    code: Annotated[
        str, Path(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3 code (or EUU).")
    ],
    year_from: Annotated[int | None, Query(ge=1800, le=2100)] = None,
    year_to: Annotated[int | None, Query(ge=1800, le=2100)] = None,
) -> Response:
    if not is_country(code):
        raise Invalid(
            f"{code!r} is not an ISO 3166-1 alpha-3 code.",
            errors=[{"parameter": "code", "in": "path", "detail": "not a country code"}],
        )
    items = []
    for repository in services_of(request.app).repositories.values():
        items += await repository.timeline(code, year_from, year_to)
    items.sort(key=lambda i: (i["date"] is None, i["date"] or "", i["collection"], i["id"]))
    return JSONBytes({"country": code, "data": items})
