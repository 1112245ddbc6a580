"""API keys: random secrets shown once, stored only as SHA-256 hashes.

A secret has 256 bits of entropy, so a fast hash is enough: there is nothing to brute-force,
and verifying costs one indexed lookup per request.
"""

import hashlib
import secrets
from dataclasses import dataclass

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from service.auth.principal import Principal, Role
from service.db import Document
from service.problems import Conflict
from service.records.repository import now_iso

SECRET_PREFIX = "srt_"  # noqa: S105 (a marker, not a secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    name: str
    role: Role
    secret: str


class KeyStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db["keys"]

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
        except DuplicateKeyError:
            raise Conflict(f"A key named {name!r} already exists.") from None
        return IssuedKey(name, role, secret)

    async def ensure(self, name: str, role: Role, secret: str) -> None:
        """Make sure a key with this secret exists (idempotent; used for bootstrap keys)."""
        if await self.col.find_one({"hash": hash_secret(secret)}) is None:
            await self.col.delete_one({"_id": name})
            await self.create(name, role, secret)

    async def verify(self, secret: str) -> Principal | None:
        doc = await self.col.find_one({"hash": hash_secret(secret)}, projection={"role": 1})
        return Principal(doc["_id"], Role(doc["role"])) if doc else None

    async def list(self) -> list[Document]:
        return [
            {"name": d["_id"], "role": d["role"], "created_at": d["created_at"]}
            async for d in self.col.find({}, projection={"hash": 0}, sort=[("_id", ASCENDING)])
        ]

    async def revoke(self, name: str) -> bool:
        return (await self.col.delete_one({"_id": name})).deleted_count == 1
