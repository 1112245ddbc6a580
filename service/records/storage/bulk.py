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
import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from service.auth.principal import Principal
from service.db import Document
from service.problems import Invalid, Problem, invalid_body
from service.records.model import ID_PATTERN, RESERVED_IDS, RecordFields

if TYPE_CHECKING:
    from service.records.storage.repository import Repository

MAX_ITEMS = 1000
#: Items written at once; FerretDB's SQLite backend serialises writes, so more buys nothing.
_CONCURRENCY = 16
#: Documents per insert command: short commands stay well inside the socket timeout.
_INSERT_CHUNK = 200
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
            async with self.repo.sequence.hold(len(writes)) as block:
                for n, (_, doc) in enumerate(writes):
                    doc["_seq"] = block.lo + n
                landed = await self._commit_all(writes, current)
            retry = []
            for i, doc in writes:
                record_id = doc["_id"]
                if i in landed:
                    status = "updated" if _alive(current.get(record_id)) else "created"
                    results[i] = _result(record_id, status, doc["version"])
                else:
                    retry.append(i)
            gate = asyncio.Semaphore(_CONCURRENCY)

            async def one(i: int) -> None:
                async with gate:
                    results[i] = await self._single(planned[i], items[i])

            await asyncio.gather(*(one(i) for i in retry))
        return [r for r in results if r is not None]

    async def _commit_all(
        self, writes: list[tuple[int, Document]], current: dict[str, Document]
    ) -> set[int]:
        """Steps 3-4 of the write protocol for many items at once; the items that landed.

        Revisions go in with one unordered insert (each insert is still its own atomic claim
        of a version), new records with another, replacements one by one on their version.
        An item whose claim or replacement fails had a concurrent writer: it is retried alone.
        """
        repo = self.repo
        revisions = [
            repo._revision_doc(doc, self.principal, _op(current.get(doc["_id"])), None)
            for _, doc in writes
        ]
        claimed = _inserted(await _insert_many(repo.revisions, revisions), len(writes))
        fresh = [n for n in claimed if writes[n][1]["_id"] not in current]
        replaced = [n for n in claimed if writes[n][1]["_id"] in current]
        inserted = _inserted(
            await _insert_many(repo.col, [writes[n][1] for n in fresh]), len(fresh)
        )
        landed = {fresh[k] for k in inserted}
        gate = asyncio.Semaphore(_CONCURRENCY)

        async def replace(n: int) -> None:
            doc = writes[n][1]
            async with gate:
                result = await repo.col.replace_one(
                    {"_id": doc["_id"], "version": current[doc["_id"]]["version"]}, doc
                )
            if result.matched_count:
                landed.add(n)

        await asyncio.gather(*(replace(n) for n in replaced))
        lost = [revisions[n]["_id"] for n in claimed if n not in landed]
        if lost:
            await repo.revisions.delete_many({"_id": {"$in": lost}})
        return {writes[n][0] for n in landed}

    async def _single(self, plan: tuple[str, RecordFields, int | None], item: Any) -> Document:
        """One item the ordinary way, as a PUT would write it."""
        record_id, fields, if_match = plan
        try:
            written = await self.repo.put(record_id, fields, self.principal, if_match=if_match)
        except Problem as problem:
            return _error(item, problem)
        return _result(record_id, written.status, written.version)

    def _parse(self, i: int, item: Any) -> tuple[str, RecordFields, int | None]:
        if not isinstance(item, dict):
            raise _item_invalid(i, "", "each item must be a record object with its id")
        record_id = item.get("id")
        if not isinstance(record_id, str) or not _ID.match(record_id):
            raise _item_invalid(i, "id", f"an id matching {ID_PATTERN} is required")
        if record_id in RESERVED_IDS:
            raise _item_invalid(i, "id", f"{record_id!r} is reserved for a route")
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


def _alive(doc: Document | None) -> bool:
    return doc is not None and not doc["_deleted"]


def _op(current: Document | None) -> str:
    return "update" if _alive(current) else "create"


async def _insert_many(collection: AsyncCollection[Document], docs: list[Document]) -> set[int]:
    """Indexes of `docs` that were not inserted because their key was taken."""
    failed: set[int] = set()
    for start in range(0, len(docs), _INSERT_CHUNK):
        try:
            await collection.insert_many(docs[start : start + _INSERT_CHUNK], ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != 11000 for e in errors):
                raise
            failed |= {start + int(e["index"]) for e in errors}
    return failed


def _inserted(failed: set[int], count: int) -> list[int]:
    return [n for n in range(count) if n not in failed]


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
