"""The indexes of a record collection, derived from what the resource offers.

Every list query carries `_deleted: false`; sorts end with `_id` as the tie-breaker, so each
sort has a compound index `(_deleted, field, _id)` that MongoDB can walk forwards or backwards.
Array fields (`country_codes`, `sectors`, `tags`, `_orgs`, `umbrella_ids`, `_terms`) are
multikey; MongoDB refuses a compound index with two array fields, so each array field leads its
own index with scalar companions only. docs/indexes.md lists each query shape with the index
it uses.
"""

from pymongo import ASCENDING, DESCENDING

from service.records.grammar.query import ASCENDING_FIELDS, LIST_FILTERS, SORTS
from service.records.resource import Resource

IndexKeys = list[tuple[str, int]]

#: Filters whose index also serves the newest-change-first default sort.
_WITH_SEQ = {"kind", "status", "dual_use", "confidence", "parent"}
#: Array fields: one per index, so no index holds two of them.
_ARRAYS = {
    "country": [("year", ASCENDING)],
    "sector": [],
    "tag": [],
    "organisation": [],
    "umbrella": [],
}


def indexes(resource: Resource) -> list[IndexKeys]:
    out: list[IndexKeys] = [[("_deleted", ASCENDING), ("_seq", DESCENDING)]]
    for name in resource.sorts:
        field = SORTS[name]
        if field not in ("", "_seq", "_id"):
            out.append([("_deleted", ASCENDING), (field, ASCENDING), ("_id", ASCENDING)])
        if name in ASCENDING_FIELDS:
            out.append([("_deleted", ASCENDING), (ASCENDING_FIELDS[name], ASCENDING), ("_id", 1)])
    if "q" in resource.filters:
        out.append([("_terms", ASCENDING)])
    for name in resource.filters:
        spec = LIST_FILTERS.get(name)
        if spec is None:
            continue
        if name in _WITH_SEQ:
            out.append([(spec.field, ASCENDING), ("_deleted", ASCENDING), ("_seq", DESCENDING)])
        elif name in _ARRAYS:
            out.append([(spec.field, ASCENDING), *_ARRAYS[name]])
    if "updated_since" in resource.filters:
        out.append([("updated_at", ASCENDING)])
    return out
