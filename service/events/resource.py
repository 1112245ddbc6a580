from service.events.model import Event, EventFields
from service.records.grammar.query import FILTER_NAMES
from service.records.resource import Resource
from service.vocab.terms import EventKind

EVENTS = Resource(
    name="events",
    singular="event",
    fields_model=EventFields,
    record_model=Event,
    example_id="belt-and-road-forum-2017",
    kinds=EventKind,
    # Events have no status and are counted under no umbrella.
    filters=tuple(f for f in FILTER_NAMES if f not in ("status", "umbrella")),
    sorts=("updated_at", "created_at", "date", "year", "usd", "title", "id", "relevance"),
    dimensions=(
        "year",
        "country",
        "sector",
        "kind",
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
        "start.value",
        "end.value",
        "year",
        "country_codes",
        "countries",
        "sectors",
        "organisations",
        "series",
        "venue.city",
        "usd",
        "usd_lower_bound",
        "dual_use.level",
        "tags",
        "summary",
        "sources",
        "updated_at",
    ),
)
