"""API keys: random secrets shown once, stored only as SHA-256 hashes.

A secret has 256 bits of entropy, so a fast hash is enough: there is nothing to brute-force,
and verifying costs one indexed lookup, remembered for `cache_s` seconds so that a busy client
costs no database round trip per request. Revoking a key through this process takes effect at
once; another process notices within `cache_s`.
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
        secret = secret or SECRET_PREFIX + secrets.token_urlsafe(32)
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
            raise Conflict(f"A key named {name!r} already exists.") from None
        return IssuedKey(name, role, secret)

    async def ensure(self, name: str, role: Role, secret: str) -> None:
        """Make sure a key with this secret exists (idempotent; used for bootstrap keys)."""
        if await self.col.find_one({"hash": hash_secret(secret)}) is None:
            await self.col.delete_one({"_id": name})
            await self.create(name, role, secret)

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
            {"name": d["_id"], "role": d["role"], "created_at": d["created_at"]}
            async for d in self.col.find({}, projection={"hash": 0}, sort=[("_id", ASCENDING)])
        ]

    async def revoke(self, name: str) -> bool:
        self._cache.clear()
        return (await self.col.delete_one({"_id": name})).deleted_count == 1
