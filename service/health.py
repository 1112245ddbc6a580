"""Liveness and readiness for orchestrators."""

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from service.db import ping
from service.problems import Unavailable
from service.records.http import JSONBytes
from service.records.responses import error_responses

router = APIRouter(tags=["health"])


@router.get("/livez", operation_id="livez", summary="The process is up")
async def livez() -> Response:
    return JSONBytes({"status": "ok"})


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="The database is reachable",
    responses=error_responses(503),
)
async def readyz(request: Request) -> Response:
    if not await ping(request.app.state.db):
        request.app.state.metrics.db_errors.labels("ping").inc()
        raise Unavailable("The database is unreachable.")
    return JSONBytes({"status": "ok"})


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics of this process",
    description="Request counts and latency histograms per route template, and database "
    "errors. Each process serves its own; scrape every instance.",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    body = generate_latest(request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
