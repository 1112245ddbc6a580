"""The query grammar shared by list, facets, statistics, export and the timeline, as data.

Each collection declares which filters it offers (`Resource.filters`). Values are validated
into these types before anything reaches the database: a comma means any-of, different
filters combine with AND, and a value that is not in the filter's vocabulary (an operator such
as `$gt` included) is a 422. `routes/params.py` declares them over HTTP and
`storage/mongo_query.py` translates them for MongoDB; this module knows neither.
"""

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from service.problems import Invalid
from service.records.model import ID_PATTERN
from service.records.resource import Resource
from service.vocab.countries import country_names
from service.vocab.terms import SECTORS, Confidence, DualUseLevel

_RECORD_ID = re.compile(ID_PATTERN)
_TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
# Organisation names are free text; refuse what could only be an injection attempt.
_ORGANISATION = re.compile(r"^[^$\x00-\x1f{}\[\]][^\x00-\x1f{}\[\]]{0,199}$")
MAX_VALUES = 100
#: Vocabularies up to this size are listed in full when a value is not in them.
_LISTED = 40


def check_in(
    allowed: Callable[[], Mapping[str, Any]],
    what: str,
    normalise: Callable[[str], str] = str,
    see: str = "GET /v1/vocab",
) -> Callable[[str], str]:
    """A check that accepts the keys of `allowed()` (after `normalise`) and returns the key;
    a refusal lists the valid values, or says where to find them when there are many."""

    def check(value: str) -> str:
        key = normalise(value)
        values = allowed()
        if key not in values:
            valid = ", ".join(values) if len(values) <= _LISTED else f"see {see}"
            raise ValueError(f"{value!r} is not {what} (valid: {valid})")
        return key

    return check


def one_of(values: list[str], what: str) -> Callable[[str], str]:
    """A check that accepts only `values`."""
    allowed = dict.fromkeys(values)
    return check_in(lambda: allowed, what)


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
    check: Callable[[str], str] | None = None  # None: the resource's vocabulary decides

    def checker(self, resource: Resource) -> Callable[[str], str]:
        if self.check is not None:
            return self.check
        vocabulary = resource.vocabulary(self.name)
        values = {v.value: v for v in vocabulary}
        return check_in(lambda: values, f"a {resource.singular} {self.name}")

    def schema(self, resource: Resource) -> dict[str, Any]:
        return self.item_schema or enum_schema(resource.vocabulary(self.name).__name__)


def enum_schema(ref: str) -> dict[str, Any]:
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
            {},
            "completed,under-construction",
        ),
        ListFilter(
            "country",
            "country_codes",
            "ISO 3166-1 alpha-3 codes (any of; `EUU` for the European Union): records that "
            "name the country in any role or through an organisation.",
            enum_schema("CountryCode"),
            "PAK,KEN",
            check_in(country_names, "an ISO 3166-1 alpha-3 code (or EUU)", str.upper),
        ),
        ListFilter(
            "sector",
            "sectors",
            "Sector codes (any of). See `GET /v1/vocab`.",
            enum_schema("SectorCode"),
            "cables,telecom",
            check_in(lambda: SECTORS, "a sector code"),
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
            enum_schema("DualUseLevel"),
            "possible,documented",
            check_in(lambda: {d.value: d for d in DualUseLevel}, "a dual-use level"),
        ),
        ListFilter(
            "tag",
            "tags",
            "Tags (any of).",
            {"type": "string", "pattern": _TAG.pattern},
            "digital-silk-road",
            _check_pattern(_TAG, "a tag (lower-case letters, digits and hyphens)"),
        ),
        ListFilter(
            "confidence",
            "quality.confidence",
            "How sure the curators are of the record (`quality.confidence`, any of).",
            enum_schema("Confidence"),
            "high,medium",
            check_in(lambda: {c.value: c for c in Confidence}, "a confidence level"),
        ),
        ListFilter(
            "parent",
            "parent_id",
            "Records that are part of these records (`parent_id`, any of).",
            {"type": "string", "pattern": ID_PATTERN},
            "digital-silk-road",
            _check_pattern(_RECORD_ID, "a record id"),
        ),
        ListFilter(
            "umbrella",
            "umbrella_ids",
            "Projects counted under these umbrella initiatives (`umbrella_ids`, any of).",
            {"type": "string", "pattern": ID_PATTERN},
            "digital-silk-road",
            _check_pattern(_RECORD_ID, "a record id"),
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
    "confidence",
    "has_conflicts",
    "parent",
    "umbrella",
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
    #: True: records whose sources disagree (`quality.conflicts` not empty); False: the rest.
    has_conflicts: bool | None = None

    def fingerprint(self) -> str:
        """A short digest that ties a cursor to the filters it was issued for."""
        bounds = (
            self.year_from,
            self.year_to,
            self.usd_min,
            self.usd_max,
            self.updated_since,
            self.has_conflicts,
        )
        data = orjson.dumps([self.terms, sorted(self.any_of.items()), *bounds])
        return hashlib.sha256(data).hexdigest()[:16]


def invalid(parameter: str, detail: str) -> Invalid:
    return Invalid(
        f"The query parameter {parameter!r} is not valid: {detail}.",
        errors=[{"parameter": parameter, "in": "query", "detail": detail}],
    )


def comma_list(
    parameter: str, raw: str, check: Callable[[str], str], max_values: int = MAX_VALUES
) -> tuple[str, ...]:
    """Distinct values of a comma-separated parameter, each checked; a bad one is a 422."""
    values = [v.strip() for v in raw.split(",")]
    if any(not v for v in values):
        raise invalid(parameter, "empty value in the comma-separated list")
    if len(values) > max_values:
        raise invalid(parameter, f"at most {max_values} values")
    try:
        checked = [check(value) for value in values]
    except ValueError as exc:
        raise invalid(parameter, str(exc)) from None
    return tuple(dict.fromkeys(checked))


def utc_timestamp(parameter: str, value: dt.datetime) -> str:
    """The stored timestamp format (fixed-width UTC text), so comparisons are textual."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except (OverflowError, ValueError):
        raise invalid(parameter, "out of range") from None


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
#: Ascending sorts on a nullable field read a twin with missing values above every value,
#: so missing amounts come last in both directions (descending puts nulls last already).
ASCENDING_FIELDS: dict[str, str] = {"usd": "_usd_asc"}


@dataclass(frozen=True, slots=True)
class Sort:
    name: str
    descending: bool

    @property
    def field(self) -> str:
        if not self.descending and self.name in ASCENDING_FIELDS:
            return ASCENDING_FIELDS[self.name]
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
