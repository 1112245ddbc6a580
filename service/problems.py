"""Domain errors and their RFC 9457 problem documents.

Code below the routers raises a `Problem` (or a subclass); `install` registers the handlers
that render every error, including FastAPI's own and unexpected exceptions, as
`application/problem+json`. Nothing else in the service builds error responses.
"""

import logging
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

log = logging.getLogger("service.problems")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://silkroadtracker.dev/problems/"


class Problem(Exception):
    """An error a client can act on. `slug` names its documented type."""

    status: int = 400
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        slug: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if slug is not None:
            self.slug = slug
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": TYPE_BASE + self.slug,
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        if self.errors:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc

    def response(self, instance: str | None = None) -> Response:
        return Response(
            orjson.dumps(self.body(instance)),
            status_code=self.status,
            media_type=PROBLEM_JSON,
            headers=self.headers,
        )


class NotFound(Problem):
    status, slug = 404, "not-found"


class Gone(Problem):
    status, slug = 410, "gone"


class PreconditionFailed(Problem):
    status, slug = 412, "precondition-failed"


class Conflict(Problem):
    status, slug = 409, "conflict"


class Unauthorized(Problem):
    status, slug = 401, "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="silk-road-tracker"'})


class Forbidden(Problem):
    status, slug = 403, "forbidden"


class Unavailable(Problem):
    status, slug = 503, "unavailable"

    def __init__(self, detail: str, retry_after: int = 2) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class Invalid(Problem):
    """422 with one `{pointer, detail}` per failure."""

    status, slug = 422, "validation-error"


def pointer(loc: Iterable[int | str]) -> str:
    """RFC 6901 JSON pointer for a pydantic error location."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "/" + "/".join(parts) if parts else ""


def _describe(error: Any) -> str:
    msg = str(error.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")


def invalid_body(exc: ValidationError, prefix: Sequence[int | str] = ()) -> Invalid:
    errors = [
        {"pointer": pointer([*prefix, *e["loc"]]), "detail": _describe(e)} for e in exc.errors()
    ]
    return Invalid("The request body is not a valid record.", errors=errors)


def _request_validation(exc: RequestValidationError) -> Invalid:
    errors = []
    for e in exc.errors():
        where, *path = e["loc"] or ("body",)
        if where == "body":
            errors.append({"pointer": pointer(path), "detail": _describe(e)})
        else:
            name = str(path[0]) if path else str(where)
            errors.append({"parameter": name, "in": str(where), "detail": _describe(e)})
    return Invalid("The request is not valid.", errors=errors)


class ProblemDoc(BaseModel):
    """RFC 9457 problem document, as every error answer carries it."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


def _allowed_methods(request: Request) -> str:
    """Every method some route serves on this path (Starlette names only the first route's)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        probe = {**request.scope, "method": method}
        if any(r.matches(probe)[0] is Match.FULL for r in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def unexpected() -> Problem:
    """The answer to a fault of ours: no detail of it leaves the service."""
    return Problem("An unexpected error occurred.", status=500, slug="internal-error")


def install(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return exc.response(request.url.path)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _request_validation(exc).response(request.url.path)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = {
            404: f"No route matches {request.url.path}.",
            405: f"{request.method} is not allowed on {request.url.path}.",
        }.get(exc.status_code, str(exc.detail))
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        problem = Problem(detail, status=exc.status_code, slug=slug, headers=headers)
        return problem.response(request.url.path)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        """Only errors of the middleware itself get here (see `middleware/errors.py`)."""
        log.exception("unhandled error", extra={"path": request.url.path})
        return unexpected().response(request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
