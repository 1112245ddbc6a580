"""`GET /` and `/explorer` serve the page, `/explorer/assets/*` its scripts and styles, and
`/schemas/*.schema.json` the published record schemas its forms are built from.

The page keeps its state in its own query string (`/explorer?c=projects&country=KEN`), so
these are plain Starlette routes: the API's unknown-parameter check applies to API operations
only. They stay out of the API contract.
"""

from functools import cache
from pathlib import Path

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

from service.problems import NotFound

STATIC = Path(__file__).resolve().parent / "static"

# Only the service's own scripts, styles and API; no inline code, no other host.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


async def page(request: Request) -> Response:
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": PAGE_CSP},
    )


@cache
def _schemas() -> dict[str, bytes]:
    from service.contracts import record_schemas  # the contract module imports the app

    return {name: orjson.dumps(schema) for name, schema in record_schemas().items()}


async def schema(request: Request) -> Response:
    name = request.path_params["name"]
    body = _schemas().get(name)
    if body is None:
        return NotFound(f"No schema named {name}.").response(request.url.path)
    return Response(body, media_type="application/schema+json")


def install(app: FastAPI) -> None:
    app.add_route("/", page, methods=["GET"], include_in_schema=False)
    app.add_route("/explorer", page, methods=["GET"], include_in_schema=False)
    app.add_route("/schemas/{name}", schema, methods=["GET"], include_in_schema=False)
    app.mount("/explorer/assets", StaticFiles(directory=STATIC / "assets"), name="explorer")
