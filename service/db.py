"""Client lifecycle, indexes and readiness. The only module that knows connection details."""

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from service.settings import Settings

Document = dict[str, Any]


def connect(settings: Settings) -> AsyncMongoClient[Document]:
    """One client per process, with timeouts short enough that outages fail fast."""
    t = settings.db_timeout_ms
    return AsyncMongoClient(
        settings.mongodb_uri,
        serverSelectionTimeoutMS=t,
        connectTimeoutMS=t,
        socketTimeoutMS=max(t * 2, 3000),
        maxPoolSize=settings.db_pool_size,
        retryWrites=True,
        tz_aware=True,
        connect=False,
    )


async def ping(db: AsyncDatabase[Document]) -> bool:
    try:
        await db.command("ping")
    except Exception:
        return False
    return True
