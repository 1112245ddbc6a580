"""Query parameters, one rule for every route: an unknown parameter is a 422, so a typo never
silently returns everything; a list parameter may be repeated (`country=RUS&country=ISR` means
`country=RUS,ISR`, as OpenAPI's `style: form, explode: true` sends it); a single-valued one
given twice is a 422 naming it, since which of the two was meant is a guess."""

from fastapi import Request
from fastapi._compat import field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from service.problems import Invalid


def _query_params(dependant: Dependant) -> dict[str, bool]:
    """Each query parameter the route declares, and whether it takes a list."""
    names = {
        p.alias: field_annotation_is_sequence(p.field_info.annotation)
        for p in dependant.query_params
    }
    for sub in dependant.dependencies:
        names |= _query_params(sub)
    return names


_DECLARED: dict[object, dict[str, bool]] = {}


def _declared(route: APIRoute) -> dict[str, bool]:
    names = _DECLARED.get(route.endpoint)
    if names is None:
        names = _DECLARED[route.endpoint] = _query_params(route.dependant)
    return names


async def reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _declared(route)
    unknown = sorted({k for k in request.query_params if k not in allowed})
    if unknown:
        listed = ", ".join(sorted(allowed)) or "none"
        raise Invalid(
            f"Unknown query parameter(s): {', '.join(unknown)}. This operation takes: {listed}.",
            errors=[
                {"parameter": k, "in": "query", "detail": "unknown parameter"} for k in unknown
            ],
        )
    repeated = sorted(
        k
        for k, is_list in allowed.items()
        if not is_list and len(request.query_params.getlist(k)) > 1
    )
    if repeated:
        raise Invalid(
            f"Given more than once: {', '.join(repeated)}. These parameters take one value.",
            errors=[
                {"parameter": k, "in": "query", "detail": "given more than once"} for k in repeated
            ],
        )
