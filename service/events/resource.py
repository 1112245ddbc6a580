from service.events.model import Event, EventFields
from service.records.resource import Resource

EVENTS = Resource(
    name="events",
    singular="event",
    fields_model=EventFields,
    record_model=Event,
    example_id="belt-and-road-forum-2017",
)
