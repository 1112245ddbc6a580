"""Versioned writes, revisions and tombstones for one collection, and its reads.

Every write goes through `write_protocol.py`: read the record, plan the next version, land it
with a conditional update on the version read (the update is the lock), then store its
revision. A writer that loses its race re-reads and tries again, up to a limit, or answers 412
at once when the client pinned the version (`If-Match`) or asked for a create only.
"""

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from slugify import slugify

from service.auth.principal import Principal
from service.db import Document
from service.gate import Gate
from service.problems import Gone, NotFound, PreconditionFailed, invalid_body
from service.records.grammar.query import Filters, PageRequest, Sort
from service.records.grammar.stats import StatsRequest
from service.records.model import RecordFields
from service.records.resource import Resource
from service.records.storage import listing, stats
from service.records.storage.documents import content, public
from service.records.storage.indexes import indexes
from service.records.storage.mongo_query import to_mongo
from service.records.storage.rederive import rederive
from service.records.storage.sequence import Sequence
from service.records.storage.write_protocol import (
    Change,
    Pin,
    Status,
    Writes,
    check,
    next_doc,
    tombstone,
)
from service.tokens import Signer

_MAX_ATTEMPTS = 50


@dataclass(frozen=True, slots=True)
class Written:
    record: Document
    status: Status

    @property
    def version(self) -> int:
        return int(self.record["version"])


def _pinned(if_match: Pin) -> bool:
    """A write pinned to a version answers 412 when it loses a race instead of retrying."""
    return isinstance(if_match, frozenset)


async def _backoff(attempt: int) -> None:
    """Wait a little before retrying a lost race, longer each time, so that racing writers
    spread out instead of colliding again."""
    await asyncio.sleep(min(0.002 * (attempt + 1), 0.1))


