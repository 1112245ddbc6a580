"""The database time a write request may use, all its operations together.

Reads keep the per-operation limit (`DB_QUERY_TIMEOUT_MS`), so a hung database answers them
503 fast. Writes contend on shared documents (the sequence counter, idempotency keys, the
record itself), so under a burst one of their operations may wait longer than a read ever
should; they get one budget for the whole request instead, `DB_WRITE_TIMEOUT_MS`, and a bulk
request `DB_BULK_TIMEOUT_MS`.
"""

import pymongo

from service.middleware.asgi import ASGIApp, Receive, Scope, Send

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteBudget:
    def __init__(self, app: ASGIApp, *, write_s: float, bulk_s: float) -> None:
        self.app = app
        self.write_s = write_s
        self.bulk_s = bulk_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READS:
            return await self.app(scope, receive, send)
        budget = self.bulk_s if scope["path"].endswith("/bulk") else self.write_s
        with pymongo.timeout(budget):
            await self.app(scope, receive, send)
