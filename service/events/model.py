"""An event: a forum, summit, dialogue, agreement signed, acquisition, launch or policy."""

from typing import Annotated

from pydantic import Field

from service.records.model import (
    Envelope,
    FuzzyDate,
    Integer,
    RecordFields,
    RecordId,
    Strict,
    Text,
)
from service.vocab.countries import CountryCode
from service.vocab.terms import EventKind


class Venue(Strict):
    name: Text | None = None
    city: Text | None = None
    country: CountryCode | None = None


class Attendance(Strict):
    count: Annotated[Integer, Field(ge=0, le=10**9)] | None = None
    text: Text | None = Field(default=None, examples=["29 heads of state or government"])


class EventFields(RecordFields):
    """An event as a client writes it."""

    kind: EventKind
    start: FuzzyDate
    end: FuzzyDate | None = None
    venue: Venue | None = None
    series: Text | None = Field(default=None, examples=["Belt and Road Forum"])
    edition: Annotated[Integer, Field(ge=1, le=1000)] | None = None
    attendance: Attendance | None = None
    project_ids: Annotated[list[RecordId], Field(max_length=200)] = Field(
        default=[], description="Projects this event launched, funded or concerns."
    )
    parent_id: RecordId | None = Field(
        default=None, description="The event this one is part of (a sub-forum's forum)."
    )

    def primary_date(self) -> FuzzyDate | None:
        return self.start

    def search_texts(self) -> list[str]:
        out = super().search_texts()
        out.append(self.kind.replace("-", " "))
        if self.end is not None:
            out += [str(self.end.year), self.end.text or ""]
        if self.attendance is not None and self.attendance.text is not None:
            out.append(self.attendance.text)
        if self.series is not None:
            out.append(self.series)
        if self.venue is not None:
            out += [v for v in self.venue.model_dump().values() if isinstance(v, str)]
        return out


class Event(EventFields, Envelope):
    """An event as the service stores and serves it."""
