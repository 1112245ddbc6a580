"""The repository of a route's collection, as a dependency."""

from collections.abc import Awaitable, Callable

from service.records.resource import Resource
from service.records.storage.repository import Repository
from service.wiring import Wired


def repository_for(resource: Resource) -> Callable[[Wired], Awaitable[Repository]]:
    async def repository(services: Wired) -> Repository:
        return services.repositories[resource.name]

    return repository
