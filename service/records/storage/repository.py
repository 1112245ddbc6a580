"""Versioned writes, revisions and tombstones for one collection.

How a write stays correct without transactions (FerretDB has none, and applies conditional
updates non-atomically):

1. Read the current record (version v) and build the new content. If it equals what is
   stored, nothing is written ("unchanged").
2. Claim a change-sequence block (see `sequence.py`).
3. Insert the revision `<collection>/<id>/<v+1>`. The insert is the lock: of two writers
   racing from version v exactly one succeeds; the other re-reads and retries, or answers
   412 when the client pinned `If-Match`.
4. Replace the record where its version is still v, then release the sequence block.

A writer that dies between 3 and 4 leaves a revision ahead of its record. The next writer
that collides with it after `stale_after` seconds rolls it forward (applies it to the record
with a new sequence number), so a crash never wedges a record and never loses a revision.
"""

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from slugify import slugify

from service.auth.principal import Principal
from service.clock import now_iso
from service.db import Document
from service.problems import Forbidden, Gone, NotFound, PreconditionFailed, invalid_body
from service.records.derive import derive
from service.records.grammar.query import Filters, PageRequest
from service.records.grammar.stats import StatsRequest
from service.records.model import RecordFields
from service.records.resource import Resource
from service.records.storage import listing, stats
from service.records.storage.documents import HIDDEN, content, public
from service.records.storage.indexes import indexes
from service.records.storage.mongo_query import to_mongo
from service.records.storage.sequence import Sequence
from service.tokens import Signer

Status = Literal["created", "updated", "unchanged", "deleted"]
Builder = Callable[[Document | None], Awaitable[RecordFields]]

_MAX_ATTEMPTS = 50


@dataclass(frozen=True, slots=True)
class Written:
    record: Document
    status: Status

    @property
    def version(self) -> int:
        return int(self.record["version"])


async def _backoff(attempt: int) -> None:
    """Wait a little before retrying a collision, longer each time, so that racing writers
    spread out and a writer that died mid-write is rolled forward (after `stale_after`)
    within the retries instead of failing the request."""
    await asyncio.sleep(min(0.005 * (attempt + 1), 0.25))


class _Collision(Exception):
    """Another writer took the next version first."""


