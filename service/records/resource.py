"""What a collection is: its name, models, and which filters, sorts and group-bys it offers.

Each resource package declares one. The generic engine (query grammar, facets, statistics,
export, indexes) reads these declarations, so a collection offers exactly what it lists.
"""

from dataclasses import dataclass
from enum import StrEnum

from service.records.model import Envelope, RecordFields


@dataclass(frozen=True, slots=True)
class Resource:
    name: str  # collection and path segment, e.g. "events"
    singular: str  # e.g. "event", for operation ids and messages
    fields_model: type[RecordFields]
    record_model: type[Envelope]
    example_id: str
    kinds: type[StrEnum]
    #: Filter names from `query.FILTERS` that this collection accepts.
    filters: tuple[str, ...] = ()
    #: Sort names from `query.SORTS`.
    sorts: tuple[str, ...] = ()
    #: Dimensions from `stats.DIMENSIONS` for facets and statistics.
    dimensions: tuple[str, ...] = ()
    #: CSV export columns: dotted paths into the served record.
    csv_columns: tuple[str, ...] = ()
    #: Whether records carry their own `recommended_for_aggregates` flag.
    has_aggregate_flag: bool = False
