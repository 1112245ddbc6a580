"""Fixtures: a real database process, apps built with test settings, and HTTP clients.

Every test talks to a throwaway embedded database (FerretDB 2 on PostgreSQL with DocumentDB;
or to `MONGODB_URI` when set) over a real connection, through
the app in-process (httpx + ASGITransport + asgi-lifespan). Nothing is mocked.
"""

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from service.main import create_app
from service.settings import Settings
from tests.dbserver import throwaway_database

ADMIN_SECRET = "test-admin-secret"
ADMIN = {"Authorization": f"Bearer {ADMIN_SECRET}"}

AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture(scope="session")
def database_uri() -> Iterator[str]:
    if uri := os.environ.get("MONGODB_URI"):
        yield uri
        return
    server = throwaway_database()
    server.start()
    try:
        yield server.uri
    finally:
        server.cleanup()


def settings_for(uri: str, database: str | None = None, **overrides: Any) -> Settings:
    """In-process apps give each query 5 s rather than the default 1 s: these specification
    tests check answers, not the time limit, and CI machines are shared. The time limit has
    its own tests (`test_overload.py`, the fault tests), with the default."""
    return Settings(
        **{
            "mongodb_uri": uri,
            "database": database or f"test_{uuid.uuid4().hex[:10]}",
            "bootstrap_admin_key": ADMIN_SECRET,
            "cursor_secret": "test-cursor-secret",
            "db_query_timeout_ms": 5000,
            **overrides,
        }
    )


@pytest.fixture(scope="session")
def app_client(database_uri: str) -> AppClient:
    """Builds an app on its own fresh database (or a named one) and yields a client for it."""

    @asynccontextmanager
    async def build(
        database: str | None = None, **overrides: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings_for(database_uri, database, **overrides))
        async with LifespanManager(app, startup_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield client

    return build


@pytest.fixture(scope="session")
async def client(app_client: AppClient) -> AsyncIterator[httpx.AsyncClient]:
    """One app shared by the tests that need no database of their own."""
    async with app_client() as c:
        yield c


@pytest.fixture
async def fresh_client(app_client: AppClient) -> AsyncIterator[httpx.AsyncClient]:
    """An app on an empty database, for tests that count what is stored."""
    async with app_client() as c:
        yield c


async def seed(client: httpx.AsyncClient) -> None:
    """Writes the known data set of tests/dataset.py, including two deleted records."""
    from tests.dataset import DELETED, EVENTS, PROJECTS
    from tests.factories import event, project

    for collection, records in (("projects", PROJECTS), ("events", EVENTS)):
        for rid, body in records.items():
            r = await client.put(f"/v1/{collection}/{rid}", json=body, headers=ADMIN)
            assert r.status_code == 201, r.text
    for collection, rid in DELETED.items():
        body = project(title="Deleted cable") if collection == "projects" else event()
        await client.put(f"/v1/{collection}/{rid}", json=body, headers=ADMIN)
        assert (await client.delete(f"/v1/{collection}/{rid}", headers=ADMIN)).status_code == 204


@pytest.fixture(scope="module")
async def seeded(app_client: AppClient) -> AsyncIterator[httpx.AsyncClient]:
    """An app on a database holding exactly the data set of tests/dataset.py."""
    async with app_client() as c:
        await seed(c)
        yield c


def fixture_puts() -> list[tuple[str, dict[str, Any]]]:
    """The seed fixtures as the PUTs that store them (path, body): version 1 of each."""
    from service.fixtures import fixture_files, read

    out = []
    for collection, path in fixture_files():
        body = read(path)
        out.append((f"/v1/{collection}/{body.pop('id')}", body))
    return out
