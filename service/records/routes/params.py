"""The query grammar over HTTP: FastAPI dependencies that declare each collection's filters
and list parameters one by one in the contract, and validate them into grammar values."""

import datetime as dt
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BeforeValidator

from service.records.grammar.query import (
    DEFAULT_SORT,
    FILTER_NAMES,
    LIST_FILTERS,
    MAX_VALUES,
    Filters,
    ListFilter,
    PageRequest,
    Sort,
    check_in,
    comma_list,
    invalid,
    utc_timestamp,
)
from service.records.resource import Resource
from service.records.search import query_terms
from service.vocab.countries import country_names
from service.vocab.terms import SECTORS, Confidence, DualUseLevel

#: OpenAPI marker: the parameter is a list of items of this schema, repeated or comma-separated
#: (`country=RUS&country=ISR` means `country=RUS,ISR`). The contract generator rewrites such
#: parameters to `style: form, explode: true` arrays, which is how generated clients send them.
COMMA_LIST = "x-comma-list"
#: How every list parameter is described.
LIST_NOTE = " Repeat the parameter or separate values with commas: `a=X&a=Y` is `a=X,Y`."
#: OpenAPI marker: an optional parameter that takes one of these values.
ONE_OF = "x-one-of"


def _list_parameter(resource: Resource, spec: ListFilter) -> inspect.Parameter:
    item = spec.schema(resource)
    return inspect.Parameter(
        spec.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            list[str] | None,
            Query(
                description=spec.description + LIST_NOTE,
                examples=[spec.example],
                json_schema_extra={COMMA_LIST: item},
            ),
        ],
    )


def _int_parameter(name: str, description: str, low: int, high: int) -> inspect.Parameter:
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[int | None, Query(ge=low, le=high, description=description)],
    )


def _iso_8601(value: Any) -> Any:
    """Refuse what pydantic would read as a Unix timestamp (`0.5`): the contract says
    date-time, and a number there is more likely a mistake than a time in 1970."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("expected an ISO 8601 date-time such as 2026-01-01T00:00:00Z")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_8601)]

_SCALARS: dict[str, inspect.Parameter] = {
    "q": inspect.Parameter(
        "q",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            Query(
                max_length=500,
                description="Full-text search of each record's own words (title, summary, "
                "organisations, countries, sectors, kinds, tags, funding wording, years): every "
                "word must match (English stems, accents and punctuation folded, British and "
                "American spellings and the variants of `GET /v1/vocab/synonyms` alike, stop "
                "words ignored). Results are ranked by relevance unless `sort` says otherwise. "
                "Anything typed is treated as text; an empty `q` is no search.",
                examples=["Xi'an Jiaotong alliance"],
            ),
        ],
    ),
    "year_from": _int_parameter("year_from", "Records whose `year` is at least this.", 1800, 2100),
    "year_to": _int_parameter("year_to", "Records whose `year` is at most this.", 1800, 2100),
    "usd_min": _int_parameter("usd_min", "Records whose `usd` is at least this.", 0, 10**15),
    "usd_max": _int_parameter("usd_max", "Records whose `usd` is at most this.", 0, 10**15),
    "has_conflicts": inspect.Parameter(
        "has_conflicts",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            bool | None,
            Query(
                description="`true`: records whose sources disagree (`quality.conflicts` is "
                "not empty); `false`: records without conflicts.",
            ),
        ],
    ),
    "updated_since": inspect.Parameter(
        "updated_since",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            IsoDateTime | None,
            Query(
                description="Records changed at or after this time (ISO 8601; UTC when no "
                "offset is given).",
                examples=["2026-01-01T00:00:00Z"],
            ),
        ],
    ),
}


def search_text(q: str | None) -> str | None:
    """`q` as a search, or None: an empty or blank `q` (a cleared search box) is no search."""
    return q if q is not None and q.strip() else None


def filter_dependency(resource: Resource) -> Callable[..., Awaitable[Filters]]:
    """A dependency that declares and validates the filters `resource` offers (async, like
    every dependency here: FastAPI runs a plain `def` in a worker thread, a costly hop)."""
    offered = [n for n in FILTER_NAMES if n in resource.filters]
    checks = {n: LIST_FILTERS[n].checker(resource) for n in offered if n in LIST_FILTERS}

    async def dependency(request: Request, **values: Any) -> Filters:
        any_of = {
            name: comma_list(name, values[name], checks[name])
            for name in checks
            if values.get(name) is not None
        }
        q = search_text(values.get("q"))
        year_from, year_to = values.get("year_from"), values.get("year_to")
        if year_from is not None and year_to is not None and year_from > year_to:
            raise invalid("year_to", "must not be before year_from")
        usd_min, usd_max = values.get("usd_min"), values.get("usd_max")
        if usd_min is not None and usd_max is not None and usd_min > usd_max:
            raise invalid("usd_max", "must not be below usd_min")
        since = values.get("updated_since")
        return Filters(
            q=q,
            terms=None if q is None else tuple(query_terms(q)),
            any_of=any_of,
            year_from=year_from,
            year_to=year_to,
            usd_min=usd_min,
            usd_max=usd_max,
            updated_since=None if since is None else utc_timestamp("updated_since", since),
            has_conflicts=values.get("has_conflicts"),
        )

    parameters = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)
    ]
    for name in offered:
        if name in LIST_FILTERS:
            parameters.append(_list_parameter(resource, LIST_FILTERS[name]))
        else:
            parameters.append(_SCALARS[name])
    dependency.__signature__ = inspect.Signature(parameters, return_annotation=Filters)  # type: ignore[attr-defined]
    dependency.__name__ = f"{resource.name}_filters"
    return dependency


def filter_components(resources: Iterable[Resource]) -> dict[str, Any]:
    """Enum schemas the filter parameters refer to."""
    enums: dict[str, Any] = {
        "CountryCode": {
            "type": "string",
            "description": "ISO 3166-1 alpha-3 code; EUU for the European Union.",
            "enum": list(country_names()),
        },
        "SectorCode": {"type": "string", "description": "Sector code.", "enum": list(SECTORS)},
    }
    vocabularies: list[type[StrEnum]] = [v for r in resources for v in r.vocabularies()]
    vocabularies += [DualUseLevel, Confidence]
    for kind in vocabularies:
        enums[kind.__name__] = {"type": "string", "enum": [k.value for k in kind]}
    return enums


def document_comma_lists(openapi: dict[str, Any], components: dict[str, Any]) -> None:
    """Rewrite parameters marked `x-comma-list` as arrays sent by repeating the parameter in
    the contract (a comma list is accepted too: see `LIST_NOTE`), and add the enum schemas
    they refer to."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in components.items():
        schemas.setdefault(name, schema)
    for item in openapi.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if ONE_OF in schema:
                    parameter["schema"] = {"type": "string", "enum": schema[ONE_OF]}
                if COMMA_LIST in schema:
                    parameter["schema"] = {
                        "type": "array",
                        "items": schema[COMMA_LIST],
                        "minItems": 1,
                        "maxItems": MAX_VALUES,
                    }
                    parameter["style"] = "form"
                    parameter["explode"] = True


