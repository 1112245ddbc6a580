"""What a collection is: its name, models, and which filters, sorts and group-bys it offers.

Each resource package declares one. The generic engine (query grammar, facets, statistics,
export, indexes, the timeline) reads these declarations, so a collection offers exactly what
it lists.
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
    #: The status vocabulary, for collections whose records have a status.
    statuses: type[StrEnum] | None = None
    #: Filter names from `query.FILTERS` that this collection accepts.
    filters: tuple[str, ...] = ()
    #: Sort names from `query.SORTS`.
    sorts: tuple[str, ...] = ()
    #: Dimensions from `stats.DIMENSIONS` for facets and statistics.
    dimensions: tuple[str, ...] = ()
    #: CSV export columns, one row per record: names from `routes/csv_columns.COLUMNS`.
    csv_columns: tuple[str, ...] = ()
    #: CSV columns of `rows=funding`: names from `routes/csv_columns.FUNDING_COLUMNS`.
    csv_funding_columns: tuple[str, ...] = ()
    #: Whether records carry their own `recommended_for_aggregates` flag.
    has_aggregate_flag: bool = False

    def vocabulary(self, name: str) -> type[StrEnum]:
        """The enum a vocabulary-checked filter or dimension (`kind`, `status`) takes here."""
        found = {"kind": self.kinds, "status": self.statuses}.get(name)
        if found is None:
            raise KeyError(f"{self.name} has no {name} vocabulary")
        return found

    def vocabularies(self) -> list[type[StrEnum]]:
        return [v for v in (self.kinds, self.statuses) if v is not None]
