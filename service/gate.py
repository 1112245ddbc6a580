"""Admission control for heavy reads: at most a fixed number per process at once.

Lists, searches, facets, statistics and timelines read many rows each on FerretDB. When more
of them arrive than the database can answer, letting them all in only makes every one of them
slow (each waits behind the others, and the ones whose clients gave up keep running). The
gate keeps the database's queue short instead: a heavy read waits at most a short budget for
one of the places, and past it the request is shed at once with a 503 and `Retry-After`, so
the reads that are let in stay fast and the service answers every request promptly.
"""

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.middleware.observability import Metrics
from service.problems import Unavailable


class Gate:
    def __init__(self, limit: int, wait_s: float, metrics: Metrics) -> None:
        self.limit = limit
        self.wait_s = wait_s
        self._places = asyncio.Semaphore(limit)
        self._in_flight = metrics.heavy_in_flight
        self._waiting = metrics.heavy_waiting
        self._shed = metrics.heavy_shed
        metrics.heavy_limit.set(limit)

    @classmethod
    def unlimited(cls) -> "Gate":
        """Admits everything: for tools that load or read in batches outside a service."""
        return cls(sys.maxsize, 0.0, Metrics())

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Hold one place while the block runs; `Unavailable` (503) when none frees in time."""
        await self._acquire()
        self._in_flight.inc()
        try:
            yield
        finally:
            self._in_flight.dec()
            self._places.release()

    async def _acquire(self) -> None:
        if not self._places.locked():  # the usual case: a place is free, no timer needed
            await self._places.acquire()
            return
        self._waiting.inc()
        try:
            async with asyncio.timeout(self.wait_s):
                await self._places.acquire()
        except TimeoutError:
            self._shed.inc()
            raise Unavailable(
                "The service is at capacity for lists, searches and statistics; retry shortly.",
                retry_after=1,
            ) from None
        finally:
            self._waiting.dec()
