"""Bulk upsert: up to 1,000 records by id in one request, one result per item.

Each item goes through the same protocol as a PUT (revision insert as the version claim,
then the record), so each is atomic on its own and a bad item never stops the others. To
save round trips, the batch reads every current record with one query and claims one
sequence block for all the items that change; the block stays pending (and is kept fresh
with a heartbeat, so it is never taken for abandoned) until every item has landed, which
keeps the changes feed's horizon below all of them. An item that meets a concurrent writer
falls back to the ordinary single-record path, which claims its own number.
"""

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from service.auth.principal import Principal
from service.db import Document
from service.problems import Invalid, Problem, invalid_body
from service.records.model import ID_PATTERN, RecordFields
from service.records.sequence import Block

if TYPE_CHECKING:
    from service.records.repository import Repository

MAX_ITEMS = 1000
#: Items written at once; FerretDB's SQLite backend serialises writes, so more buys nothing.
_CONCURRENCY = 16
_ID = re.compile(ID_PATTERN)


class BulkWrite:
    def __init__(self, repository: "Repository", principal: Principal) -> None:
        self.repo = repository
        self.principal = principal

    async def run(self, items: list[Any]) -> list[Document]:
        results: list[Document | None] = [None] * len(items)
        planned: dict[int, tuple[str, RecordFields, int | None]] = {}
        seen: set[str] = set()
        for i, item in enumerate(items):
            try:
                record_id, fields, if_match = self._parse(i, item)
                if record_id in seen:
                    raise _item_invalid(i, "id", "this id appears earlier in the batch")
                seen.add(record_id)
                planned[i] = (record_id, fields, if_match)
            except Problem as problem:
                results[i] = _error(item, problem)

        ids = [record_id for record_id, _, _ in planned.values()]
        current = {d["_id"]: d async for d in self.repo.col.find({"_id": {"$in": ids}})}
        writes: list[tuple[int, Document]] = []
        for i, (record_id, fields, if_match) in planned.items():
            found = current.get(record_id)
            try:
                self.repo._check(found, self.principal, if_match, create_only=False)
                doc = self.repo._next_doc(record_id, found, fields, self.principal)
            except Problem as problem:
                results[i] = _error(items[i], problem)
                continue
            if doc is None:
                results[i] = _result(record_id, "unchanged", found["version"])  # type: ignore[index]
            else:
                writes.append((i, doc))

        if writes:
            async with self._held(len(writes)) as block:
                gate = asyncio.Semaphore(_CONCURRENCY)

                async def one(n: int, i: int, doc: Document) -> None:
                    async with gate:
                        results[i] = await self._write(
                            planned[i], current.get(doc["_id"]), doc, block.lo + n, items[i]
                        )

                await asyncio.gather(*(one(n, i, doc) for n, (i, doc) in enumerate(writes)))
        return [r for r in results if r is not None]

    async def _write(
        self,
        plan: tuple[str, RecordFields, int | None],
        current: Document | None,
        doc: Document,
        seq: int,
        item: Any,
    ) -> Document:
        from service.records.repository import _Collision

        record_id, fields, if_match = plan
        alive = current is not None and not current["_deleted"]
        try:
            try:
                op = "update" if alive else "create"
                await self.repo._commit(current, doc, self.principal, op, None, seq=seq)
                return _result(record_id, "updated" if alive else "created", doc["version"])
            except _Collision:
                # Someone else wrote it meanwhile: do this item as a single PUT would.
                written = await self.repo.put(record_id, fields, self.principal, if_match=if_match)
                return _result(record_id, written.status, written.version)
        except Problem as problem:
            return _error(item, problem)

    @contextlib.asynccontextmanager
    async def _held(self, size: int) -> AsyncIterator[Block]:
        """A sequence block kept pending (and fresh) until every write in it has landed."""
        sequence = self.repo.sequence
        block = await sequence.claim(size)
        stop = asyncio.Event()

        async def heartbeat() -> None:
            period = max(self.repo._stale_after / 3, 0.1)
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=period)
                if stop.is_set():
                    return
                await sequence.touch(block)

        beat = asyncio.create_task(heartbeat())
        try:
            yield block
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await beat  # let a touch in flight finish before the release overwrites it
            await sequence.release(block)

    def _parse(self, i: int, item: Any) -> tuple[str, RecordFields, int | None]:
        if not isinstance(item, dict):
            raise _item_invalid(i, "", "each item must be a record object with its id")
        record_id = item.get("id")
        if not isinstance(record_id, str) or not _ID.match(record_id):
            raise _item_invalid(i, "id", f"an id matching {ID_PATTERN} is required")
        if_match = item.get("if_match")
        if if_match is not None and (
            not isinstance(if_match, int) or isinstance(if_match, bool) or if_match < 1
        ):
            raise _item_invalid(i, "if_match", "a version number (integer >= 1) or null")
        data = {k: v for k, v in item.items() if k not in ("id", "if_match")}
        try:
            fields = self.repo.resource.fields_model.model_validate(data)
        except ValidationError as exc:
            raise invalid_body(exc, prefix=("records", i)) from None
        return record_id, fields, if_match


def _item_invalid(i: int, field: str, detail: str) -> Invalid:
    where = f"/records/{i}" + (f"/{field}" if field else "")
    return Invalid("The item is not a valid record.", errors=[{"pointer": where, "detail": detail}])


def _result(record_id: str, status: str, version: int) -> Document:
    return {"id": record_id, "status": status, "version": version}


def _error(item: Any, problem: Problem) -> Document:
    record_id = item.get("id") if isinstance(item, dict) else None
    return {
        "id": record_id if isinstance(record_id, str) else None,
        "status": "error",
        "version": None,
        "error": problem.body(),
    }


def summary(results: list[Document]) -> Document:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "error": 0}
    for result in results:
        counts[result["status"]] += 1
    return {"total": len(results), **counts}
