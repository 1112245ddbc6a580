"""The parts every record is made of: fuzzy dates, money, parties, sources, assessments.

A record type is a pydantic model of the fields a client writes (`RecordFields` and its
subclasses) plus the server-managed envelope (`Envelope`) that the service adds on write.
Clients may send the envelope back unchanged (fetch, edit, PUT): it is dropped before
validation. Anything else unknown is refused.
"""

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

import pydantic
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from service.vocab.countries import CountryCode
from service.vocab.currencies import CurrencyCode
from service.vocab.terms import (
    SECTORS,
    Confidence,
    CountryRole,
    DualUseLevel,
    MoneyKind,
    MoneyPeriod,
    MoneyQualifier,
    OrganisationRole,
)

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,99}$"
#: The names of collection-level routes, reserved so that every record stays reachable.
RESERVED_IDS = frozenset({"facets", "stats", "export", "bulk"})


def not_reserved(record_id: str) -> str:
    if record_id in RESERVED_IDS:
        raise ValueError(f"{record_id!r} is reserved for a route; choose another id")
    return record_id


RecordId = Annotated[
    str,
    Field(pattern=ID_PATTERN, examples=["belt-and-road-forum-2017"]),
    AfterValidator(not_reserved),
]

Text = Annotated[str, Field(min_length=1, max_length=500)]
LongText = Annotated[str, Field(min_length=1, max_length=10_000)]
Tag = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,49}$")]
#: JSON integers only: `true`, `"12"` or `12.0` are refused, not coerced.
Integer = Annotated[int, pydantic.Strict()]
#: JSON numbers only (integers included); `true` or `"1.5"` are refused.
Number = Annotated[float, pydantic.Strict()]
#: Money in whole units. Bounded so that it always fits a BSON int64 with room for sums.
Amount = Annotated[Integer, Field(ge=0, le=10**15)]
Year = Annotated[Integer, Field(ge=1800, le=2100)]

