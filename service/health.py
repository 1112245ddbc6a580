"""Liveness and readiness for orchestrators."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from service.db import ping
from service.problems import Unavailable
from service.records.http import JSONBytes

router = APIRouter(tags=["health"])


@router.get("/livez", operation_id="livez", summary="The process is up")
async def livez() -> Response:
    return JSONBytes({"status": "ok"})


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="The database is reachable",
    responses={503: {"description": "The database is unreachable."}},
)
async def readyz(request: Request) -> Response:
    if not await ping(request.app.state.db):
        raise Unavailable("The database is unreachable.")
    return JSONBytes({"status": "ok"})
