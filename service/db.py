"""Client lifecycle and readiness. The only module that knows connection details (each store
creates its own indexes)."""

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure, PyMongoError

from service.settings import Settings

Document = dict[str, Any]


def connect(settings: Settings) -> AsyncMongoClient[Document]:
    """One client per process, with timeouts short enough that outages fail fast.

    `timeoutMS` bounds each operation as a whole: server selection, connection checkout, the
    reply and the driver's one retry all come out of the same budget, and the server is sent
    maxTimeMS of what is left, so a query whose caller has given up stops in the database
    too. A database that accepts connections but never replies (a hung process) therefore
    answers 503 after `db_query_timeout_ms` like any other fault, instead of after a socket
    timeout plus a retry.
    """
    t = settings.db_timeout_ms
    return AsyncMongoClient(
        settings.mongodb_uri,
        timeoutMS=settings.db_query_timeout_ms,
        serverSelectionTimeoutMS=t,
        connectTimeoutMS=t,
        maxPoolSize=settings.db_pool_size,
        # The driver opens 2 connections at a time by default: a burst of requests on a cold
        # pool would spend its time limit queueing for a connection instead of in the query.
        maxConnecting=10,
        retryWrites=True,
        tz_aware=True,
        connect=False,
    )


# Server error codes that say "the database cannot serve this now" rather than "this request is
# wrong": shutdowns, elections, network trouble between servers, time limits. InternalError (1)
# is how FerretDB reports that PostgreSQL behind it is down or restarting.
UNAVAILABLE_CODES = frozenset(
    {1, 6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}
)


_DUPLICATE_KEY = 11000  # a lost race, answered item by item; never an outage


def is_unavailable(exc: PyMongoError) -> bool:
    """Whether a driver error is an outage (503, retry later) rather than a fault of ours."""
    if isinstance(exc, ConnectionFailure) or getattr(exc, "timeout", False):
        return True
    if isinstance(exc, BulkWriteError):
        # A write the database could not store (a full disk: PostgreSQL's "could not extend
        # file" is FerretDB's InternalError) fails item by item, inside the bulk error.
        codes = {e.get("code") for e in exc.details.get("writeErrors", [])} - {_DUPLICATE_KEY}
        return bool(codes) and codes <= UNAVAILABLE_CODES
    return isinstance(exc, OperationFailure) and exc.code in UNAVAILABLE_CODES


async def ping(db: AsyncDatabase[Document]) -> bool:
    try:
        await db.command("ping")
    except Exception:
        return False
    return True
