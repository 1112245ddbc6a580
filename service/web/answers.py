"""The shapes of the JSON answers, for the contract.

Routes answer raw JSON bytes (`JSONBytes`), so these models validate nothing at run time:
they are what `response_model=` publishes, so that generated clients get typed answers. The
suite checks real answers against them (tests/test_answer_examples.py, and schemathesis).
Adjust a model here when an answer changes shape; nothing else needs to follow.
"""

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from service.records.grammar.stats import FACETS
from service.records.resource import Resource


def _no_default(schema: dict[str, Any]) -> None:
    """An optional field that is left out when absent, rather than sent as null."""
    schema.pop("default", None)


def _optional(description: str | None = None) -> Any:
    return Field(default=None, description=description, json_schema_extra=_no_default)


class Status(BaseModel):
    status: str = Field(examples=["ok"])


# --- lists, facets, statistics of one collection --------------------------------------------


@cache
def list_item(resource: Resource) -> type[BaseModel]:
    """A listed record: the record as GET serves it, or only the `fields` asked for (plus
    `id` and `version`)."""
    Record = resource.record_model
    fields: dict[str, Any] = {}
    for name, info in Record.model_fields.items():
        if name in ("id", "version"):
            fields[name] = (info.annotation, info)
        else:
            fields[name] = (info.annotation, _optional(info.description))
    return create_model(f"{resource.singular.capitalize()}ListItem", **fields)


@cache
def list_page(resource: Resource) -> type[BaseModel]:
    item: Any = list_item(resource)
    return create_model(
        f"{resource.singular.capitalize()}Page",
        data=(list[item], Field(description="The page's records.")),
        total=(int | None, _optional("Matching records (left out with `count=none`).")),
        next=(str | None, Field(description="Cursor of the next page; null on the last.")),
    )


class FacetCount(BaseModel):
    value: str | int | None = Field(description="The value (null: records without one).")
    count: int


@cache
def facets(resource: Resource) -> type[BaseModel]:
    """One list of counts per facet asked for in `by`."""
    names = [d for d in FACETS if d in resource.dimensions]
    fields: dict[str, Any] = {n: (list[FacetCount], _optional()) for n in names}
    return create_model(f"{resource.singular.capitalize()}Facets", **fields)


class StatsValues(BaseModel):
    """The metrics asked for; rows also carry one property per `group_by` dimension."""

    model_config = ConfigDict(extra="allow")

    count: int | None = _optional()
    usd: int | None = _optional()
    usd_avg: int | None = _optional()
    usd_lower_bound: bool | None = _optional()
    usd_per_year: int | None = _optional(
        "Amounts a year over years the source does not close, summed apart from `usd`."
    )
    period: str | None = _optional("By year: a period that cannot be split, in words.")


class Stats(BaseModel):
    group_by: list[str]
    metrics: list[str]
    include_all: bool
    roles: list[str] | None = Field(
        description="The roles in which organisations or countries were credited with money; "
        "null when the grouping credits no party."
    )
    rows: list[StatsValues]
    totals: StatsValues


# --- revisions ------------------------------------------------------------------------------


class RevisionSummary(BaseModel):
    version: int
    op: str = Field(examples=["update"])
    at: str | None
    by: str | None
    restored_from: int | None


class RevisionList(BaseModel):
    data: list[RevisionSummary]


@cache
def revision(resource: Resource) -> type[BaseModel]:
    record: Any = resource.record_model | None
    return create_model(
        f"{resource.singular.capitalize()}Revision",
        __base__=RevisionSummary,
        record=(record, Field(description="Null for a deletion.")),
    )


# --- app-wide answers -----------------------------------------------------------------------


class TimelineItem(BaseModel):
    collection: str
    id: str
    date: str | None = Field(description="The primary date at its known precision.")
    title: str
    kind: str
    status: str | None = _optional("Projects only.")
    date_text: str | None = Field(description="The source's wording of the date.")
    year: int | None
    usd: int | None = Field(description="The headline amount in USD.")
    usd_qualifier: str | None
    usd_period: str | None = Field(description="'total', 'annual' or a period in words.")
    usd_lower_bound: bool


class Timeline(BaseModel):
    country: str
    data: list[TimelineItem]


class Synonym(BaseModel):
    canonical: str
    variants: list[str]


class Spelling(BaseModel):
    american: str
    british: str


class Synonyms(BaseModel):
    synonyms: list[Synonym]
    spellings: list[Spelling]
    rules: list[str]


class CodeLabel(BaseModel):
    code: str
    label: str


class CodeName(BaseModel):
    code: str
    name: str


class Vocabularies(BaseModel):
    sectors: list[CodeLabel]
    event_kinds: list[str]
    project_kinds: list[str]
    project_statuses: list[str]
    country_roles: list[str]
    organisation_roles: list[str]
    dual_use_levels: list[str]
    confidence: list[str]
    money_qualifiers: list[str]
    money_kinds: list[str]
    money_periods: list[str]
    countries: list[CodeName]
    currencies: list[CodeName]
