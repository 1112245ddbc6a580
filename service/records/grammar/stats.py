"""What facets and statistics may ask for: dimensions, metrics, and the parsed request."""

from dataclasses import dataclass

from service.records.grammar.query import comma_list, invalid, one_of
from service.vocab.terms import PARTY_ROLES, PROVIDING_ROLES


@dataclass(frozen=True, slots=True)
class Dimension:
    field: str
    array: bool = False


#: Facet and group-by names and the stored field each reads.
DIMENSIONS: dict[str, Dimension] = {
    "year": Dimension("year"),
    "country": Dimension("country_codes", array=True),
    "sector": Dimension("sectors", array=True),
    "kind": Dimension("kind"),
    "status": Dimension("status"),
    "dual_use": Dimension("dual_use.level"),
    "organisation": Dimension("_orgs", array=True),
    "currency": Dimension("_currencies", array=True),
    "tag": Dimension("tags", array=True),
}
FACETS = ("country", "sector", "kind", "status", "year", "dual_use", "organisation", "tag")
METRICS = ("count", "usd", "usd_avg")


@dataclass(frozen=True, slots=True)
class StatsRequest:
    group_by: tuple[str, ...]
    metrics: tuple[str, ...]
    order: str  # a metric or dimension, `-` for descending
    top: int | None
    include_all: bool
    #: Roles in which a party is credited with money when grouping by organisation or country.
    roles: tuple[str, ...] = PROVIDING_ROLES


def parse_stats(
    dimensions: list[str],
    group_by: str,
    metrics: str,
    order: str | None,
    top: int | None,
    include_all: bool,
    role: str | None = None,
) -> StatsRequest:
    """Validated statistics parameters: an unknown dimension or metric is a 422."""
    dims = comma_list("group_by", group_by, one_of(dimensions, "a dimension of this collection"))
    if len(dims) > 2:
        raise invalid("group_by", "at most two dimensions")
    wanted = comma_list("metrics", metrics, one_of(list(METRICS), "a metric"))
    chosen = order or ("-count" if "count" in wanted else f"-{wanted[0]}")
    if chosen.lstrip("-") not in (*wanted, *dims) or chosen.startswith("--"):
        raise invalid("order", "must name a requested metric or a group_by dimension")
    roles = (
        comma_list("role", role, one_of(list(PARTY_ROLES), "a role")) if role else PROVIDING_ROLES
    )
    return StatsRequest(dims, wanted, chosen, top, include_all, roles)
