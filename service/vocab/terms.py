"""Coded vocabularies for sectors, event and project kinds, statuses and roles.

Each is a mapping from code to an English label. The codes are what records store and filters
accept; the labels are for people, published at `GET /v1/vocab`.
"""

from enum import StrEnum

SECTORS: dict[str, str] = {
    "telecom": "Telecommunications networks and equipment, including 5G",
    "cables": "Fibre-optic, submarine and backbone cables",
    "data-centres": "Data centres, cloud computing and big data",
    "smart-cities": "Smart and safe cities, surveillance",
    "e-commerce": "E-commerce and online trade",
    "payments": "Mobile payments and financial technology",
    "satellite-navigation": "Satellite navigation (Beidou)",
    "space": "Space industry",
    "ai": "Artificial intelligence and robotics",
    "quantum": "Quantum computing and communication",
    "nanotech": "Nanotechnology and new materials",
    "semiconductors": "Semiconductors and electronic components",
    "aerospace": "Aviation and aerospace",
    "defence": "Defence industry and dual-use technology",
    "research": "Scientific research cooperation and joint laboratories",
    "higher-education": "Universities, academic exchange and talent training",
    "science-parks": "Science parks and innovation hubs",
    "technology-transfer": "Technology transfer and innovation partnerships",
    "infrastructure": "Physical infrastructure: roads, railways, ports",
    "energy": "Energy, including nuclear and renewables",
    "agriculture": "Agriculture, food and bio-economy",
    "life-sciences": "Life sciences, medicine and biotechnology",
    "environment": "Environment, climate and water",
    "transport": "Transport and automotive",
    "trade": "Trade agreements and economic integration",
    "policy": "Policy, strategy and governance",
}


class EventKind(StrEnum):
    FORUM = "forum"
    SUMMIT = "summit"
    DIALOGUE = "dialogue"
    CONFERENCE = "conference"
    EXPO = "expo"
    AGREEMENT = "agreement"
    ACCESSION = "accession"
    ACQUISITION = "acquisition"
    FUNDING_ANNOUNCEMENT = "funding-announcement"
    PROGRAMME_LAUNCH = "programme-launch"
    INSTITUTION_ESTABLISHED = "institution-established"
    ANNOUNCEMENT = "announcement"
    POLICY = "policy"
    RESTRICTION = "restriction"
    STATEMENT = "statement"


class ProjectKind(StrEnum):
    CABLE = "cable"
    TELECOM = "telecom"
    DATA_CENTRE = "data-centre"
    SMART_CITY = "smart-city"
    E_COMMERCE = "e-commerce"
    MOBILE_PAYMENT = "mobile-payment"
    SATELLITE_NAVIGATION = "satellite-navigation"
    JOINT_LABORATORY = "joint-laboratory"
    SCIENCE_PARK = "science-park"
    UNIVERSITY_ALLIANCE = "university-alliance"
    RESEARCH_COFUNDING = "research-cofunding"
    INNOVATION_PARTNERSHIP = "innovation-partnership"
    TECHNOLOGY_TRANSFER = "technology-transfer"
    DEFENCE_INDUSTRIAL = "defence-industrial"
    TRADE_AGREEMENT = "trade-agreement"
    PROGRAMME = "programme"
    AGGREGATE_ESTIMATE = "aggregate-estimate"


class ProjectStatus(StrEnum):
    ANNOUNCED = "announced"
    AGREED = "agreed"
    UNDER_CONSTRUCTION = "under-construction"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class CountryRole(StrEnum):
    HOST = "host"
    PARTNER = "partner"
    FINANCIER = "financier"
    RECIPIENT = "recipient"
    MEMBER = "member"
    VENUE = "venue"
    SIGNATORY = "signatory"
    PARTICIPANT = "participant"
    SUBJECT = "subject"


class OrganisationRole(StrEnum):
    LEAD = "lead"
    PARTNER = "partner"
    FINANCIER = "financier"
    CONTRACTOR = "contractor"
    OPERATOR = "operator"
    MEMBER = "member"
    SIGNATORY = "signatory"
    ORGANISER = "organiser"
    PARTICIPANT = "participant"
    ACQUIRER = "acquirer"
    TARGET = "target"
    REGULATOR = "regulator"
    ADVISOR = "advisor"
    ANALYST = "analyst"
    RECIPIENT = "recipient"
    CRITIC = "critic"


class DualUseLevel(StrEnum):
    UNASSESSED = "unassessed"
    NONE = "none"
    POSSIBLE = "possible"
    CONCERN_RAISED = "concern-raised"
    DOCUMENTED = "documented"


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class MoneyQualifier(StrEnum):
    EXACT = "exact"
    APPROX = "approx"
    AT_LEAST = "at-least"
    MORE_THAN = "more-than"
    UP_TO = "up-to"


#: Qualifiers under which a sum of the amounts is only a lower bound.
LOWER_BOUND_QUALIFIERS = frozenset({MoneyQualifier.AT_LEAST, MoneyQualifier.MORE_THAN})


class MoneyKind(StrEnum):
    LOAN = "loan"
    FDI = "fdi"
    GRANT = "grant"
    INVESTMENT = "investment"
    CO_FUNDING = "co-funding"
    CONTRACT = "contract"
    COMMITMENT = "commitment"
    PLEDGE = "pledge"
    ESTIMATE = "estimate"
    BUDGET = "budget"


class MoneyPeriod(StrEnum):
    TOTAL = "total"
    ANNUAL = "annual"


#: The roles of the side that provides money: statistics credit money by organisation or
#: country to parties in these roles unless a request names others.
PROVIDING_ROLES = ("financier",)
#: Every role a party can hold, organisation or country: what a stats `role=` may name.
PARTY_ROLES: tuple[str, ...] = tuple(
    dict.fromkeys([*(r.value for r in OrganisationRole), *(r.value for r in CountryRole)])
)
