"""The raw twin: the same queries with the same driver, and nothing else.

A minimal Starlette app served by the same uvicorn as the service. It runs exactly the query
the service's repository runs and writes the same JSON bytes (orjson, the same `public()`
shape, the same signed `next` cursor when `CURSOR_SECRET` matches), but has no validation,
no auth, no dependency injection, no middleware and no error handling. The service's speed
divided by the twin's is what our framework and code cost on top of the database.

`/bare/livez` is the floor: a Starlette endpoint that answers constant bytes.

Run: `uvicorn --factory bench.twin:create_app` with MONGODB_URI, DATABASE, CURSOR_SECRET.
"""

import base64
import hashlib
import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def public(doc: dict[str, Any]) -> dict[str, Any]:
    out = {"id": doc["_id"]}
    out.update((k, v) for k, v in doc.items() if k[0] != "_")
    return out


def create_app() -> Starlette:
    uri = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")
    database = os.environ.get("DATABASE", "silkroad")
    key = os.environ.get("CURSOR_SECRET", "bench").encode()
    state: dict[str, Any] = {}

    def sign(payload: Any) -> str:
        data = base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")
        mac = hmac.new(key, data.encode(), hashlib.sha256).digest()[:12]
        return f"{data}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The same client options as service/db.py, timeouts included.
        t = int(os.environ.get("DB_TIMEOUT_MS", "1500"))
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            uri,
            serverSelectionTimeoutMS=t,
            connectTimeoutMS=t,
            socketTimeoutMS=max(t * 2, 3000),
            maxPoolSize=int(os.environ.get("DB_POOL_SIZE", "50")),
            retryWrites=True,
            tz_aware=True,
            connect=False,
        )
        state["db"] = client[database]
        yield
        await client.close()

    async def get_one(request: Request) -> Response:
        col = state["db"][request.path_params["collection"]]
        doc = await col.find_one({"_id": request.path_params["id"]})
        if doc is None or doc["_deleted"]:
            return Response(status_code=404)
        headers = {"ETag": f'"{doc["version"]}"'}
        return Response(orjson.dumps(public(doc)), media_type="application/json", headers=headers)

    async def list_page(request: Request) -> Response:
        col = state["db"][request.path_params["collection"]]
        limit = int(request.query_params.get("limit", "25"))
        found = col.find({"_deleted": False}, projection={"_terms": 0})
        docs = await found.sort("_seq", -1).limit(limit + 1).to_list()
        more = len(docs) > limit
        docs = docs[:limit]
        body = {
            "data": [public(d) for d in docs],
            "next": sign({"s": docs[-1]["_seq"]}) if more else None,
        }
        return Response(orjson.dumps(body), media_type="application/json")

    async def bare_livez(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/bare/livez", bare_livez),
            Route("/raw/{collection:str}", list_page),
            Route("/raw/{collection:str}/{id:str}", get_one),
        ],
        lifespan=lifespan,
    )
