from service.projects.model import Project, ProjectFields
from service.records.grammar.query import FILTER_NAMES
from service.records.resource import Resource
from service.vocab.terms import ProjectKind, ProjectStatus

PROJECTS = Resource(
    name="projects",
    singular="project",
    fields_model=ProjectFields,
    record_model=Project,
    example_id="br-sti-action-plan",
    kinds=ProjectKind,
    statuses=ProjectStatus,
    filters=FILTER_NAMES,
    sorts=("updated_at", "created_at", "date", "year", "usd", "title", "id", "relevance"),
    dimensions=(
        "year",
        "country",
        "sector",
        "kind",
        "status",
        "dual_use",
        "organisation",
        "currency",
        "tag",
    ),
    csv_columns=(
        "id",
        "version",
        "title",
        "kind",
        "status",
        "year",
        "country_codes",
        "countries",
        "sectors",
        "organisations",
        "usd",
        "usd_lower_bound",
        "recommended_for_aggregates",
        "dual_use.level",
        "tags",
        "summary",
        "sources",
        "updated_at",
    ),
    has_aggregate_flag=True,
)
