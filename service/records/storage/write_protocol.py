"""The write protocol, the same for one record and for a batch of them.

A write is planned from the record as it was read (version v, or none) and landed in this
order:

1. Claim sequence numbers (`sequence.py`): one atomic `find_one_and_update`.
2. Store the record on condition that it is still at version v: a `replace_one` filtered on
   `{_id, version: v}` (an insert for a record that does not exist yet). The conditional
   update is the lock: of two writers racing from version v exactly one matches. The other
   finds no match; as an upsert that turns into an insert of a taken `_id`, a duplicate-key
   error (11000) that names the item, so one `bulk_write` of many conditional operations says
   exactly which items lost their race. A loser re-reads and retries, or answers 412 when the
   client pinned `If-Match`.
3. Insert the revision `<collection>/<id>/<v+1>`, together with the revision of version v
   itself, built from the record as it was read. That second insert almost always meets the
   revision already stored (a duplicate key, ignored); it matters only when the writer of
   version v died between its steps 2 and 3, and so repairs a missing revision in the same
   round trip. A record is without its revision for at most one write, and a revision is
   never ahead of its record, since it is written after the record.

Everything a revision holds is on the stored record (its `_op` and `_restored_from` are
hidden fields), which is what makes step 3 repeatable by anyone.
"""

import asyncio
from dataclasses import dataclass
from typing import Literal

from pymongo import InsertOne, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from service.auth.principal import Principal
from service.clock import now_iso
from service.db import Document
from service.problems import Forbidden, PreconditionFailed
from service.records.derive import derive
from service.records.model import RecordFields
from service.records.resource import Resource
from service.records.storage.sequence import Sequence

Status = Literal["created", "updated", "unchanged", "deleted"]
#: What `If-Match` pins: the versions the write applies to (one of them must be current),
#: any current record (`*`), or nothing.
Pin = frozenset[int] | Literal["*"] | None

#: Operations per write command: short commands stay well inside the socket timeout.
_CHUNK = 200
#: Chunks in flight at once (measured on DocumentDB: four take about 60% of the time of one
#: after the other).
_PARALLEL_CHUNKS = 4
_DUPLICATE_KEY = 11000


def alive(doc: Document | None) -> bool:
    return doc is not None and not doc["_deleted"]


@dataclass(frozen=True, slots=True)
class Change:
    """The document to store over `current`, the record as it was read (None: no record)."""

    current: Document | None
    doc: Document

    @property
    def status(self) -> Status:
        if self.doc["_deleted"]:
            return "deleted"
        return "updated" if alive(self.current) else "created"


def check(
    resource: Resource,
    current: Document | None,
    principal: Principal,
    if_match: Pin,
    create_only: bool,
    new_id: bool = False,
) -> None:
    """The preconditions and the ownership rule, checked on the record as it was read.

    `create_only` refuses a live record (`If-None-Match: *`); `new_id` refuses a tombstone as
    well, for ids the service chooses: a new record never inherits a deleted one's history.
    `if_match` is a set of versions, one of which must be current, or `*` for any current
    record."""
    if (create_only and alive(current)) or (new_id and current is not None):
        assert current is not None
        raise PreconditionFailed(f"The {resource.singular} {current['_id']!r} already exists.")
    if if_match == "*" and not alive(current):
        raise PreconditionFailed(
            f"If-Match: * needs a current {resource.singular}.",
            current_version=current["version"] if current else None,
        )
    if isinstance(if_match, frozenset) and (current is None or current["version"] not in if_match):
        named = ", ".join(str(v) for v in sorted(if_match))
        raise PreconditionFailed(
            f"If-Match: version {named} is not the current version.",
            current_version=current["version"] if current else None,
        )
    if current is not None and not principal.may_change(current["owner"]):
        raise Forbidden(
            f"{principal.name!r} may not change the {resource.singular} "
            f"{current['_id']!r}, which belongs to {current['owner']!r}."
        )


def next_doc(
    record_id: str,
    current: Document | None,
    fields: RecordFields,
    principal: Principal,
    op: str | None = None,
    restored_from: int | None = None,
) -> Document | None:
    """The document to store next, or None when `fields` would change nothing."""
    fields, derived = derive(fields)
    body = fields.model_dump(mode="json") | derived
    if current is not None and alive(current) and all(current.get(k) == v for k, v in body.items()):
        return None
    stamp = now_iso()
    first = current or {"created_at": stamp, "created_by": principal.name}
    return {
        "_id": record_id,
        "version": (current["version"] if current else 0) + 1,
        "created_at": first["created_at"],
        "updated_at": stamp,
        "created_by": first["created_by"],
        "updated_by": principal.name,
        "owner": current["owner"] if current else principal.name,
        **body,
        "_deleted": False,
        "_op": op or ("update" if alive(current) else "create"),
        "_restored_from": restored_from,
    }


