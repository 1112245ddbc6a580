"""`create_app(settings)`: the service assembled from its parts.

Usage: `uvicorn --factory service.main:create_app`. Settings are read from the environment
when the app is built, never at import, so tests build apps with their own settings.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi_offline import FastAPIOffline
from pymongo.errors import PyMongoError
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response

from service import health, logs, problems, timeline
from service.auth import routes as key_routes
from service.auth.access import annotate_access
from service.changes import routes as change_routes
from service.db import is_unavailable
from service.explorer import routes as explorer
from service.middleware.cors import Cors, allows_loopback
from service.middleware.db_budget import WriteBudget
from service.middleware.errors import UnexpectedErrors
from service.middleware.headers import ResponseHeaders
from service.middleware.limits import RequestLimits
from service.middleware.observability import Metrics, Observe
from service.middleware.ratelimit import RateLimit
from service.middleware.strict_json import JsonLimits
from service.problems import Problem, Unavailable, unexpected
from service.query_params import reject_unknown_query
from service.records.routes import build_router
from service.records.routes.examples import restore_examples
from service.records.routes.params import document_comma_lists, filter_components
from service.settings import Settings
from service.vocab import routes as vocab_routes
from service.web.error_docs import problem_component
from service.wiring import RESOURCES, Services

log = logging.getLogger("service")

DESCRIPTION = """\
A curated, sourced record of China's Belt and Road and Digital Silk Road
science-and-technology cooperation: **events** (forums, summits, agreements, launches,
policies) and **projects** (cables, networks, data centres, joint laboratories, alliances,
co-funding mechanisms, defence-industrial cooperation).

* Reads are anonymous by default; writes need `Authorization: Bearer <key>`. A missing or
  bad key is a 401 (`WWW-Authenticate: Bearer`); a role that may not is a 403.
* Roles: **admin** (everything, including the keys API), **editor** (any record),
  **partner** (creates records, and changes or deletes only the records it owns: a record's
  `owner` is the name of the key that created it, by any route, bulk included), **reader**
  (reads, for deployments that switch anonymous reads off). Every revision records the key
  that made it (`by`).
* Sync: `POST /v1/{collection}/bulk` upserts up to 1,000 records by id, `Idempotency-Key` makes
  POST and bulk retries safe, and `GET /v1/changes` is a resumable feed that never skips a
  write (see its description for what a consumer may rely on).
* Every record carries a `version`; `ETag`/`If-Match` prevent lost updates, and every write is
  kept as a revision that can be restored.
* Every error is an RFC 9457 problem document (`application/problem+json`).
* Limits (defaults; a deployment may change them): a write's key is checked before its body
  is read (401/403); bodies up to 1 MiB (16 MiB for `POST /v1/{collection}/bulk`, 413
  beyond), JSON only (415), nesting up to 32 levels, arrays up to 10,000 items, objects up
  to 1,000 keys, strings up to 100,000 characters, at most 200,000 arrays and objects in one
  body (counted as its `[` and `{`); keys starting with `$` or containing `.` or NUL,
  duplicate keys, NaN/Infinity, integers beyond 64 bits, NUL and lone surrogates are refused
  (422). Requests are rate limited per key, or per address when anonymous: see the
  `RateLimit-Policy` and `RateLimit` headers; 429 with `Retry-After` past the limit.
"""


async def _prepare(services: Services) -> None:
    """Create indexes and the bootstrap key; retried in the background while the DB is down."""
    delay = 0.5
    while True:
        try:
            await services.prepare()
            log.info("database prepared")
            return
        except PyMongoError as exc:
            log.warning("database not ready (%s); retrying in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def _complete_contract(app: FastAPI) -> None:
    """What FastAPI cannot infer: list filters appear as arrays of their enum, every operation
    says who may call it (`x-access`, and an optional key on reads), errors refer to the
    `Problem` schema, and answer examples keep their nulls."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            document_comma_lists(schema, filter_components(RESOURCES))
            schema["components"]["schemas"]["Problem"] = problem_component()
            restore_examples(app, schema)
            annotate_access(app, schema)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.build(settings, metrics)
        services.install(app)
        prepare = asyncio.create_task(_prepare(services))
        try:
            # Wait briefly so a healthy start is ready at once; a down DB does not block start.
            await asyncio.wait_for(asyncio.shield(prepare), timeout=settings.db_timeout_ms / 250)
        except TimeoutError:
            log.warning("starting before the database is ready")
        try:
            yield
        finally:
            prepare.cancel()
            await services.close()

    app = FastAPIOffline(
        dependencies=[Depends(reject_unknown_query)],
        title="Silk Road Tracker API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        servers=[{"url": "/", "description": "This server"}],
        contact={"name": "Silk Road Tracker", "url": "https://silkroadtracker.dev"},
        license_info={"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
    )
    logs.setup(settings.log_level)
    problems.install(app)
    _complete_contract(app)

    async def on_database_error(request: Request, exc: Exception) -> Response:
        """Outages and timeouts are a 503 with `Retry-After`; anything else is a 500."""
        metrics.db_errors.labels(type(exc).__name__).inc()
        if isinstance(exc, PyMongoError) and is_unavailable(exc):
            log.warning("database unavailable: %s: %.300s", type(exc).__name__, exc)
            problem: Problem = Unavailable("The database is unreachable; retry shortly.")
        else:
            log.error("database error: %s", type(exc).__name__)
            problem = unexpected()
        return problem.response(request.url.path)

    app.add_exception_handler(PyMongoError, on_database_error)

    # The HTTP stack, outermost first: request ids, logs and metrics see every answer;
    # security and cache headers and CORS apply to errors too; the rate limit runs before
    # the body is read; the request limits refuse hostile input before any route runs; a
    # fault of ours becomes a 500 problem inside all of them.
    stack = [
        (Observe, {"metrics": metrics}),
        (ResponseHeaders, {}),
        (Cors, {"origins": settings.cors_origins, "loopback": allows_loopback(settings)}),
        (GZipMiddleware, {"minimum_size": 1000, "compresslevel": 5}),
        (
            RateLimit,
            {
                "limits": settings.rate_limits,
                "window_s": settings.rate_limit_window_s,
                "processes": settings.rate_limit_processes,
                "enabled": settings.rate_limit_enabled,
            },
        ),
        (
            RequestLimits,
            {
                "max_body": settings.max_body_bytes,
                "max_bulk_body": settings.max_bulk_body_bytes,
                "json_limits": JsonLimits(
                    max_depth=settings.json_max_depth,
                    max_array_items=settings.json_max_array_items,
                    max_object_keys=settings.json_max_object_keys,
                    max_string_chars=settings.json_max_string_chars,
                    max_containers=settings.json_max_containers,
                ),
            },
        ),
        (
            WriteBudget,
            {
                "write_s": settings.db_write_timeout_ms / 1000,
                "bulk_s": settings.db_bulk_timeout_ms / 1000,
            },
        ),
        (UnexpectedErrors, {}),
    ]
    for middleware, options in reversed(stack):
        app.add_middleware(middleware, **options)  # type: ignore[arg-type]

    app.include_router(health.router)
    app.include_router(vocab_routes.router)
    for resource in RESOURCES:
        app.include_router(build_router(resource))
    app.include_router(change_routes.router)
    app.include_router(key_routes.router)
    app.include_router(timeline.router)
    explorer.install(app)
    return app
