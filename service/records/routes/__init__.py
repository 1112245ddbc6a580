"""The route factory: the same versioned HTTP API for every collection, in four routers.

Routers are thin: they read headers, call the repository once and shape the HTTP answer.
Domain errors come from below as `Problem`s and are rendered in one place (`problems.py`).
"""

from fastapi import APIRouter

from service.records.resource import Resource
from service.records.routes.bulk import bulk_router
from service.records.routes.collection import collection_router
from service.records.routes.item import item_router
from service.records.routes.revisions import revision_router


def build_router(resource: Resource) -> APIRouter:
    """Collection routes first: `/facets` and the other fixed paths win over `/{record_id}`."""
    router = APIRouter()
    for part in (collection_router, item_router, revision_router, bulk_router):
        router.include_router(part(resource))
    return router
