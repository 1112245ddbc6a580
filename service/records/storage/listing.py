"""One page of a filtered, sorted list, keyset-paged with an opaque cursor (no skip/offset).

A cursor carries the sort key of the last record served and the id that breaks ties, signed
so it cannot be forged, plus a digest of the filters and sort it was issued for (another
query's cursor is a 422). A page is "records strictly after that key", so walking the pages
returns each record that is not written meanwhile exactly once, whatever else changes.

Relevance (with `q`): every matching record's id, year and search terms are fetched and ranked
in Python (title matches above summary matches above other text, then the most recent year,
then id); the page's records are then fetched by id. This reads all matches once per page,
which is fine at this data set's scale (thousands of records) and documented in
docs/indexes.md; at a larger scale a search engine would take over ranking.
"""

import asyncio
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from service.db import Document
from service.records.grammar.query import Filters, PageRequest, Sort, invalid
from service.records.search import relevance
from service.records.storage.documents import HIDDEN
from service.records.storage.mongo_query import keyset_after, to_mongo
from service.tokens import Signer


def projection(fields: tuple[str, ...] | None, sort: Sort) -> Document:
    """What to read: everything but the heavy internal fields, or `fields` and what the
    sort and the cursor need."""
    if fields is None:
        return dict(HIDDEN)
    wanted = {f for f in fields if f != "id"} | {"version", "_seq"}
    if not sort.relevance:
        wanted.add(sort.field)
    return dict.fromkeys(sorted(wanted), 1)


def shape(doc: Document, fields: tuple[str, ...] | None) -> Document:
    """The record as served: `id`, and `fields` with `version` when fields are chosen."""
    out: Document = {"id": doc["_id"]}
    keep = None if fields is None else {*fields, "version"}
    out.update((k, v) for k, v in doc.items() if k[0] != "_" and (keep is None or k in keep))
    return out


def mongo_sort(sort: Sort) -> list[tuple[str, int]]:
    """The sort with `_id` as its tie-breaker, so that the order is total."""
    direction = DESCENDING if sort.descending else ASCENDING
    return [(sort.field, direction)] + ([] if sort.field == "_id" else [("_id", direction)])


def _relevance_key(doc: Document, terms: list[str]) -> list[Any]:
    year = doc.get("year")
    return [-relevance(doc.get("_terms", []), terms), year is None, -(year or 0), doc["_id"]]


async def list_page(
    col: AsyncCollection[Document], signer: Signer, filters: Filters, page: PageRequest
) -> Document:
    query = to_mongo(filters)
    fingerprint = f"{filters.fingerprint()}/{page.sort}"
    after: Any = None
    if page.cursor is not None:
        payload = signer.load(page.cursor, "cursor")
        if not isinstance(payload, dict) or payload.get("h") != fingerprint:
            raise invalid("cursor", "it was issued for other filters or another sort")
        after = payload
    if page.sort.relevance:
        return await _relevance_page(col, signer, query, filters, page, fingerprint, after)

    field, descending = page.sort.field, page.sort.descending
    found_query = query
    if after is not None:
        found_query = {"$and": [query, keyset_after(field, descending, after["v"], after["i"])]}

    async def fetch() -> list[Document]:
        found = col.find(
            found_query,
            projection=projection(page.fields, page.sort),
            sort=mongo_sort(page.sort),
            limit=page.limit + 1,
        )
        return [d async for d in found]

    async def count() -> int | None:
        return await col.count_documents(query) if page.exact_count else None

    # Both read every candidate on FerretDB (no index use), so they run side by side.
    docs, total = await asyncio.gather(fetch(), count())
    more = len(docs) > page.limit
    docs = docs[: page.limit]
    following = None
    if more:
        last = docs[-1]
        following = signer.dump({"h": fingerprint, "v": last.get(field), "i": last["_id"]})
    answer: Document = {"data": [shape(d, page.fields) for d in docs]}
    if total is not None:
        answer["total"] = total
    answer["next"] = following
    return answer


async def ranked_ids(
    col: AsyncCollection[Document], query: Document, filters: Filters
) -> list[str]:
    """The ids of every match in relevance order, as the list ranks them (for exports)."""
    terms = list(filters.terms or ())
    found = col.find(query, projection={"_terms": 1, "year": 1})
    return [key[-1] for key in sorted([_relevance_key(d, terms) async for d in found])]


async def _relevance_page(
    col: AsyncCollection[Document],
    signer: Signer,
    query: Document,
    filters: Filters,
    page: PageRequest,
    fingerprint: str,
    after: Any,
) -> Document:
    terms = list(filters.terms or ())
    found = col.find(query, projection={"_terms": 1, "year": 1})
    keys = sorted([_relevance_key(d, terms) async for d in found])
    total = len(keys)
    if after is not None:
        start = list(after["k"])
        keys = [k for k in keys if k > start]
    chosen = keys[: page.limit + 1]
    more = len(chosen) > page.limit
    chosen = chosen[: page.limit]
    ids = [k[-1] for k in chosen]
    # One lookup per id: an `_id` equality is the one filter FerretDB pushes down to SQLite
    # (an `$in` scans the collection), and on MongoDB each is a point read.
    wanted = projection(page.fields, page.sort) | ({} if page.fields is None else {"_deleted": 1})
    looked_up = await asyncio.gather(*(col.find_one({"_id": i}, projection=wanted) for i in ids))
    docs = [d for d in looked_up if d is not None and not d.get("_deleted")]
    answer: Document = {"data": [shape(d, page.fields) for d in docs]}
    if page.exact_count:
        answer["total"] = total
    answer["next"] = signer.dump({"h": fingerprint, "k": chosen[-1]}) if more else None
    return answer
