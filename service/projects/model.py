"""A project, programme or aggregate estimate: cables, networks, labs, alliances, funds."""

from typing import Annotated

from pydantic import Field, StrictBool

from service.records.model import (
    Envelope,
    FuzzyDate,
    Integer,
    Number,
    RecordFields,
    RecordId,
    Strict,
    Text,
)
from service.vocab.countries import CountryCode
from service.vocab.terms import ProjectKind, ProjectStatus


class Count(Strict):
    """A counted target or result, such as "50 joint laboratories"."""

    metric: Text = Field(examples=["joint laboratories"])
    target: Annotated[Integer, Field(ge=0, le=10**12)] | None = None
    actual: Annotated[Integer, Field(ge=0, le=10**12)] | None = None
    qualifier: Text | None = Field(default=None, examples=["more than"])
    text: Text = Field(examples=["50 joint laboratories"])


class ProjectDates(Strict):
    announced: FuzzyDate | None = None
    signed: FuzzyDate | None = None
    started: FuzzyDate | None = None
    completed: FuzzyDate | None = None


class Location(Strict):
    place: Text
    country: CountryCode | None = None
    lat: Annotated[Number, Field(ge=-90, le=90)] | None = None
    lon: Annotated[Number, Field(ge=-180, le=180)] | None = None


class ProjectFields(RecordFields):
    """A project as a client writes it."""

    kind: ProjectKind
    status: ProjectStatus = ProjectStatus.UNKNOWN
    counts: Annotated[list[Count], Field(max_length=50)] = []
    dates: ProjectDates = ProjectDates()
    parent_id: RecordId | None = Field(
        default=None, description="The programme this project belongs to."
    )
    umbrella_ids: Annotated[list[RecordId], Field(max_length=20)] = Field(
        default=[], description="Umbrella initiatives this project is counted under."
    )
    recommended_for_aggregates: StrictBool = Field(
        default=True,
        description="False for umbrellas and overlapping estimates, so sums never double count.",
    )
    location: Location | None = None
    event_ids: Annotated[list[RecordId], Field(max_length=200)] = []

    def primary_date(self) -> FuzzyDate | None:
        d = self.dates
        return d.started or d.signed or d.announced or d.completed

    def search_texts(self) -> list[str]:
        out = super().search_texts()
        out.append(self.kind.replace("-", " "))
        out += [c.text for c in self.counts]
        for date in (self.dates.announced, self.dates.signed, self.dates.completed):
            if date is not None:
                out += [str(date.year), date.text or ""]
        if self.location is not None:
            out.append(self.location.place)
        return out


class Project(ProjectFields, Envelope):
    """A project as the service stores and serves it."""