def _sort_values(resource: Resource) -> list[str]:
    out = []
    for name in resource.sorts:
        out += [name] if name == "relevance" else [name, f"-{name}"]
    return out


def public_fields(resource: Resource) -> list[str]:
    return ["id", *(f for f in resource.record_model.model_fields if f != "id")]


def _sort_query(sorts: list[str], default: str) -> Any:
    return Annotated[
        str | None,
        Query(
            description="Order of the results: a field name, `-` for descending. Default: "
            f"{default}. Ties are broken by id.",
            examples=["-year"],
            json_schema_extra={ONE_OF: sorts},
        ),
    ]


def _fields_query(field_names: list[str]) -> Any:
    return Annotated[
        list[str] | None,
        Query(
            description="Fields to return; `id` and `version` are always included." + LIST_NOTE,
            examples=["title,year,usd"],
            json_schema_extra={COMMA_LIST: {"type": "string", "enum": field_names}},
        ),
    ]


def _parse_sort(chosen: str, sorts: list[str], q: str | None) -> Sort:
    if chosen not in sorts:
        raise invalid("sort", f"must be one of {', '.join(sorts)}")
    parsed = Sort(chosen.lstrip("-"), chosen.startswith("-"))
    if parsed.relevance and q is None:
        raise invalid("sort", "relevance needs q")
    return parsed


def _parse_fields(fields: Sequence[str] | None, field_names: list[str]) -> tuple[str, ...] | None:
    if fields is None:
        return None
    allowed = dict.fromkeys(field_names)
    return comma_list("fields", fields, check_in(lambda: allowed, "a field of this collection"))


def page_dependency(resource: Resource) -> Callable[..., Awaitable[PageRequest]]:
    """A dependency for the list-only parameters: sort, limit, cursor, count and fields."""
    sorts = _sort_values(resource)
    field_names = public_fields(resource)
    SortQuery = _sort_query(sorts, "`relevance` with `q`, else `-updated_at` (newest change first)")
    FieldsQuery = _fields_query(field_names)

    async def dependency(
        request: Request,
        q: Annotated[str | None, Query(include_in_schema=False)] = None,
        sort: SortQuery = None,  # type: ignore[valid-type]
        limit: Annotated[int, Query(ge=1, le=200, description="Page size (1-200).")] = 25,
        cursor: Annotated[
            str | None,
            Query(max_length=2000, description="The `next` of the previous page (opaque)."),
        ] = None,
        count: Annotated[
            str,
            Query(
                description="`exact` adds `total`, the number of matching records; `none` "
                "leaves it out (faster).",
                json_schema_extra={"enum": ["exact", "none"]},
            ),
        ] = "exact",
        fields: FieldsQuery = None,  # type: ignore[valid-type]
    ) -> PageRequest:
        if count not in ("exact", "none"):
            raise invalid("count", "must be exact or none")
        q = search_text(q)
        parsed = _parse_sort(sort or ("relevance" if q is not None else DEFAULT_SORT), sorts, q)
        wanted = _parse_fields(fields, field_names)
        return PageRequest(parsed, limit, cursor, count == "exact", wanted)

    dependency.__name__ = f"{resource.name}_page"
    return dependency


@dataclass(frozen=True, slots=True)
class View:
    """What an export writes besides the filters: the list's order and fields."""

    sort: Sort
    fields: tuple[str, ...] | None


def view_dependency(resource: Resource) -> Callable[..., Awaitable[View]]:
    """`sort` and `fields` exactly as the list takes them (same values, same default order),
    so an export of what a list shows reuses the list's query string."""
    sorts = _sort_values(resource)
    field_names = public_fields(resource)
    SortQuery = _sort_query(
        sorts, "`relevance` with `q`, else `-updated_at` (newest change first), as in the list"
    )
    FieldsQuery = _fields_query(field_names)

    async def dependency(
        request: Request,
        q: Annotated[str | None, Query(include_in_schema=False)] = None,
        sort: SortQuery = None,  # type: ignore[valid-type]
        fields: FieldsQuery = None,  # type: ignore[valid-type]
    ) -> View:
        q = search_text(q)
        chosen = sort or ("relevance" if q is not None else DEFAULT_SORT)
        return View(_parse_sort(chosen, sorts, q), _parse_fields(fields, field_names))

    dependency.__name__ = f"{resource.name}_view"
    return dependency
