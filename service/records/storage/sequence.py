"""The change sequence: one increasing order of writes, and the claims still in flight.

Every write takes a sequence number before it lands and stamps it on the record (`_seq`), so
the changes feed can serve records in that order. Numbers come from one counter document,
`{_id: "changes", n, pending}` in the `sequence` collection, claimed with one atomic
`find_one_and_update` (an update pipeline: `n` grows by the block's size and the claim is
appended to `pending` in the same step, so no reader can see the number without its claim).
Numbers are unique and increasing but not gap-free: a writer that loses a race to a
concurrent writer never uses its number.

A claim is *pending* until its write has landed or can no longer land. The feed serves only
up to the horizon below every pending claim (`changes/feed.py` computes it), so a write that
lands late is never skipped. A claim leaves `pending` in one of three ways, none of which
costs a single write a round trip of its own:

* a single write's claim names the record and the version it writes (`w`); once that record
  is at that version or later, the claim is settled (the write landed, or lost its race and
  never will). Readers check this and drop settled claims;
* the next claim of the same process drops the claims it knows have landed (`landed`);
* a claim older than `stale_after` seconds belongs to a writer that died, and is dropped.

A bulk write holds a claim for its whole block (`hold`), refreshed while it runs so a slow
batch is never taken for abandoned, and releases it when every item has landed.
"""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from service.db import Document

_COUNTER = "changes"


@dataclass(frozen=True, slots=True)
class Block:
    """Numbers `lo`..`hi`, claimed under `token`."""

    lo: int
    hi: int
    token: str


@dataclass(frozen=True, slots=True)
class Claim:
    """A pending claim as readers see it; `write` is (collection, record id, version)."""

    lo: int
    token: str
    write: tuple[str, str, int] | None


class Sequence:
    def __init__(self, collection: AsyncCollection[Document], stale_after: float = 5.0) -> None:
        self._col = collection
        self._stale_after = stale_after
        self._landed: list[str] = []

    async def prepare(self) -> None:
        """Create the counter, starting above every number handed out before it existed
        (blocks stored as `{_id: hi}` by earlier versions of the service)."""
        if await self._col.find_one({"_id": _COUNTER}, projection={"_id": 1}) is not None:
            return
        last = await self._col.find_one(
            {"_id": {"$type": "number"}}, sort=[("_id", -1)], projection={"_id": 1}
        )
        start = int(last["_id"]) if last else 0
        await self._col.update_one(
            {"_id": _COUNTER},
            {"$setOnInsert": {"n": start, "pending": []}},
            upsert=True,
        )

    async def claim(self, size: int = 1, write: tuple[str, str, int] | None = None) -> Block:
        """Claim the next `size` numbers. `write` names what a single write is about to store,
        so readers can tell by themselves when its claim is settled."""
        token = uuid.uuid4().hex
        now = time.time()
        landed, self._landed = self._landed, []
        top = {"$ifNull": ["$n", 0]}
        entry: Document = {
            "t": token,
            "at": now,
            "lo": {"$add": [top, 1]},
            "w": {"$literal": list(write) if write else None},
        }
        kept = {
            "$filter": {
                "input": {"$ifNull": ["$pending", []]},
                "as": "p",
                "cond": {
                    "$and": [
                        {"$gt": ["$$p.at", now - self._stale_after]},
                        {"$not": [{"$in": ["$$p.t", {"$literal": landed}]}]},
                    ]
                },
            }
        }
        doc = await self._col.find_one_and_update(
            {"_id": _COUNTER},
            [{"$set": {"n": {"$add": [top, size]}, "pending": {"$concatArrays": [kept, [entry]]}}}],
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # an upsert returning the document after it
        hi = int(doc["n"])
        return Block(hi - size + 1, hi, token)

    def landed(self, block: Block) -> None:
        """The write of `block` has landed: the next claim drops its claim (no round trip)."""
        self._landed.append(block.token)

    async def release(self, block: Block) -> None:
        await self.forget([block.token])

    async def forget(self, tokens: list[str]) -> None:
        """Drop settled claims."""
        await self._col.update_one(
            {"_id": _COUNTER}, {"$pull": {"pending": {"t": {"$in": tokens}}}}
        )

    @contextlib.asynccontextmanager
    async def hold(self, size: int = 1) -> AsyncIterator[Block]:
        """Claim a block, keep it pending while the body runs, then release it.

        While held, the claim's timestamp is refreshed every `stale_after / 3` seconds, so a
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
                await self._col.update_one(
                    {"_id": _COUNTER, "pending.t": block.token},
                    {"$set": {"pending.$.at": time.time()}},
                )

        beat = asyncio.create_task(heartbeat())
        try:
            yield block
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await beat  # a refresh in flight must finish before the release
            await self.release(block)

    async def pending(self) -> tuple[int, list[Claim]]:
        """The last number handed out, and the claims still fresh, oldest number first.

        Every claim at or below that number is either in the list or settled: a claim and
        its number appear in one atomic step."""
        doc = await self._col.find_one({"_id": _COUNTER})
        if doc is None:
            return 0, []
        fresh = time.time() - self._stale_after
        claims = [
            Claim(int(p["lo"]), p["t"], _write(p.get("w")))
            for p in doc.get("pending", [])
            if p["at"] > fresh
        ]
        return int(doc["n"]), sorted(claims, key=lambda c: c.lo)


def _write(stored: Any) -> tuple[str, str, int] | None:
    if not stored:
        return None
    collection, record_id, version = stored
    return str(collection), str(record_id), int(version)
