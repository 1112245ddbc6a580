"""Reading the changes feed: every record whose last write is after a position, in order.

Each write stamps the record with the sequence number it claimed (`_seq`; both collections
share one sequence), so "what changed after position p" is the records with `_seq > p`. A
page is served only up to the sequence's *horizon*: below it no write is still in flight, so a
number a consumer has passed can never be filled in later. A record written again moves up
the order (its `_seq` grows), so a consumer sees the latest state of every record, and may
see a record more than once; it never misses a write.
"""

import heapq
from collections.abc import Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass

from service.db import Document
from service.problems import Invalid
from service.records.storage.repository import Repository
from service.records.storage.sequence import Sequence
from service.tokens import Signer


@dataclass(frozen=True, slots=True)
class Page:
    changes: list[Document]
    position: int
    more: bool


class Feed:
    def __init__(
        self,
        repositories: Mapping[str, Repository],
        sequence: Sequence,
        signer: Signer,
    ) -> None:
        self._repositories = repositories
        self._sequence = sequence
        self._signer = signer
        self.collections = tuple(repositories)

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

    async def horizon(self) -> int:
        """The highest sequence number below which no write can still land.

        The counter is read first: every claim at or below its value is either pending there
        or settled. A single write's claim is settled once its record holds that version or
        a later one (the write landed, or lost its race and never will); those are checked
        here, one query per collection, and dropped. The horizon stops below the oldest claim
        left, or is the counter itself when none is left."""
        top, claims = await self._sequence.pending()
        if not claims:
            return top
        wanted: dict[str, list[str]] = {}
        for claim in claims:
            if claim.write is not None:
                wanted.setdefault(claim.write[0], []).append(claim.write[1])
        stored = {
            (name, record_id): version
            for name, ids in wanted.items()
            if name in self._repositories
            for record_id, version in (await self._repositories[name].versions(ids)).items()
        }
        settled = [
            c.token
            for c in claims
            if c.write is not None and stored.get(c.write[:2], 0) >= c.write[2]
        ]
        if settled:
            await self._sequence.forget(settled)
        left = [c.lo for c in claims if c.token not in settled]
        return min(left) - 1 if left else top

    async def page(self, since: int, limit: int, collections: Seq[str]) -> Page:
        horizon = await self.horizon()  # first: everything below it has landed
        if horizon <= since:
            return Page([], since, False)
        runs = [
            [
                (seq, name, change)
                for seq, change in await self._repositories[name].changes(since, horizon, limit + 1)
            ]
            for name in collections
        ]
        merged = list(heapq.merge(*runs, key=lambda run: (run[0], run[1])))
        more = len(merged) > limit
        served = merged[:limit]
        position = served[-1][0] if more else horizon
        return Page([change for _, _, change in served], position, more)
