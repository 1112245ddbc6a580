"""The filter grammar shared by list, facets, statistics, export and the timeline.

Each collection declares which filters it offers (`Resource.filters`); `filter_dependency`
turns that into a FastAPI dependency whose query parameters are documented one by one in the
OpenAPI contract, with their item type and enum. Values are validated here, before anything
reaches the database: a comma means any-of, different filters combine with AND, and a value
that is not in the filter's vocabulary (an operator such as `$gt` included) is a 422.

`to_mongo` is the only place that turns filters into a MongoDB query.
"""

import datetime as dt
import hashlib
import inspect
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import orjson
from fastapi import Query, Request

from service.db import Document
from service.problems import Invalid
from service.records.resource import Resource
from service.records.search import query_terms
from service.vocab.countries import country_names
from service.vocab.terms import SECTORS, DualUseLevel, EventKind, ProjectKind, ProjectStatus

#: OpenAPI marker: the parameter is a comma-separated list of items of this schema. The
#: contract generator rewrites such parameters to `style: form, explode: false` arrays.
COMMA_LIST = "x-comma-list"
#: OpenAPI marker: an optional parameter that takes one of these values.
ONE_OF = "x-one-of"

_TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
# Organisation names are free text; refuse what could only be an injection attempt.
_ORGANISATION = re.compile(r"^[^$\x00-\x1f{}\[\]][^\x00-\x1f{}\[\]]{0,199}$")
_MAX_VALUES = 100


