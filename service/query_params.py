"""Unknown query parameters are refused (422), so a typo never silently returns everything."""

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from service.problems import Invalid


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


_ALLOWED: dict[object, frozenset[str]] = {}


def _allowed(route: APIRoute) -> frozenset[str]:
    names = _ALLOWED.get(route.endpoint)
    if names is None:
        names = _ALLOWED[route.endpoint] = frozenset(_query_names(route.dependant))
    return names


async def reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _allowed(route)
    unknown = sorted({k for k in request.query_params if k not in allowed})
    brackets = [k for k in unknown if "[" in k or "]" in k]
    if brackets:
        raise Invalid(
            "Bracket syntax such as country[$ne]=X is not supported: filters take plain "
            "values, with commas for any-of (country=PAK,KEN).",
            errors=[
                {"parameter": k, "in": "query", "detail": "bracket syntax is not supported"}
                for k in brackets
            ],
        )
    if unknown:
        listed = ", ".join(sorted(allowed)) or "none"
        raise Invalid(
            f"Unknown query parameter(s): {', '.join(unknown)}. This operation takes: {listed}.",
            errors=[
                {"parameter": k, "in": "query", "detail": "unknown parameter"} for k in unknown
            ],
        )