def tombstone(current: Document, principal: Principal) -> Document:
    """What a delete stores: who owned the record and who deleted it, and no content."""
    kept = {k: current[k] for k in ("_id", "created_at", "created_by", "owner")}
    return kept | {
        "version": current["version"] + 1,
        "updated_at": now_iso(),
        "updated_by": principal.name,
        "deleted": True,
        "_deleted": True,
        "_op": "delete",
        "_restored_from": None,
    }


class Writes:
    """Lands planned changes on one collection and records their revisions."""

    def __init__(
        self,
        collection: AsyncCollection[Document],
        revisions: AsyncCollection[Document],
        sequence: Sequence,
    ) -> None:
        self._col = collection
        self._revisions = revisions
        self._sequence = sequence
        self.name = collection.name

    def revision_id(self, record_id: str, version: int) -> str:
        return f"{self.name}/{record_id}/{version}"

    def revision_of(self, doc: Document) -> Document:
        """The revision of a stored record at its version."""
        deleted = doc["_deleted"]
        return {
            "_id": self.revision_id(doc["_id"], doc["version"]),
            "collection": self.name,
            "record_id": doc["_id"],
            "version": doc["version"],
            "op": doc.get("_op", "delete" if deleted else "update"),
            "at": doc["updated_at"],
            "by": doc["updated_by"],
            "restored_from": doc.get("_restored_from"),
            "record": None if deleted else doc,
            "tombstone": doc if deleted else None,
        }

    async def commit(self, changes: list[Change]) -> list[bool]:
        """Land each change where its record is still as it was read; which ones landed.

        A single change's claim names its record and version, so it settles by itself; a
        batch holds its block pending until every item has been tried."""
        if len(changes) == 1:
            change = changes[0]
            block = await self._sequence.claim(
                1, write=(self.name, change.doc["_id"], change.doc["version"])
            )
            change.doc["_seq"] = block.lo
            landed = await self._land(changes)
            self._sequence.landed(block)
        else:
            async with self._sequence.hold(len(changes)) as block:
                for n, change in enumerate(changes):
                    change.doc["_seq"] = block.lo + n
                landed = await self._land(changes)
        await self._record([c for c, ok in zip(changes, landed, strict=True) if ok])
        return landed

    async def repair(self, current: list[Document]) -> None:
        """Make sure records that a write found unchanged have the revision of their version.

        A write that changes nothing lands nothing, so it cannot repair as step 3 does; this
        insert (a duplicate key, ignored, unless the writer of that version died before its
        revision) keeps a replay after a crash from leaving a record without its revision."""
        await self._write(self._revisions, [InsertOne(self.revision_of(doc)) for doc in current])

    async def _land(self, changes: list[Change]) -> list[bool]:
        operations: list[InsertOne[Document] | ReplaceOne[Document]] = [
            InsertOne(c.doc)
            if c.current is None
            else ReplaceOne(
                {"_id": c.doc["_id"], "version": c.current["version"]}, c.doc, upsert=True
            )
            for c in changes
        ]
        lost = await self._write(self._col, operations)
        return [n not in lost for n in range(len(changes))]

    async def _record(self, landed: list[Change]) -> None:
        revisions = []
        for change in landed:
            if change.current is not None:
                revisions.append(InsertOne(self.revision_of(change.current)))
            revisions.append(InsertOne(self.revision_of(change.doc)))
        await self._write(self._revisions, revisions)

    @staticmethod
    async def _write(
        collection: AsyncCollection[Document],
        operations: list[InsertOne[Document] | ReplaceOne[Document]] | list[InsertOne[Document]],
    ) -> set[int]:
        """Run `operations` unordered, in chunks sent side by side (the database writes them
        in parallel); the indexes that met a taken key."""
        gate = asyncio.Semaphore(_PARALLEL_CHUNKS)

        async def chunk(start: int) -> set[int]:
            async with gate:
                try:
                    await collection.bulk_write(operations[start : start + _CHUNK], ordered=False)
                except BulkWriteError as exc:
                    errors = exc.details.get("writeErrors", [])
                    if any(e.get("code") != _DUPLICATE_KEY for e in errors):
                        raise
                    return {start + int(e["index"]) for e in errors}
            return set()

        found = await asyncio.gather(*(chunk(s) for s in range(0, len(operations), _CHUNK)))
        return set().union(*found)