def _check_in(allowed: Callable[[], Mapping[str, Any]], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed():
            raise ValueError(f"{value!r} is not {what}")
        return value

    return check


def one_of(values: list[str], what: str) -> Callable[[str], str]:
    """A check that accepts only `values`."""
    allowed = dict.fromkeys(values)
    return _check_in(lambda: allowed, what)


def _check_pattern(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return check


@dataclass(frozen=True, slots=True)
class ListFilter:
    """A filter whose value is a comma-separated list of any-of values on one stored field."""

    name: str
    field: str
    description: str
    item_schema: dict[str, Any]
    example: str
    check: Callable[[str], str] | None = None  # None: the resource's kinds decide


def _enum_schema(ref: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{ref}"}


LIST_FILTERS: dict[str, ListFilter] = {
    f.name: f
    for f in (
        ListFilter(
            "kind",
            "kind",
            "Record kinds (any of). See `GET /v1/vocab`.",
            {},
            "forum,summit",
        ),
        ListFilter(
            "status",
            "status",
            "Project statuses (any of).",
            _enum_schema("ProjectStatus"),
            "completed,under-construction",
            _check_in(lambda: {s.value: s for s in ProjectStatus}, "a project status"),
        ),
        ListFilter(
            "country",
            "country_codes",
            "ISO 3166-1 alpha-3 codes (any of; `EUU` for the European Union): records that "
            "name the country in any role or through an organisation.",
            _enum_schema("CountryCode"),
            "PAK,KEN",
            _check_in(country_names, "an ISO 3166-1 alpha-3 code (or EUU)"),
        ),
        ListFilter(
            "sector",
            "sectors",
            "Sector codes (any of). See `GET /v1/vocab`.",
            _enum_schema("SectorCode"),
            "cables,telecom",
            _check_in(lambda: SECTORS, "a sector code"),
        ),
        ListFilter(
            "organisation",
            "_orgs",
            "Organisation names, exactly as records spell them (any of; see the "
            "`organisation` facet for the values). Names containing commas cannot be filtered.",
            {"type": "string", "minLength": 1, "maxLength": 200},
            "Huawei",
            _check_pattern(_ORGANISATION, "an organisation name"),
        ),
        ListFilter(
            "dual_use",
            "dual_use.level",
            "Dual-use assessment levels (any of).",
            _enum_schema("DualUseLevel"),
            "possible,documented",
            _check_in(lambda: {d.value: d for d in DualUseLevel}, "a dual-use level"),
        ),
        ListFilter(
            "tag",
            "tags",
            "Tags (any of).",
            {"type": "string", "pattern": _TAG.pattern},
            "digital-silk-road",
            _check_pattern(_TAG, "a tag (lower-case letters, digits and hyphens)"),
        ),
    )
}

#: Every filter name, in the order the contract lists them.
FILTER_NAMES = (
    "q",
    "kind",
    "status",
    "country",
    "sector",
    "organisation",
    "dual_use",
    "tag",
    "year_from",
    "year_to",
    "usd_min",
    "usd_max",
    "updated_since",
)


@dataclass(frozen=True, slots=True)
class Filters:
    """Validated filters. `terms` is None without `q`, and empty when `q` has no search terms."""

    q: str | None = None
    terms: tuple[str, ...] | None = None
    any_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    usd_min: int | None = None
    usd_max: int | None = None
    updated_since: str | None = None

    def fingerprint(self) -> str:
        """A short digest that ties a cursor to the filters it was issued for."""
        bounds = (self.year_from, self.year_to, self.usd_min, self.usd_max, self.updated_since)
        data = orjson.dumps([self.terms, sorted(self.any_of.items()), *bounds])
        return hashlib.sha256(data).hexdigest()[:16]


def to_mongo(filters: Filters, without: Collection[str] = ()) -> Document:
    """The MongoDB query for live records matching `filters`, ignoring the filters named in
    `without` (a facet ignores its own field's filter; `year` stands for the year range)."""
    query: Document = {"_deleted": False}
    if filters.terms is not None:
        # A query with no searchable words (only punctuation or stop words) matches nothing.
        query["_terms"] = {"$all": list(filters.terms)} if filters.terms else {"$in": []}
    for name, values in filters.any_of.items():
        if name not in without:
            query[LIST_FILTERS[name].field] = {"$in": list(values)}
    if "year" not in without:
        _range(query, "year", filters.year_from, filters.year_to)
    _range(query, "usd", filters.usd_min, filters.usd_max)
    if filters.updated_since is not None:
        query["updated_at"] = {"$gte": filters.updated_since}
    return query


def _range(query: Document, name: str, low: int | None, high: int | None) -> None:
    bounds = {k: v for k, v in (("$gte", low), ("$lte", high)) if v is not None}
    if bounds:
        query[name] = bounds


def invalid(parameter: str, detail: str) -> Invalid:
    return Invalid(
        f"The query parameter {parameter!r} is not valid: {detail}.",
        errors=[{"parameter": parameter, "in": "query", "detail": detail}],
    )


def comma_list(
    parameter: str, raw: str, check: Callable[[str], str], max_values: int = _MAX_VALUES
) -> tuple[str, ...]:
    """Distinct values of a comma-separated parameter, each checked; a bad one is a 422."""
    values = [v.strip() for v in raw.split(",")]
    if any(not v for v in values):
        raise invalid(parameter, "empty value in the comma-separated list")
    if len(values) > max_values:
        raise invalid(parameter, f"at most {max_values} values")
    for value in values:
        try:
            check(value)
        except ValueError as exc:
            raise invalid(parameter, str(exc)) from None
    return tuple(dict.fromkeys(values))


def utc_timestamp(parameter: str, value: dt.datetime) -> str:
    """The stored timestamp format (fixed-width UTC text), so comparisons are textual."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except (OverflowError, ValueError):
        raise invalid(parameter, "out of range") from None


def refuse_repeats(request: Request, names: set[str]) -> None:
    """`country=A&country=B` is refused: a value list is written once, with commas."""
    for name in names:
        if len(request.query_params.getlist(name)) > 1:
            raise invalid(name, "given more than once; separate values with commas")


def _kind_check(resource: Resource) -> Callable[[str], str]:
    kinds = {k.value: k for k in resource.kinds}
    return _check_in(lambda: kinds, f"a {resource.singular} kind")


def _list_parameter(resource: Resource, spec: ListFilter) -> inspect.Parameter:
    item = spec.item_schema or _enum_schema(resource.kinds.__name__)
    return inspect.Parameter(
        spec.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            Query(
                max_length=4000,
                description=spec.description + " Comma-separated.",
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


_SCALARS: dict[str, inspect.Parameter] = {
    "q": inspect.Parameter(
        "q",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            Query(
                min_length=1,
                max_length=500,
                description="Full-text search: every word must match (English stems, accents "
                "and punctuation folded, stop words ignored). Results are ranked by relevance "
                "unless `sort` says otherwise. Anything typed is treated as text.",
                examples=["Xi'an Jiaotong alliance"],
            ),
        ],
    ),
    "year_from": _int_parameter("year_from", "Records whose `year` is at least this.", 1800, 2100),
    "year_to": _int_parameter("year_to", "Records whose `year` is at most this.", 1800, 2100),
    "usd_min": _int_parameter("usd_min", "Records whose `usd` is at least this.", 0, 10**15),
    "usd_max": _int_parameter("usd_max", "Records whose `usd` is at most this.", 0, 10**15),
    "updated_since": inspect.Parameter(
        "updated_since",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            dt.datetime | None,
            Query(
                description="Records changed at or after this time (ISO 8601; UTC when no "
                "offset is given).",
                examples=["2026-01-01T00:00:00Z"],
            ),
        ],
    ),
}


def filter_dependency(resource: Resource) -> Callable[..., Awaitable[Filters]]:
    """A dependency that declares and validates the filters `resource` offers (async, like
    every dependency here: FastAPI runs a plain `def` in a worker thread, a costly hop)."""
    offered = [n for n in FILTER_NAMES if n in resource.filters]
    checks = {
        n: LIST_FILTERS[n].check or _kind_check(resource) for n in offered if n in LIST_FILTERS
    }

    async def dependency(request: Request, **values: Any) -> Filters:
        refuse_repeats(request, set(offered))
        any_of = {
            name: comma_list(name, values[name], checks[name])
            for name in checks
            if values.get(name) is not None
        }
        q = values.get("q")
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


def filter_components() -> dict[str, Any]:
    """Enum schemas the filter parameters refer to."""
    enums: dict[str, Any] = {
        "CountryCode": {
            "type": "string",
            "description": "ISO 3166-1 alpha-3 code; EUU for the European Union.",
            "enum": list(country_names()),
        },
        "SectorCode": {"type": "string", "description": "Sector code.", "enum": list(SECTORS)},
    }
    for kind in (EventKind, ProjectKind, ProjectStatus, DualUseLevel):
        enums[kind.__name__] = {"type": "string", "enum": [k.value for k in kind]}
    return enums


def document_comma_lists(openapi: dict[str, Any], components: dict[str, Any]) -> None:
    """Rewrite parameters marked `x-comma-list` as comma-separated arrays in the contract, and
    add the enum schemas they refer to."""
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
                        "maxItems": _MAX_VALUES,
                    }
                    parameter["style"] = "form"
                    parameter["explode"] = False


# --- sorting, paging and projection ---------------------------------------------------------

#: Published sort names and the stored field each orders by. `updated_at` orders by the
#: change sequence (the order writes committed), `date` by the record's primary date.
SORTS: dict[str, str] = {
    "updated_at": "_seq",
    "created_at": "created_at",
    "date": "_date",
    "year": "year",
    "usd": "usd",
    "title": "title",
    "id": "_id",
    "relevance": "",
}
DEFAULT_SORT = "-updated_at"


@dataclass(frozen=True, slots=True)
class Sort:
    name: str
    descending: bool

    @property
    def field(self) -> str:
        return SORTS[self.name]

    @property
    def relevance(self) -> bool:
        return self.name == "relevance"

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.name


@dataclass(frozen=True, slots=True)
class PageRequest:
    sort: Sort
    limit: int
    cursor: str | None
    exact_count: bool
    fields: tuple[str, ...] | None


def _sort_values(resource: Resource) -> list[str]:
    out = []
    for name in resource.sorts:
        out += [name] if name == "relevance" else [name, f"-{name}"]
    return out


def public_fields(resource: Resource) -> list[str]:
    return ["id", *(f for f in resource.record_model.model_fields if f != "id")]


def page_dependency(resource: Resource) -> Callable[..., Awaitable[PageRequest]]:
    """A dependency for the list-only parameters: sort, limit, cursor, count and fields."""
    sorts = _sort_values(resource)
    field_names = public_fields(resource)
    check_field = _check_in(lambda: dict.fromkeys(field_names), "a field of this collection")

    async def dependency(
        request: Request,
        q: Annotated[str | None, Query(include_in_schema=False)] = None,
        sort: Annotated[
            str | None,
            Query(
                description="Order of the results: a field name, `-` for descending. Default: "
                "`relevance` with `q`, else `-updated_at` (newest change first). Ties are "
                "broken by id.",
                examples=["-year"],
                json_schema_extra={ONE_OF: sorts},
            ),
        ] = None,
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
        fields: Annotated[
            str | None,
            Query(
                max_length=2000,
                description="Fields to return, comma-separated; `id` and `version` are always "
                "included.",
                examples=["title,year,usd"],
                json_schema_extra={COMMA_LIST: {"type": "string", "enum": field_names}},
            ),
        ] = None,
    ) -> PageRequest:
        refuse_repeats(request, {"sort", "limit", "cursor", "count", "fields"})
        if count not in ("exact", "none"):
            raise invalid("count", "must be exact or none")
        chosen = sort or ("relevance" if q is not None else DEFAULT_SORT)
        if chosen not in sorts:
            raise invalid("sort", f"must be one of {', '.join(sorts)}")
        parsed = Sort(chosen.lstrip("-"), chosen.startswith("-"))
        if parsed.relevance and q is None:
            raise invalid("sort", "relevance needs q")
        wanted = None
        if fields is not None:
            wanted = comma_list("fields", fields, check_field)
        return PageRequest(parsed, limit, cursor, count == "exact", wanted)

    dependency.__name__ = f"{resource.name}_page"
    return dependency


def keyset_after(field: str, descending: bool, value: Any, last_id: str) -> Document:
    """Records strictly after (`value`, `last_id`) in the order (field, _id), both ascending or
    both descending. Nulls (and missing values) sort before every number and string, and a
    comparison such as `$gt` never matches null, so they are handled explicitly."""
    if field == "_id":
        return {"_id": {"$lt" if descending else "$gt": last_id}}
    tie = {"_id": {"$lt" if descending else "$gt": last_id}}
    if value is None:
        if descending:
            return {field: None, **tie}
        return {"$or": [{field: None, **tie}, {field: {"$ne": None}}]}
    branches: list[Document] = [
        {field: {"$lt" if descending else "$gt": value}},
        {field: value, **tie},
    ]
    if descending:
        branches.append({field: None})
    return {"$or": branches}
