"""Who may call each operation, published in the contract as `x-access` on every operation.

Derived from the principal dependency each route uses, so the contract cannot drift from the
code: `public` (no key needed, ever), `read` (anyone while anonymous reads are on; otherwise
any key), `write` (editor and admin on any record; partner on records it owns and to create
new ones; reader and anonymous never), `admin` (admin keys only).
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from service.auth.deps import admin, reader, writer

ACCESS_NOTES = {
    "public": "No key needed.",
    "read": "Anyone while anonymous reads are on (the default); otherwise any key.",
    "write": "Roles editor and admin: any record. Role partner: creates records, and changes "
    "or deletes only records it owns (403 otherwise). Reader keys: 403. No key: 401.",
    "admin": "Admin keys only (other keys: 403; no key: 401).",
}
_LEVELS: tuple[tuple[Callable[..., Any], str], ...] = (
    (admin, "admin"),
    (writer, "write"),
    (reader, "read"),
)


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    found = {dependant.call} if dependant.call else set()
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def access_of(route: APIRoute) -> str:
    calls = _calls(route.dependant)
    return next((level for dep, level in _LEVELS if dep in calls), "public")


def annotate_access(app: FastAPI, schema: dict[str, Any]) -> None:
    """Add `x-access` and its note to every operation of the app's OpenAPI document."""
    levels = {
        route.operation_id: access_of(route)
        for route in (ctx.original_route for ctx in iter_route_contexts(app.routes))
        if isinstance(route, APIRoute) and route.operation_id
    }
    for item in schema["paths"].values():
        for operation in item.values():
            level = levels.get(operation.get("operationId"), "public")
            operation["x-access"] = level
            if level == "read":  # a key is optional (and a bad one is still a 401)
                operation["security"] = [*operation.get("security", []), {}]
            elif level == "public":  # no key is ever looked at
                operation["security"] = []
            note = f"**Access ({level})**: {ACCESS_NOTES[level]}"
            text = operation.get("description", "")
            operation["description"] = f"{text}\n\n{note}" if text else note
