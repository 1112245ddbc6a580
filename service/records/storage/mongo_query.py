"""The query grammar in MongoDB terms: the only place that turns filters and keyset positions
into MongoDB queries."""

from collections.abc import Collection
from typing import Any

from service.db import Document
from service.records.grammar.query import LIST_FILTERS, Filters


def to_mongo(filters: Filters, without: Collection[str] = ()) -> Document:
    """The MongoDB query for live records matching `filters`, ignoring the filters named in
    `without` (a facet ignores its own field's filter; `year` stands for the year range)."""
    query: Document = {"_deleted": False}
    if filters.terms is not None:
        # A query with no searchable words (only punctuation or stop words) matches nothing.
        query["_terms"] = {"$all": list(filters.terms)} if filters.terms else {"$in": []}
    for name, values in filters.any_of.items():
        if name not in without:
            query[LIST_FILTERS[name].field] = {"$in": list(values)}
    if "year" not in without:
        _range(query, "year", filters.year_from, filters.year_to)
    _range(query, "usd", filters.usd_min, filters.usd_max)
    if filters.has_conflicts is not None:
        # An array's first element exists exactly when the array is not empty.
        query["quality.conflicts.0"] = {"$exists": filters.has_conflicts}
    if filters.updated_since is not None:
        query["updated_at"] = {"$gte": filters.updated_since}
    return query


def _range(query: Document, name: str, low: int | None, high: int | None) -> None:
    bounds = {k: v for k, v in (("$gte", low), ("$lte", high)) if v is not None}
    if bounds:
        query[name] = bounds


def keyset_after(field: str, descending: bool, value: Any, last_id: str) -> Document:
    """Records strictly after (`value`, `last_id`) in the order (field, _id), both ascending or
    both descending. Nulls (and missing values) sort before every number and string, and a
    comparison such as `$gt` never matches null, so they are handled explicitly."""
    if field == "_id":
        return {"_id": {"$lt" if descending else "$gt": last_id}}
    tie = {"_id": {"$lt" if descending else "$gt": last_id}}
    if value is None:
        if descending:
            return {field: None, **tie}
        return {"$or": [{field: None, **tie}, {field: {"$ne": None}}]}
    branches: list[Document] = [
        {field: {"$lt" if descending else "$gt": value}},
        {field: value, **tie},
    ]
    if descending:
        branches.append({field: None})
    return {"$or": branches}