class Repository:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        resource: Resource,
        sequence: Sequence,
        signer: Signer,
        stale_after: float = 5.0,
    ) -> None:
        self.signer = signer
        self.resource = resource
        self.col = db[resource.name]
        self.revisions = db["revisions"]
        self.sequence = sequence
        self._stale_after = stale_after

    async def create_indexes(self) -> None:
        await self.col.create_index([("_seq", ASCENDING)])
        for keys in indexes(self.resource):
            await self.col.create_index(keys)
        await self.revisions.create_index(
            [("collection", ASCENDING), ("record_id", ASCENDING), ("version", DESCENDING)]
        )

    # --- reads -------------------------------------------------------------------------

    async def find(self, record_id: str) -> Document | None:
        """The stored document, tombstones included."""
        return await self.col.find_one({"_id": record_id})

    async def get(self, record_id: str) -> Document:
        doc = await self.find(record_id)
        if doc is None:
            raise NotFound(f"There is no {self.resource.singular} {record_id!r}.")
        if doc["_deleted"]:
            raise Gone(
                f"The {self.resource.singular} {record_id!r} was deleted.",
                version=doc["version"],
            )
        return public(doc)

    async def estimated_count(self) -> int:
        """Stored documents, tombstones included, from the collection's metadata (cheap)."""
        return await self.col.estimated_document_count()

    async def list_page(self, filters: Filters, page: PageRequest) -> Document:
        """One page of live records matching `filters` (see `listing.py`)."""
        return await listing.list_page(self.col, self.signer, filters, page)

    async def facets(self, filters: Filters, by: tuple[str, ...], size: int) -> Document:
        return await stats.facets(self.col, filters, by, size)

    async def stats(self, filters: Filters, request: StatsRequest) -> Document:
        return await stats.stats(self.col, self.resource, filters, request)

    async def export(self, filters: Filters) -> AsyncIterator[Document]:
        """Every matching live record in id order, read in batches."""
        found = self.col.find(
            to_mongo(filters), projection=HIDDEN, sort=[("_id", ASCENDING)], batch_size=500
        )
        async for doc in found:
            yield public(doc)

    async def timeline(
        self, country: str, year_from: int | None, year_to: int | None
    ) -> list[Document]:
        """Summaries of the live records naming `country`, in date order (undated last)."""
        query: Document = {"_deleted": False, "country_codes": country}
        bounds = {k: v for k, v in (("$gte", year_from), ("$lte", year_to)) if v is not None}
        if bounds:
            query["year"] = bounds
        keep = ["title", "kind", "status", "year", "usd", "usd_lower_bound", "_date"]
        found = self.col.find(
            query,
            projection=dict.fromkeys(keep, 1),
            sort=[("_date", ASCENDING), ("_id", ASCENDING)],
        )
        out = []
        async for doc in found:
            item: Document = {"collection": self.resource.name, "id": doc["_id"]}
            item["date"] = doc.get("_date")
            item.update((k, doc[k]) for k in keep if k in doc and k[0] != "_")
            out.append(item)
        return out

    async def changes(self, after: int, upto: int, limit: int) -> list[tuple[int, Document]]:
        """Up to `limit` changes with sequence numbers in (`after`, `upto`], in sequence
        order, each with its number: the latest state of each record written in that range."""
        found = self.col.find(
            {"_seq": {"$gt": after, "$lte": upto}},
            projection={"_terms": 0},
            sort=[("_seq", ASCENDING)],
            limit=limit,
        )
        return [(doc["_seq"], self._change(doc)) async for doc in found]

    def _change(self, doc: Document) -> Document:
        change: Document = {
            "collection": self.resource.name,
            "id": doc["_id"],
            "op": "delete" if doc["_deleted"] else "upsert",
            "version": doc["version"],
        }
        if not doc["_deleted"]:
            change["record"] = public(doc)
        return change

    async def revision_list(self, record_id: str) -> list[Document]:
        await self.get_any(record_id)
        cursor = self.revisions.find(
            {"collection": self.resource.name, "record_id": record_id},
            projection={"record": 0},
            sort=[("version", DESCENDING)],
        )
        return [self._revision_summary(r) async for r in cursor]

    async def revision(self, record_id: str, version: int) -> Document:
        rev = await self.revisions.find_one({"_id": self._revision_id(record_id, version)})
        if rev is None:
            await self.get_any(record_id)
            raise NotFound(f"{self.resource.singular} {record_id!r} has no version {version}.")
        summary = self._revision_summary(rev)
        summary["record"] = public(rev["record"]) if rev.get("record") else None
        return summary

    async def get_any(self, record_id: str) -> Document:
        doc = await self.find(record_id)
        if doc is None:
            raise NotFound(f"There is no {self.resource.singular} {record_id!r}.")
        return doc

    # --- writes ------------------------------------------------------------------------

    async def put(
        self,
        record_id: str,
        fields: RecordFields,
        principal: Principal,
        *,
        if_match: int | None = None,
        create_only: bool = False,
    ) -> Written:
        async def build(_: Document | None) -> RecordFields:
            return fields

        return await self._write(record_id, build, principal, if_match, create_only)

    async def create(self, fields: RecordFields, principal: Principal) -> Written:
        """A new record with an id made from its title (`-2`, `-3`... when taken)."""
        base = slugify(fields.title, max_length=90, word_boundary=True) or "record"
        base = base if len(base) >= 3 else f"{base}-{self.resource.singular}"
        try:
            return await self.put(base, fields, principal, create_only=True)
        except PreconditionFailed:
            pass
        # Taken: one query for the numbered ids in use, not one lookup per candidate.
        pattern = f"^{re.escape(base)}(-[0-9]+)?$"
        found = self.col.find({"_id": {"$regex": pattern}}, projection={"_id": 1})
        taken = {d["_id"] async for d in found} | {base}
        for n in range(2, len(taken) + 100):
            record_id = f"{base}-{n}"
            if record_id in taken:
                continue
            try:
                return await self.put(record_id, fields, principal, create_only=True)
            except PreconditionFailed:
                continue
        raise PreconditionFailed(f"Too many records are titled {fields.title!r}.")

    async def patch(
        self,
        record_id: str,
        merge: Callable[[Document], Document],
        principal: Principal,
        *,
        if_match: int | None = None,
    ) -> Written:
        """Apply `merge` to the current content (JSON Merge Patch) and validate the result."""

        async def build(current: Document | None) -> RecordFields:
            if current is None:
                raise NotFound(f"There is no {self.resource.singular} {record_id!r}.")
            if current["_deleted"]:
                raise Gone(f"The {self.resource.singular} {record_id!r} was deleted.")
            return self.validate(merge(content(current)))

        return await self._write(record_id, build, principal, if_match, False)

    async def restore(
        self, record_id: str, version: int, principal: Principal, *, if_match: int | None = None
    ) -> Written:
        """Make revision `version` current again, as a new version; undeletes too."""
        rev = await self.revisions.find_one({"_id": self._revision_id(record_id, version)})
        if rev is None or not rev.get("record"):
            await self.get_any(record_id)
            raise NotFound(
                f"{self.resource.singular} {record_id!r} has no restorable version {version}."
            )
        fields = self.validate(content(rev["record"]))

        async def build(_: Document | None) -> RecordFields:
            return fields

        return await self._write(
            record_id, build, principal, if_match, False, op="restore", restored_from=version
        )

    async def delete(
        self, record_id: str, principal: Principal, *, if_match: int | None = None
    ) -> Written:
        for attempt in range(_MAX_ATTEMPTS):
            current = await self.find(record_id)
            if current is None:
                raise NotFound(f"There is no {self.resource.singular} {record_id!r}.")
            self._check(current, principal, if_match, create_only=False)
            if current["_deleted"]:
                raise Gone(f"The {self.resource.singular} {record_id!r} was deleted.")
            stamp = now_iso()
            tombstone = {k: current[k] for k in ("_id", "created_at", "created_by", "owner")} | {
                "version": current["version"] + 1,
                "updated_at": stamp,
                "updated_by": principal.name,
                "deleted": True,
                "_deleted": True,
            }
            try:
                await self._commit(current, tombstone, principal, "delete", None)
            except _Collision:
                if if_match is not None:
                    raise self._stale(record_id) from None
                await _backoff(attempt)
                continue
            return Written(public(tombstone), "deleted")
        raise self._stale(record_id)

    async def bulk(self, items: list[Any], principal: Principal) -> list[Document]:
        """Create or replace many records by id, each atomically on its own (see `bulk.py`)."""
        from service.records.storage.bulk import BulkWrite

        return await BulkWrite(self, principal).run(items)

    def validate(self, data: Any) -> RecordFields:
        try:
            return self.resource.fields_model.model_validate(data)
        except ValidationError as exc:
            raise invalid_body(exc) from None

    # --- the write protocol ------------------------------------------------------------

    async def _write(
        self,
        record_id: str,
        build: Builder,
        principal: Principal,
        if_match: int | None,
        create_only: bool,
        op: str | None = None,
        restored_from: int | None = None,
    ) -> Written:
        for attempt in range(_MAX_ATTEMPTS):
            current = await self.find(record_id)
            self._check(current, principal, if_match, create_only)
            doc = self._next_doc(record_id, current, await build(current), principal)
            if doc is None:
                return Written(public(current), "unchanged")  # type: ignore[arg-type]
            alive = current is not None and not current["_deleted"]
            kind = op or ("update" if alive else "create")
            try:
                await self._commit(current, doc, principal, kind, restored_from)
            except _Collision:
                if if_match is not None or create_only:
                    raise self._stale(record_id) from None
                await _backoff(attempt)
                continue
            return Written(public(doc), "updated" if alive else "created")
        raise self._stale(record_id)

    @staticmethod
    def _next_doc(
        record_id: str, current: Document | None, fields: RecordFields, principal: Principal
    ) -> Document | None:
        """The document to store next, or None when `fields` would change nothing."""
        fields, derived = derive(fields)
        body = fields.model_dump(mode="json") | derived
        alive = current is not None and not current["_deleted"]
        if alive and all(current.get(k) == v for k, v in body.items()):  # type: ignore[union-attr]
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
        }

    def _check(
        self,
        current: Document | None,
        principal: Principal,
        if_match: int | None,
        create_only: bool,
    ) -> None:
        alive = current is not None and not current["_deleted"]
        if create_only and alive:
            raise PreconditionFailed(
                f"The {self.resource.singular} {current['_id']!r} already exists.",  # type: ignore[index]
            )
        if if_match is not None and (current is None or current["version"] != if_match):
            raise PreconditionFailed(
                f"If-Match: version {if_match} is not the current version.",
                current_version=current["version"] if current else None,
            )
        if current is not None and not principal.may_change(current["owner"]):
            raise Forbidden(
                f"{principal.name!r} may not change the {self.resource.singular} "
                f"{current['_id']!r}, which belongs to {current['owner']!r}."
            )

    async def _commit(
        self,
        current: Document | None,
        doc: Document,
        principal: Principal,
        op: str,
        restored_from: int | None,
        seq: int | None = None,
    ) -> None:
        """Steps 2-4 of the protocol. Raises `_Collision` when another writer won.

        `seq`: a number from a block the caller holds (bulk writes); otherwise one is claimed.
        """
        async with contextlib.AsyncExitStack() as held:
            if seq is None:
                seq = (await held.enter_async_context(self.sequence.hold())).lo
            doc["_seq"] = seq
            revision = self._revision_doc(doc, principal, op, restored_from)
            try:
                await self.revisions.insert_one(revision)
            except DuplicateKeyError:
                await self._roll_forward(doc["_id"], current, doc["version"])
                raise _Collision from None
            if current is None:
                try:
                    await self.col.insert_one(doc)
                except DuplicateKeyError:
                    await self.revisions.delete_one({"_id": revision["_id"]})
                    raise _Collision from None
            else:
                result = await self.col.replace_one(
                    {"_id": doc["_id"], "version": current["version"]}, doc
                )
                if result.matched_count == 0:
                    await self.revisions.delete_one({"_id": revision["_id"]})
                    raise _Collision

    def _revision_doc(
        self, doc: Document, principal: Principal, op: str, restored_from: int | None
    ) -> Document:
        return {
            "_id": self._revision_id(doc["_id"], doc["version"]),
            "collection": self.resource.name,
            "record_id": doc["_id"],
            "version": doc["version"],
            "op": op,
            "at": doc["updated_at"],
            "at_epoch": time.time(),
            "by": principal.name,
            "restored_from": restored_from,
            "record": None if doc["_deleted"] else doc,
            "tombstone": doc if doc["_deleted"] else None,
        }

    async def _roll_forward(self, record_id: str, current: Document | None, version: int) -> None:
        """Finish the write of a writer that died after claiming `version` (a create too)."""
        rev = await self.revisions.find_one({"_id": self._revision_id(record_id, version)})
        if rev is None or time.time() - rev.get("at_epoch", 0) < self._stale_after:
            return  # still in flight, or already undone: just retry
        doc = rev["record"] or rev["tombstone"]
        async with self.sequence.hold() as block:
            doc["_seq"] = block.lo
            if current is None:
                with contextlib.suppress(DuplicateKeyError):  # another writer finished it
                    await self.col.insert_one(doc)
            else:
                await self.col.replace_one({"_id": doc["_id"], "version": version - 1}, doc)

    def _revision_id(self, record_id: str, version: int) -> str:
        return f"{self.resource.name}/{record_id}/{version}"

    def _stale(self, record_id: str) -> PreconditionFailed:
        return PreconditionFailed(
            f"The {self.resource.singular} {record_id!r} was changed by another request; "
            "fetch it again and retry."
        )

    @staticmethod
    def _revision_summary(rev: Document) -> Document:
        keys = ("version", "op", "at", "by", "restored_from")
        return {k: rev.get(k) for k in keys}
