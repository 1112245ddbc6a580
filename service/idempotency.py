"""Idempotency keys: a retried POST replays its first answer instead of running again.

A request with `Idempotency-Key: K` first *claims* K by inserting a document whose `_id` is
a hash of (principal, method and path, K). Inserts under a primary key are atomic on MongoDB
and on FerretDB alike (conditional updates are not on FerretDB), so of any number of
concurrent requests with the same key exactly one runs. The others find the claim and:

* answer 409 while it is still in flight;
* answer 422 when their body differs from the one the key was first used with;
* replay the stored status, headers and body (with `Idempotent-Replayed: true`) once done.

Answers below 500 are stored and replayed; a 5xx (or an exception) gives the key up so a
retry runs again. Giving it up needs the database, which is often what failed: a claim that
could not be deleted is remembered and deleted before this process claims any key again, so
the retry runs as soon as the database is back (a process that dies holding a claim leaves it
to expire after `abandon_after`).

Keys are kept `ttl` seconds (24 hours by default) and expired by the service itself, since
FerretDB has no TTL indexes: lazily when a stale key is met, and by a sweep at most once a
minute per process.
"""

import hashlib
import time
from collections.abc import Awaitable, Callable

import orjson
from bson import Binary
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError

from service.auth.principal import Principal
from service.db import Document
from service.problems import Conflict, Invalid, Problem

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
_KEPT_HEADERS = ("content-type", "location", "etag")
_SWEEP_EVERY_S = 60.0

Answer = tuple[int, dict[str, str], bytes]


def body_digest(raw: bytes) -> str:
    """The body's fingerprint: JSON is compared by value, so key order and spacing do not
    matter; anything else byte for byte."""
    try:
        data = orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        data = raw
    return hashlib.sha256(data).hexdigest()


class IdempotencyStore:
    def __init__(
        self, collection: AsyncCollection[Document], ttl: float, abandon_after: float
    ) -> None:
        self._col = collection
        self._ttl = ttl
        self._abandon_after = abandon_after
        self._last_sweep = 0.0
        #: Claims given up while the database could not delete them: (_id, claimed at).
        self._unreleased: set[tuple[str, float]] = set()

    async def create_indexes(self) -> None:
        await self._col.create_index([("at", ASCENDING)])

    async def run(
        self,
        key: str,
        principal: Principal,
        route: str,
        raw_body: bytes,
        handler: Callable[[], Awaitable[Answer]],
    ) -> tuple[Answer, bool]:
        """The answer for this request and whether it is a replay."""
        if not key or len(key) > MAX_KEY_LENGTH:
            raise Invalid(
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.",
                errors=[{"parameter": HEADER, "in": "header", "detail": "bad length"}],
            )
        await self._release_unreleased()
        await self._sweep()
        claim_id = hashlib.sha256(orjson.dumps([principal.name, route, key])).hexdigest()
        digest = body_digest(raw_body)
        for _ in range(3):
            claimed_at = time.time()
            try:
                await self._col.insert_one(
                    {"_id": claim_id, "body": digest, "state": "in_flight", "at": claimed_at}
                )
            except DuplicateKeyError:
                found = await self._col.find_one({"_id": claim_id})
                if found is None:
                    continue  # given up or expired just now: claim again
                if self._expired(found):
                    await self._col.delete_one({"_id": claim_id, "at": found["at"]})
                    continue
                if found["body"] != digest:
                    raise Invalid(
                        f"This {HEADER} was used with a different request body.",
                        errors=[{"parameter": HEADER, "in": "header", "detail": "reused"}],
                    ) from None
                if found["state"] != "done":
                    raise Conflict(
                        f"A request with this {HEADER} is still in flight; retry later.",
                        headers={"Retry-After": "1"},
                    ) from None
                return (found["status"], found["headers"], bytes(found["response"])), True
            else:
                return await self._execute((claim_id, claimed_at), route, handler), False
        raise Conflict(f"This {HEADER} is contended; retry later.", headers={"Retry-After": "1"})

    async def _execute(
        self, claim: tuple[str, float], route: str, handler: Callable[[], Awaitable[Answer]]
    ) -> Answer:
        claim_id = claim[0]
        try:
            answer = await handler()
        except Problem as problem:
            if problem.status >= 500:
                await self._give_up(claim)
                raise
            response = problem.response(route.partition(" ")[2])
            answer = (problem.status, dict(response.headers), bytes(response.body))
        except BaseException:
            await self._give_up(claim)
            raise
        status, headers, body = answer
        if status >= 500:
            await self._give_up(claim)
            return answer
        kept = {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}
        await self._col.update_one(
            {"_id": claim_id},
            {
                "$set": {
                    "state": "done",
                    "status": status,
                    "headers": kept,
                    "response": Binary(body),
                    "done_at": time.time(),
                }
            },
        )
        return status, kept, body

    async def _give_up(self, claim: tuple[str, float]) -> None:
        """Delete the claim so a retry runs again; if the database cannot, remember it."""
        try:
            await self._col.delete_one({"_id": claim[0], "at": claim[1]})
        except PyMongoError:
            self._unreleased.add(claim)

    async def _release_unreleased(self) -> None:
        """Delete the claims given up while the database was away (each only if it is still
        the same claim: one that expired meanwhile may have been claimed anew)."""
        for claim in list(self._unreleased):
            await self._col.delete_one({"_id": claim[0], "at": claim[1], "state": "in_flight"})
            self._unreleased.discard(claim)

    def _expired(self, doc: Document) -> bool:
        age = time.time() - float(doc["at"])
        if doc["state"] == "done":
            return age > self._ttl
        return age > self._abandon_after  # its request died without giving the key up

    async def _sweep(self) -> None:
        now = time.time()
        if now - self._last_sweep < _SWEEP_EVERY_S:
            return
        self._last_sweep = now
        await self._col.delete_many({"at": {"$lt": now - self._ttl}})
