"""API keys: random secrets shown once, stored only as SHA-256 hashes.

A secret has 256 bits of entropy, so a fast hash is enough: there is nothing to brute-force,
and verifying costs one indexed lookup, remembered for `cache_s` seconds so that a busy client
costs no database round trip per request. Revoking a key through this process takes effect at
once; another process notices within `cache_s`.

A key's name is the principal: the `owner` of the records it creates and the `by` of its
revisions. So a name is never given out twice: revoking a key keeps its document (with
`revoked_at` and a hash no secret can have), and a new key cannot take over the records of a
revoked one by reusing its name. Handing a principal's records to someone on purpose is a
rotation: `rotate` gives the name a new secret (revoked or not) and the old one stops working.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from service.auth.principal import Principal, Role
from service.clock import now_iso
from service.db import Document
from service.problems import Conflict

SECRET_PREFIX = "srt_"  # noqa: S105 (a marker, not a secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    name: str
    role: Role
    secret: str


class KeyStore:
    def __init__(self, db: AsyncDatabase[Document], cache_s: float = 0.0) -> None:
        self.col = db["keys"]
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def create_indexes(self) -> None:
        await self.col.create_index([("hash", ASCENDING)], unique=True)

    async def create(self, name: str, role: Role, secret: str | None = None) -> IssuedKey:
        secret = secret or new_secret()
        doc = {
            "_id": name,
            "role": role.value,
            "hash": hash_secret(secret),
            "created_at": now_iso(),
        }
        try:
            await self.col.insert_one(doc)
            self._cache.clear()
        except DuplicateKeyError:
            taken = await self.col.find_one({"_id": name}, projection={"revoked_at": 1})
            if taken is not None and taken.get("revoked_at"):
                raise Conflict(
                    f"The name {name!r} belonged to a key revoked at {taken['revoked_at']}; "
                    "names are never reused, so its records stay its own. To give them to "
                    f"someone on purpose, rotate it: POST /v1/keys/{name}/rotation."
                ) from None
            raise Conflict(f"A key named {name!r} already exists.") from None
        return IssuedKey(name, role, secret)

    async def ensure(self, name: str, role: Role, secret: str) -> None:
        """Make sure the key `name` has this secret and role (idempotent; bootstrap keys)."""
        current = await self.col.find_one({"_id": name, "hash": hash_secret(secret)})
        if current is None and not await self._set_secret(name, secret, role):
            await self.create(name, role, secret)

    async def rotate(self, name: str) -> IssuedKey | None:
        """A new secret for an existing name, revoked or not; the old secret stops at once.
        None when no key ever had this name."""
        secret = new_secret()
        doc = await self.col.find_one({"_id": name}, projection={"role": 1})
        if doc is None or not await self._set_secret(name, secret, Role(doc["role"])):
            return None
        return IssuedKey(name, Role(doc["role"]), secret)

    async def _set_secret(self, name: str, secret: str, role: Role) -> bool:
        self._cache.clear()
        result = await self.col.update_one(
            {"_id": name},
            {
                "$set": {"hash": hash_secret(secret), "role": role.value, "rotated_at": now_iso()},
                "$unset": {"revoked_at": ""},
            },
        )
        return result.matched_count == 1

    async def verify(self, secret: str) -> Principal | None:
        """The key's principal, looked up every time unless the deployment lets a process
        remember keys (`cache_s`), which delays revocations made by other processes."""
        digest = hash_secret(secret)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        doc = await self.col.find_one({"hash": digest}, projection={"role": 1})
        found = Principal(doc["_id"], Role(doc["role"])) if doc else None
        if self._cache_s <= 0:
            return found
        if len(self._cache) >= 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self._cache_s, found)
        return found

    async def list(self) -> list[Document]:
        return [
            {
                "name": d["_id"],
                "role": d["role"],
                "created_at": d["created_at"],
                "revoked_at": d.get("revoked_at"),
            }
            async for d in self.col.find({}, projection={"hash": 0}, sort=[("_id", ASCENDING)])
        ]

    async def revoke(self, name: str) -> bool:
        """Revokes an active key. Its document stays, so that the name stays taken; its hash
        becomes one that no secret hashes to (and stays unique for the index)."""
        self._cache.clear()
        result = await self.col.update_one(
            {"_id": name, "revoked_at": {"$exists": False}},
            {"$set": {"revoked_at": now_iso(), "hash": f"revoked:{secrets.token_hex(16)}"}},
        )
        return result.modified_count == 1


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)
