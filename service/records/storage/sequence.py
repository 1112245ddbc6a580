"""The change sequence: a global, gap-free order of writes, and the horizon a reader may trust.

Every write takes a sequence number before it lands and stamps it on the record, so the
changes feed can serve records ordered by it. Numbers are handed out in blocks (one per write,
or one per bulk request) stored as documents `{_id: hi, lo, at, done}` in the `sequence`
collection. A block is claimed by inserting it: the primary key on `_id` and a unique index
on `lo` make two claims of overlapping numbers impossible, on MongoDB and on FerretDB alike
(FerretDB applies conditional updates and `$inc` non-atomically; inserts are atomic).

A block stays *pending* until its write has landed. The *horizon* is the highest number below
which nothing is pending: a reader serving up to it can never skip a write that lands later.
A pending block older than `stale_after` seconds is treated as abandoned (its writer died).
"""

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from service.db import Document

#: Blocks older than this are pruned (the newest is always kept). A claim reads the top and
#: inserts right after it, within the driver's timeouts; a pruned block is far older than
#: that, so no claimer can still be about to insert below it.
_PRUNE_AFTER_S = 30.0
#: How often one process prunes: the collection stays small, so every lookup stays cheap.
_PRUNE_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class Block:
    lo: int
    hi: int

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(range(self.lo, self.hi + 1))


class Sequence:
    def __init__(self, collection: AsyncCollection[Document], stale_after: float = 5.0) -> None:
        self._col = collection
        self._stale_after = stale_after
        # Claims from one process never race each other; only other processes can collide.
        self._lock = asyncio.Lock()
        self._pruned_at = time.monotonic()

    async def create_indexes(self) -> None:
        await self._col.create_index([("lo", ASCENDING)], unique=True)
        await self._col.create_index([("done", ASCENDING), ("lo", ASCENDING)])

    async def _max(self) -> int:
        last = await self._col.find_one({}, sort=[("_id", -1)], projection={"_id": 1})
        return int(last["_id"]) if last else 0

    async def claim(self, size: int = 1) -> Block:
        """Claim the next `size` numbers; release the block when the write has landed."""
        async with self._lock:
            for attempt in range(1000):
                lo = await self._max() + 1
                block = Block(lo, lo + size - 1)
                try:
                    await self._col.insert_one(
                        {"_id": block.hi, "lo": block.lo, "at": time.time(), "done": False}
                    )
                    return block
                except DuplicateKeyError:
                    await asyncio.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
        raise RuntimeError("could not claim a sequence block")

    async def release(self, block: Block) -> None:
        await self._col.update_one({"_id": block.hi}, {"$set": {"done": True}})
        if time.monotonic() - self._pruned_at > _PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            await self.prune()

    @contextlib.asynccontextmanager
    async def hold(self, size: int = 1) -> AsyncIterator[Block]:
        """Claim a block, keep it pending while the body runs, then release it.

        While held, the block's timestamp is refreshed every `stale_after / 3` seconds, so a
        slow write (a large bulk, a loaded database) is never taken for an abandoned one: only
        a writer that died stops refreshing. A quick write never refreshes at all.
        """
        block = await self.claim(size)
        stop = asyncio.Event()

        async def heartbeat() -> None:
            period = max(self._stale_after / 3, 0.05)
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=period)
                if stop.is_set():
                    return
                await self.touch(block)

        beat = asyncio.create_task(heartbeat())
        try:
            yield block
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await beat  # a touch in flight must finish before the release writes `done`
            await self.release(block)

    async def touch(self, block: Block) -> None:
        """Keep a long-running block (a bulk write) from being taken for abandoned."""
        await self._col.update_one({"_id": block.hi}, {"$set": {"at": time.time()}})

    async def horizon(self) -> int:
        """Numbers up to the horizon are final: no write can still land below it."""
        top = await self._max()  # read first: later claims are all above it
        fresh = time.time() - self._stale_after
        pending = self._col.find(
            {"done": False, "at": {"$gt": fresh}, "lo": {"$lte": top}},
            sort=[("lo", ASCENDING)],
            limit=1,
        )
        async for block in pending:
            return int(block["lo"]) - 1
        return top

    async def prune(self) -> None:
        top = await self._max()
        old = time.time() - _PRUNE_AFTER_S
        await self._col.delete_many({"_id": {"$lt": top}, "at": {"$lt": old}})
