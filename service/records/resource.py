"""What a collection is: its name and models. Each resource package declares one."""

from dataclasses import dataclass

from service.records.model import Envelope, RecordFields


@dataclass(frozen=True, slots=True)
class Resource:
    name: str  # collection and path segment, e.g. "events"
    singular: str  # e.g. "event", for operation ids and messages
    fields_model: type[RecordFields]
    record_model: type[Envelope]
    example_id: str
