"""Reading the changes feed: every record whose last write is after a position, in order.

Each write stamps the record with the sequence number it claimed (`_seq`; both collections
share one sequence), so "what changed after position p" is the records with `_seq > p`. A
page is served only up to the sequence's *horizon*: below it no write is still in flight, so a
number a consumer has passed can never be filled in later. A record written again moves up
the order (its `_seq` grows), so a consumer sees the latest state of every record, and may
see a record more than once; it never misses a write.
"""

import heapq
from collections.abc import Sequence as Seq
from dataclasses import dataclass

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from service.db import Document
from service.problems import Invalid
from service.records.repository import public
from service.records.sequence import Sequence
from service.records.tokens import Signer


@dataclass(frozen=True, slots=True)
class Page:
    changes: list[Document]
    position: int
    more: bool


class Feed:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        sequence: Sequence,
        signer: Signer,
        collections: Seq[str],
    ) -> None:
        self._db = db
        self._sequence = sequence
        self._signer = signer
        self.collections = tuple(collections)

    def position(self, token: str | None) -> int:
        if token is None:
            return 0
        payload = self._signer.load(token, "since")
        if not isinstance(payload, dict) or not isinstance(payload.get("c"), int):
            raise Invalid(
                "since must be the `next` of a changes page (not a list cursor).",
                errors=[{"parameter": "since", "in": "query", "detail": "not a changes token"}],
            )
        return int(payload["c"])

    def token(self, position: int) -> str:
        return self._signer.dump({"c": position})

    async def page(self, since: int, limit: int, collections: Seq[str]) -> Page:
        horizon = await self._sequence.horizon()  # first: everything below it has landed
        if horizon <= since:
            return Page([], since, False)
        runs = []
        for name in collections:
            found = self._db[name].find(
                {"_seq": {"$gt": since, "$lte": horizon}},
                projection={"_terms": 0},
                sort=[("_seq", ASCENDING)],
                limit=limit + 1,
            )
            runs.append([(doc["_seq"], name, doc) async for doc in found])
        merged = list(heapq.merge(*runs, key=lambda run: (run[0], run[1])))
        more = len(merged) > limit
        served = merged[:limit]
        position = served[-1][0] if more else horizon
        return Page([self._change(name, doc) for _, name, doc in served], position, more)

    @staticmethod
    def _change(collection: str, doc: Document) -> Document:
        change: Document = {
            "collection": collection,
            "id": doc["_id"],
            "op": "delete" if doc["_deleted"] else "upsert",
            "version": doc["version"],
        }
        if not doc["_deleted"]:
            change["record"] = public(doc)
        return change
