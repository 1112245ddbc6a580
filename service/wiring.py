"""The parts of a running service, built once from the settings and shared by everything that
serves or loads records: `create_app`'s lifespan, the command line and the benchmarks.

Routers reach them through the `Wired` dependency, never through `app.state` directly, so
every part has its type where it is used.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette

from service.auth.keys import KeyStore
from service.auth.principal import Role
from service.changes.feed import Feed
from service.db import Document, connect
from service.events.resource import EVENTS
from service.idempotency import IdempotencyStore
from service.middleware.observability import Metrics
from service.projects.resource import PROJECTS
from service.records.resource import Resource
from service.records.storage.repository import Repository
from service.records.storage.sequence import Sequence
from service.settings import Settings
from service.tokens import Signer

#: The collections this service serves, in the order the contract lists them.
RESOURCES: tuple[Resource, ...] = (EVENTS, PROJECTS)


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    client: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    sequence: Sequence
    keys: KeyStore
    repositories: Mapping[str, Repository]
    feed: Feed
    idempotency: IdempotencyStore
    metrics: Metrics

    @classmethod
    def build(cls, settings: Settings, metrics: Metrics | None = None) -> "Services":
        """Every part, on one client. Nothing touches the database yet (see `prepare`)."""
        client = connect(settings)
        db = client[settings.database]
        signer = Signer(settings.cursor_secret)
        sequence = Sequence(db["sequence"], settings.change_stale_after_s)
        repositories = {r.name: Repository(db, r, sequence, signer) for r in RESOURCES}
        return cls(
            settings=settings,
            client=client,
            db=db,
            sequence=sequence,
            keys=KeyStore(db, settings.key_cache_s),
            repositories=repositories,
            feed=Feed(repositories, sequence, signer),
            idempotency=IdempotencyStore(
                db["idempotency"], settings.idempotency_ttl_s, settings.idempotency_abandon_after_s
            ),
            metrics=metrics or Metrics(),
        )

    async def prepare(self) -> None:
        """Create every index, derive again the records stored under an older recipe, and
        the bootstrap admin key when the settings name one."""
        await self.sequence.prepare()
        await self.keys.create_indexes()
        await self.idempotency.create_indexes()
        for repository in self.repositories.values():
            await repository.create_indexes()
            await repository.rederive()
        if self.settings.bootstrap_admin_key:
            await self.keys.ensure("bootstrap-admin", Role.ADMIN, self.settings.bootstrap_admin_key)

    async def close(self) -> None:
        await self.client.close()

    def install(self, app: Starlette) -> None:
        app.state.services = self


def services_of(app: Starlette) -> Services:
    """The services `install` put on a started app."""
    found = getattr(app.state, "services", None)
    if not isinstance(found, Services):
        raise RuntimeError("The app has not started: its services are not built yet.")
    return found


async def services(request: Request) -> Services:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, and that hop
    # cost more CPU than the rest of a GET by id (seen with py-spy; bench/).
    return services_of(request.app)


Wired = Annotated[Services, Depends(services)]
