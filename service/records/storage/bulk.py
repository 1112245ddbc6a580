"""Bulk upsert: up to 1,000 records by id in one request, one result per item.

The items go through the write protocol together (`write_protocol.py`): one query reads every
current record, each item is planned as a PUT would plan it, and the changes land with one
`bulk_write` of conditional operations per chunk, under one claimed block of sequence numbers.
Each item is still atomic on its own, and a bad item costs the others nothing: it is an
`error` result, and an item that lost its race to a concurrent writer is written again alone,
as a PUT would retry it.
"""

import asyncio
from typing import Any

import pymongo
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from service.auth.principal import Principal
from service.db import Document
from service.problems import Invalid, Problem, invalid_body
from service.records.model import ID_PATTERN, RECORD_ID, RecordFields
from service.records.storage.repository import Repository
from service.records.storage.write_protocol import Change, Pin

MAX_ITEMS = 1000
#: The database time of one batch, all its reads and writes together (the command line's).
BULK_TIMEOUT_S = 30.0
#: Items that lost a race, written again at once.
_CONCURRENCY = 16

Plan = tuple[str, RecordFields, Pin]


async def upsert_many(
    repository: Repository, items: list[Any], principal: Principal
) -> list[Document]:
    """Create or replace each item by id; one result per item, in input order.

    Up to 1,000 items read and written in chunks may take seconds on FerretDB, more than the
    time limit of one request's query, so the whole batch shares a budget of its own (over
    HTTP, `DB_BULK_TIMEOUT_MS` around it is the one that counts)."""
    with pymongo.timeout(BULK_TIMEOUT_S):
        return await _upsert_many(repository, items, principal)


async def _upsert_many(
    repository: Repository, items: list[Any], principal: Principal
) -> list[Document]:
    results: list[Document | None] = [None] * len(items)
    # Validating and planning a thousand records is CPU work: done in a worker thread, so the
    # event loop keeps answering other clients meanwhile.
    planned = await run_in_threadpool(_validate_all, repository, items, results)
    current = await repository.find_many([record_id for record_id, _, _ in planned.values()])
    changes, unchanged = await run_in_threadpool(
        _plan_all, repository, items, planned, current, principal, results
    )
    if unchanged:
        await repository.writes.repair(unchanged)
    landed = await repository.commit([change for _, change in changes]) if changes else []
    retry = []
    for (i, change), ok in zip(changes, landed, strict=True):
        if ok:
            results[i] = _result(change.doc["_id"], change.status, change.doc["version"])
        else:
            retry.append(i)
    gate = asyncio.Semaphore(_CONCURRENCY)

    async def again(i: int) -> None:
        record_id, fields, if_match = planned[i]
        async with gate:
            try:
                written = await repository.put(record_id, fields, principal, if_match=if_match)
            except Problem as problem:
                results[i] = _error(items[i], problem)
                return
        results[i] = _result(record_id, written.status, written.version)

    await asyncio.gather(*(again(i) for i in retry))
    return [r for r in results if r is not None]


def _validate_all(
    repository: Repository, items: list[Any], results: list[Document | None]
) -> dict[int, Plan]:
    """Each valid item by position; an invalid one gets its error result instead."""
    planned: dict[int, Plan] = {}
    seen: set[str] = set()
    for i, item in enumerate(items):
        try:
            record_id, fields, if_match = _parse(repository, i, item)
            if record_id in seen:
                raise _item_invalid(i, "id", "this id appears earlier in the batch")
            seen.add(record_id)
            planned[i] = (record_id, fields, if_match)
        except Problem as problem:
            results[i] = _error(item, problem)
    return planned


def _plan_all(
    repository: Repository,
    items: list[Any],
    planned: dict[int, Plan],
    current: dict[str, Document],
    principal: Principal,
    results: list[Document | None],
) -> tuple[list[tuple[int, Change]], list[Document]]:
    """The change of each planned item over what is stored, and the items that change
    nothing (their results are set here, as are the errors)."""
    changes: list[tuple[int, Change]] = []
    unchanged: list[Document] = []
    for i, (record_id, fields, if_match) in planned.items():
        found = current.get(record_id)
        try:
            change = repository.plan(record_id, found, fields, principal, if_match=if_match)
        except Problem as problem:
            results[i] = _error(items[i], problem)
            continue
        if change is None:
            assert found is not None  # only an existing record can be unchanged
            results[i] = _result(record_id, "unchanged", found["version"])
            unchanged.append(found)
        else:
            changes.append((i, change))
    return changes, unchanged


def _parse(repository: Repository, i: int, item: Any) -> Plan:
    if not isinstance(item, dict):
        raise _item_invalid(i, "", "each item must be a record object with its id")
    try:
        record_id = RECORD_ID.validate_python(item.get("id"), strict=True)
    except ValidationError as exc:
        detail = exc.errors()[0]["msg"]
        raise _item_invalid(i, "id", f"an id matching {ID_PATTERN} is required: {detail}") from None
    if_match = item.get("if_match")
    if if_match is not None and (
        not isinstance(if_match, int) or isinstance(if_match, bool) or if_match < 1
    ):
        raise _item_invalid(i, "if_match", "a version number (integer >= 1) or null")
    data = {k: v for k, v in item.items() if k not in ("id", "if_match")}
    try:
        fields = repository.resource.fields_model.model_validate(data)
    except ValidationError as exc:
        raise invalid_body(exc, prefix=("records", i)) from None
    return record_id, fields, None if if_match is None else frozenset({if_match})


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