_FUZZY_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Strict(BaseModel):
    """Base for every input part: unknown fields are errors, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FuzzyDate(Strict):
    """A date at the precision the source gives: `2013`, `2017-05` or `2019-04-25`."""

    value: str = Field(
        pattern=_FUZZY_DATE.pattern,
        description="ISO 8601 date at the known precision: YYYY, YYYY-MM or YYYY-MM-DD.",
        examples=["2017-05"],
    )
    text: str | None = Field(
        default=None,
        max_length=200,
        description="The source's own wording.",
        examples=["May 2017"],
    )
    estimated: StrictBool = Field(default=False, description="True when the date is inferred.")

    @field_validator("value")
    @classmethod
    def _iso_at_precision(cls, value: str) -> str:
        if not _FUZZY_DATE.match(value):
            raise ValueError("expected YYYY, YYYY-MM or YYYY-MM-DD")
        if len(value) == 10:
            dt.date.fromisoformat(value)  # rejects 2019-02-30
        return value

    @property
    def year(self) -> int:
        return int(self.value[:4])


class Money(Strict):
    """An amount as the source states it, with a USD value the service can aggregate."""

    amount: Amount | None = Field(
        description="Whole units of `currency`; null when the source gives only words.",
        examples=[7_000_000_000],
    )
    currency: CurrencyCode
    qualifier: MoneyQualifier = MoneyQualifier.EXACT
    kind: MoneyKind
    period: MoneyPeriod = MoneyPeriod.TOTAL
    year: Year | None = Field(default=None, description="Year the amount refers to.")
    year_from: Year | None = Field(
        default=None,
        description="First year of the period the amount covers ('since 2013', '2014-2020'); "
        "use instead of `year` when the amount is not for one year.",
    )
    year_to: Year | None = Field(
        default=None,
        description="Last year of the period; null with `year_from` for an open period. An "
        "`annual` amount with both is spent in each year of the period.",
    )
    provided_by: Annotated[list[Text], Field(max_length=50)] = Field(
        default=[],
        description="Who provides this amount: country codes or organisation names of the "
        "record. Empty when the source does not say; then every party in a providing role "
        "is credited.",
        examples=[["CHN"]],
    )
    text: Text = Field(description="The source's own words.", examples=["at least USD 7 billion"])
    usd: Amount | None = Field(
        default=None,
        description="Whole US dollars. Given by the source, or derived by the service from the "
        "ECB reference rate of `year` (then `usd_derived` is true).",
    )
    usd_derived: StrictBool = Field(
        default=False,
        description="Server-managed: true when `usd` was computed from ECB rates. A derived "
        "value sent back is recomputed, never stored as given.",
    )
    recommended_for_aggregates: StrictBool = Field(
        default=True, description="False when the amount overlaps another and must not be summed."
    )
    note: LongText | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_derived_usd(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("usd_derived") is True:
            data = {k: v for k, v in data.items() if k not in ("usd", "usd_derived")}
        return data

    @model_validator(mode="after")
    def _one_kind_of_time(self) -> "Money":
        if self.year is not None and self.year_from is not None:
            raise ValueError("give `year` or `year_from`/`year_to`, not both")
        if self.year_to is not None and (self.year_from is None or self.year_to < self.year_from):
            raise ValueError("`year_to` needs a `year_from` no later than it")
        return self

    @property
    def single_year(self) -> int | None:
        """The one year the amount belongs to, if the source places it in one."""
        if self.year is not None:
            return self.year
        if self.year_from is not None and self.year_from == self.year_to:
            return self.year_from
        return None

    def spread(self) -> list[int] | None:
        """The years an amount is spent in, where the source says how: an annual amount
        over a closed period is spent in full in each of its years."""
        if self.period is MoneyPeriod.ANNUAL and self.year_from and self.year_to:
            return list(range(self.year_from, self.year_to + 1))
        return None

    @property
    def recurring(self) -> bool:
        """An amount a year over years the source does not close: a rate, never a sum."""
        return self.period is MoneyPeriod.ANNUAL and self.single_year is None and not self.spread()

    def span_label(self) -> str | None:
        """The period in words when the amount is not for one year, else None."""
        if self.single_year is not None:
            return None
        if self.year_from is not None:
            years = (
                f"since {self.year_from}"
                if self.year_to is None
                else (f"{self.year_from}-{self.year_to}")
            )
        else:
            years = None
        if self.period is MoneyPeriod.ANNUAL:
            return f"a year, {years}" if years else "a year, years not stated"
        return years


class CountryRef(Strict):
    code: CountryCode
    role: CountryRole = CountryRole.PARTNER


class Organisation(Strict):
    name: Text
    role: OrganisationRole = OrganisationRole.PARTICIPANT
    country: CountryCode | None = None
    chinese: StrictBool = Field(default=False, description="A Chinese entity (state or private).")


def _web_address(url: str) -> str:
    try:
        host = urlsplit(url).hostname
    except ValueError as exc:  # e.g. "http://[" (an unclosed IPv6 literal)
        raise ValueError(f"not a valid URL: {exc}") from None
    if not host:
        raise ValueError("a URL needs a host name")
    return url


WebAddress = Annotated[
    str,
    Field(pattern=r"^https?://[^\s/?#]+[^\s]*$", max_length=2000),
    AfterValidator(_web_address),
]


class Source(Strict):
    url: WebAddress
    title: Text
    publisher: Text | None = None
    published: str | None = Field(
        default=None, description="Publication date, YYYY, YYYY-MM or YYYY-MM-DD."
    )
    accessed: str | None = Field(default=None, description="Date accessed, YYYY-MM-DD.")
    external: StrictBool = Field(
        default=False, description="True for facts from outside the seed article."
    )
    note: LongText | None = None

    @field_validator("published")
    @classmethod
    def _published_date(cls, value: str | None) -> str | None:
        return None if value is None else FuzzyDate(value=value).value

    @field_validator("accessed")
    @classmethod
    def _accessed_date(cls, value: str | None) -> str | None:
        if value is not None and not _TIMESTAMP.match(value):
            raise ValueError("expected YYYY-MM-DD")
        return None if value is None else FuzzyDate(value=value).value


class DualUse(Strict):
    level: DualUseLevel = DualUseLevel.UNASSESSED
    note: LongText | None = None


class Conflict(Strict):
    """Two sources, or one source and the record, that disagree."""

    field: Text = Field(examples=["start"])
    description: LongText


class Quality(Strict):
    confidence: Confidence = Confidence.MEDIUM
    notes: LongText | None = None
    conflicts: Annotated[list[Conflict], Field(max_length=50)] = []


def _check_sector(code: str) -> str:
    if code not in SECTORS:
        raise ValueError(f"{code!r} is not a sector code (see GET /v1/vocab)")
    return code


Sector = Annotated[str, Field(max_length=40, examples=["telecom"]), AfterValidator(_check_sector)]


class Envelope(BaseModel):
    """Server-managed and derived fields. Ignored on input, always present on output."""

    id: RecordId
    version: int = Field(ge=1, examples=[3])
    created_at: str = Field(examples=["2026-11-29T22:27:14.123456Z"])
    updated_at: str
    created_by: str
    updated_by: str
    owner: str = Field(description="Name of the key that created the record.")
    year: int | None = Field(description="Derived: the year used for filtering and grouping.")
    usd: int | None = Field(
        description="Derived: the record's headline amount in USD: the largest funding item, "
        "or the sum of the items recommended for aggregates when that is larger. Shown "
        "whether or not the record counts toward aggregates (sums use that flag, not this)."
    )
    usd_qualifier: MoneyQualifier | None = Field(
        default=None, description="Derived: the qualifier of the headline amount."
    )
    usd_period: str | None = Field(
        default=None,
        description="Derived: `total`, `annual`, or the period in words ('since 2013').",
    )
    usd_derived: bool = Field(
        default=False, description="Derived: true when the headline USD came from ECB rates."
    )
    usd_lower_bound: bool = Field(
        description="Derived: true when `usd` is only a lower bound (qualifiers or unknowns)."
    )
    country_codes: list[str] = Field(description="Derived: every country the record names.")


#: Field names a client may send back but never sets.
SERVER_FIELDS: frozenset[str] = frozenset(Envelope.model_fields)


class RecordFields(Strict):
    """What every record holds, as a client writes it."""

    @model_validator(mode="before")
    @classmethod
    def _ignore_server_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in SERVER_FIELDS}
        return data

    title: Text
    summary: LongText | None = None
    countries: Annotated[list[CountryRef], Field(max_length=300)] = []
    organisations: Annotated[list[Organisation], Field(max_length=300)] = []
    sectors: Annotated[list[Sector], Field(max_length=30)] = []
    tags: Annotated[list[Tag], Field(max_length=50)] = []
    funding: Annotated[list[Money], Field(max_length=100)] = []
    sources: Annotated[list[Source], Field(min_length=1, max_length=100)]
    dual_use: DualUse = DualUse()
    quality: Quality = Quality()

    @field_validator("sectors", "tags")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("values must be unique")
        return values

    @model_validator(mode="after")
    def _providers_are_parties(self) -> "RecordFields":
        """`provided_by` names parties of this record, so attribution can find their roles."""
        parties = {c.code for c in self.countries} | {o.name for o in self.organisations}
        for item in self.funding:
            unknown = [p for p in item.provided_by if p not in parties]
            if unknown:
                raise ValueError(
                    f"provided_by names {unknown!r}, which is not a country or organisation "
                    "of this record"
                )
        return self

    def primary_date(self) -> FuzzyDate | None:
        """The date that gives the record its `year`; each record type says which."""
        raise NotImplementedError

    def search_texts(self) -> list[str]:
        """The record's own words besides title and summary, for search: organisations, tags,
        sector labels, funding wording, dates and year. Never the sources: every record
        cites the seed article, so its title and publisher would match every record. A
        record type with more searchable fields extends it."""
        out = [o.name for o in self.organisations]
        out += [tag.replace("-", " ") for tag in self.tags]
        out += [f"{code} {SECTORS[code]}" for code in self.sectors]
        out += [f"{m.text} {m.kind} {m.currency}" for m in self.funding]
        date = self.primary_date()
        if date is not None:
            out += [str(date.year), date.text or ""]
        return out