class Repository:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        resource: Resource,
        sequence: Sequence,
        signer: Signer,
        gate: Gate | None = None,
    ) -> None:
        self.signer = signer
        self.gate = gate or Gate.unlimited()
        self.resource = resource
        self.col = db[resource.name]
        self.revisions = db["revisions"]
        self.writes = Writes(self.col, self.revisions, sequence)

    async def create_indexes(self) -> None:
        await self.col.create_index([("_seq", ASCENDING)])
        for keys in indexes(self.resource):
            await self.col.create_index(keys)
        await self.revisions.create_index(
            [("collection", ASCENDING), ("record_id", ASCENDING), ("version", DESCENDING)]
        )

    async def rederive(self) -> int:
        """Bring stored derived fields up to the current derivation (see `rederive.py`)."""
        return await rederive(self.col, self.resource.fields_model)

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
        async with self.gate.admit():
            return await listing.list_page(self.col, self.signer, filters, page)

    async def facets(self, filters: Filters, by: tuple[str, ...], size: int) -> Document:
        async with self.gate.admit():
            return await stats.facets(self.col, filters, by, size)

    async def stats(self, filters: Filters, request: StatsRequest) -> Document:
        async with self.gate.admit():
            return await stats.stats(self.col, self.resource, filters, request)

    async def export(
        self, filters: Filters, sort: Sort, fields: tuple[str, ...] | None = None
    ) -> AsyncIterator[Document]:
        """Every matching live record in `sort` order (as the list orders it), shaped to
        `fields` like the list, read in batches. By relevance, the ranking reads the ids
        and search terms of every match first (as each list page does), then the records
        in batches of ids."""
        query, wanted = to_mongo(filters), listing.projection(fields, sort)
        if not sort.relevance:
            found = self.col.find(
                query, projection=wanted, sort=listing.mongo_sort(sort), batch_size=500
            )
            async for doc in found:
                yield listing.shape(doc, fields)
            return
        ids = await listing.ranked_ids(self.col, query, filters)
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            selected = {"$and": [query, {"_id": {"$in": batch}}]}
            docs = {d["_id"]: d async for d in self.col.find(selected, projection=wanted)}
            for rid in batch:
                if rid in docs:  # a record deleted meanwhile is left out
                    yield listing.shape(docs[rid], fields)

    async def timeline(
        self, country: str, year_from: int | None, year_to: int | None
    ) -> list[Document]:
        """Summaries of the live records naming `country`, in date order (undated last)."""
        async with self.gate.admit():
            return await self._timeline(country, year_from, year_to)

    async def _timeline(
        self, country: str, year_from: int | None, year_to: int | None
    ) -> list[Document]:
        query: Document = {"_deleted": False, "country_codes": country}
        bounds = {k: v for k, v in (("$gte", year_from), ("$lte", year_to)) if v is not None}
        if bounds:
            query["year"] = bounds
        keep = [
            "title",
            "kind",
            "status",
            "year",
            "usd",
            "usd_qualifier",
            "usd_period",
            "usd_lower_bound",
        ]
        found = self.col.find(
            query,
            projection=dict.fromkeys([*keep, "_date", "_date_text"], 1),
            sort=[("_date", ASCENDING), ("_id", ASCENDING)],
        )
        out = []
        async for doc in found:
            item: Document = {"collection": self.resource.name, "id": doc["_id"]}
            # The source's wording goes with the date: "projects completed since 2013" is a
            # period that starts in 2013, not an event of 2013.
            item["date"] = doc.get("_date")
            item["date_text"] = doc.get("_date_text")
            item.update((k, doc.get(k)) for k in keep)
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
        """Newest first. The current version is listed even when its writer died before
        storing its revision (the next write stores it)."""
        current = await self.get_any(record_id)
        cursor = self.revisions.find(
            {"collection": self.resource.name, "record_id": record_id},
            projection={"record": 0, "tombstone": 0},
            sort=[("version", DESCENDING)],
        )
        found = [self._revision_summary(r) async for r in cursor]
        if not found or found[0]["version"] < current["version"]:
            found.insert(0, self._revision_summary(self.writes.revision_of(current)))
        return found

    async def revision(self, record_id: str, version: int) -> Document:
        rev = await self._revision(record_id, version)
        if rev is None:
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
        if_match: Pin = None,
        create_only: bool = False,
        new_id: bool = False,
    ) -> Written:
        def plan(current: Document | None) -> Change | None:
            return self.plan(
                record_id,
                current,
                fields,
                principal,
                if_match=if_match,
                create_only=create_only,
                new_id=new_id,
            )

        return await self._write(record_id, plan, _pinned(if_match) or create_only or new_id)

    async def create(self, fields: RecordFields, principal: Principal) -> Written:
        """A new record with an id made from its title (`-2`, `-3`... when taken)."""
        base = slugify(fields.title, max_length=90, word_boundary=True) or "record"
        base = base if len(base) >= 3 else f"{base}-{self.resource.singular}"
        try:
            return await self.put(base, fields, principal, new_id=True)
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
                return await self.put(record_id, fields, principal, new_id=True)
            except PreconditionFailed:
                continue
        raise PreconditionFailed(f"Too many records are titled {fields.title!r}.")

    async def patch(
        self,
        record_id: str,
        merge: Callable[[Document], Document],
        principal: Principal,
        *,
        if_match: Pin = None,
    ) -> Written:
        """Apply `merge` to the current content (JSON Merge Patch) and validate the result."""

        def plan(current: Document | None) -> Change | None:
            check(self.resource, current, principal, if_match, create_only=False)
            if current is None:
                raise NotFound(f"There is no {self.resource.singular} {record_id!r}.")
            if current["_deleted"]:
                raise Gone(f"The {self.resource.singular} {record_id!r} was deleted.")
            fields = self.validate(merge(content(current)))
            return self.plan(record_id, current, fields, principal, if_match=if_match)

        return await self._write(record_id, plan, _pinned(if_match))

    async def restore(
        self, record_id: str, version: int, principal: Principal, *, if_match: Pin = None
    ) -> Written:
        """Make revision `version` current again, as a new version; undeletes too."""
        if if_match is not None:  # a precondition on a missing record is a 412, not a 404
            check(self.resource, await self.find(record_id), principal, if_match, False)
        rev = await self._revision(record_id, version)
        if rev is None or not rev.get("record"):
            raise NotFound(
                f"{self.resource.singular} {record_id!r} has no restorable version {version}."
            )
        fields = self.validate(content(rev["record"]))

        def plan(current: Document | None) -> Change | None:
            return self.plan(
                record_id,
                current,
                fields,
                principal,
                if_match=if_match,
                op="restore",
                restored_from=version,
            )

        return await self._write(record_id, plan, _pinned(if_match))

    async def delete(
        self, record_id: str, principal: Principal, *, if_match: Pin = None
    ) -> Written:
        def plan(current: Document | None) -> Change | None:
            if current is None and if_match is None:
                raise NotFound(f"There is no {self.resource.singular} {record_id!r}.")
            if current is not None and current["_deleted"]:
                raise Gone(f"The {self.resource.singular} {record_id!r} was deleted.")
            check(self.resource, current, principal, if_match, create_only=False)
            assert current is not None  # a precondition on a missing record failed above
            return Change(current, tombstone(current, principal))

        return await self._write(record_id, plan, _pinned(if_match))

    async def versions(self, record_ids: list[str]) -> dict[str, int]:
        """The stored version of each of these ids that exists."""
        found = self.col.find({"_id": {"$in": record_ids}}, projection={"version": 1})
        return {d["_id"]: int(d["version"]) async for d in found}

    async def find_many(self, record_ids: list[str]) -> dict[str, Document]:
        """The stored documents of these ids, tombstones included, by id."""
        return {d["_id"]: d async for d in self.col.find({"_id": {"$in": record_ids}})}

    def plan(
        self,
        record_id: str,
        current: Document | None,
        fields: RecordFields,
        principal: Principal,
        *,
        if_match: Pin = None,
        create_only: bool = False,
        new_id: bool = False,
        op: str | None = None,
        restored_from: int | None = None,
    ) -> Change | None:
        """The change that writes `fields` over `current` (as read), or None when it would
        change nothing. Raises the problem when a precondition or the owner forbids it."""
        check(self.resource, current, principal, if_match, create_only, new_id)
        doc = next_doc(record_id, current, fields, principal, op, restored_from)
        return None if doc is None else Change(current, doc)

    async def commit(self, changes: list[Change]) -> list[bool]:
        """Land the changes (see `write_protocol.py`); which ones landed."""
        return await self.writes.commit(changes)

    def validate(self, data: Any) -> RecordFields:
        try:
            return self.resource.fields_model.model_validate(data)
        except ValidationError as exc:
            raise invalid_body(exc) from None

    # --- one record, retried until it lands ---------------------------------------------

    async def _write(
        self,
        record_id: str,
        plan: Callable[[Document | None], Change | None],
        pinned: bool,
    ) -> Written:
        """Read, plan and commit until the change lands; a lost race is a 412 when `pinned`."""
        for attempt in range(_MAX_ATTEMPTS):
            current = await self.find(record_id)
            change = plan(current)
            if change is None:
                assert current is not None  # only an existing record can be unchanged
                await self.writes.repair([current])
                return Written(public(current), "unchanged")
            if (await self.commit([change]))[0]:
                return Written(public(change.doc), change.status)
            if pinned:
                break
            await _backoff(attempt)
        raise self._stale(record_id)

    async def _revision(self, record_id: str, version: int) -> Document | None:
        """A stored revision, or the current record's own when its writer died before
        storing it. NotFound when there is no such record at all."""
        rev = await self.revisions.find_one({"_id": self.writes.revision_id(record_id, version)})
        if rev is not None:
            return rev
        current = await self.get_any(record_id)
        return self.writes.revision_of(current) if current["version"] == version else None

    def _stale(self, record_id: str) -> PreconditionFailed:
        return PreconditionFailed(
            f"The {self.resource.singular} {record_id!r} was changed by another request; "
            "fetch it again and retry."
        )

    @staticmethod
    def _revision_summary(rev: Document) -> Document:
        keys = ("version", "op", "at", "by", "restored_from")
        return {k: rev.get(k) for k in keys}
