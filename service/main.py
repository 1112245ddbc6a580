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
from pymongo.errors import ConnectionFailure, PyMongoError
from starlette.responses import Response

from service import health, problems, timeline
from service.auth.keys import KeyStore
from service.auth.principal import Role
from service.db import connect
from service.events.resource import EVENTS
from service.problems import Unavailable
from service.projects.resource import PROJECTS
from service.query_params import reject_unknown_query
from service.records.query import document_comma_lists, filter_components
from service.records.repository import Repository
from service.records.resource import Resource
from service.records.routes import build_router
from service.records.sequence import Sequence
from service.records.tokens import Signer
from service.settings import Settings
from service.vocab import routes as vocab_routes

log = logging.getLogger("service")

RESOURCES: tuple[Resource, ...] = (EVENTS, PROJECTS)

DESCRIPTION = """\
A curated, sourced record of China's Belt and Road and Digital Silk Road
science-and-technology cooperation: **events** (forums, summits, agreements, launches,
policies) and **projects** (cables, networks, data centres, joint laboratories, alliances,
co-funding mechanisms, defence-industrial cooperation).

* Reads are anonymous by default; writes need `Authorization: Bearer <key>`.
* Every record carries a `version`; `ETag`/`If-Match` prevent lost updates, and every write is
  kept as a revision that can be restored.
* Every error is an RFC 9457 problem document (`application/problem+json`).
"""


async def _prepare(app: FastAPI, settings: Settings) -> None:
    """Create indexes and the bootstrap key; retried in the background while the DB is down."""
    delay = 0.5
    while True:
        try:
            await app.state.sequence.create_indexes()
            await app.state.keys.create_indexes()
            for repository in app.state.repositories.values():
                await repository.create_indexes()
            if settings.bootstrap_admin_key:
                await app.state.keys.ensure(
                    "bootstrap-admin", Role.ADMIN, settings.bootstrap_admin_key
                )
            log.info("database prepared")
            return
        except PyMongoError as exc:
            log.warning("database not ready (%s); retrying in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def _document_filters(app: FastAPI) -> None:
    """Comma-separated filter parameters appear in the contract as arrays of their enum."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_comma_lists(generate(), filter_components())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = connect(settings)
        db = client[settings.database]
        signer = Signer(settings.cursor_secret)
        sequence = Sequence(db["sequence"], settings.change_stale_after_s)
        app.state.settings = settings
        app.state.db = db
        app.state.signer = signer
        app.state.sequence = sequence
        app.state.keys = KeyStore(db)
        app.state.repositories = {
            r.name: Repository(db, r, sequence, signer, settings.change_stale_after_s)
            for r in RESOURCES
        }
        prepare = asyncio.create_task(_prepare(app, settings))
        try:
            # Wait briefly so a healthy start is ready at once; a down DB does not block start.
            await asyncio.wait_for(asyncio.shield(prepare), timeout=settings.db_timeout_ms / 250)
        except TimeoutError:
            log.warning("starting before the database is ready")
        try:
            yield
        finally:
            prepare.cancel()
            await client.close()

    app = FastAPIOffline(
        dependencies=[Depends(reject_unknown_query)],
        title="Silk Road Tracker API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        servers=[{"url": "/", "description": "This server"}],
    )
    problems.install(app)
    _document_filters(app)

    async def on_database_down(request: Request, exc: Exception) -> Response:
        log.warning("database unavailable: %s", type(exc).__name__)
        return Unavailable("The database is unreachable; retry shortly.").response(request.url.path)

    app.add_exception_handler(ConnectionFailure, on_database_down)

    app.include_router(health.router)
    app.include_router(vocab_routes.router)
    for resource in RESOURCES:
        app.include_router(build_router(resource))
    app.include_router(timeline.router)
    return app
