"""Liveness and readiness for orchestrators."""

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from service.db import ping
from service.problems import Unavailable
from service.web import answers
from service.web.error_docs import error_responses
from service.web.json_response import JSONBytes
from service.wiring import Wired

router = APIRouter(tags=["health"])


@router.get(
    "/livez", operation_id="livez", summary="The process is up", response_model=answers.Status
)
async def livez() -> Response:
    return JSONBytes({"status": "ok"})


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="The database is reachable",
    response_model=answers.Status,
    responses=error_responses(503),
)
async def readyz(services: Wired) -> Response:
    if not await ping(services.db):
        services.metrics.db_errors.labels("ping").inc()
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
async def metrics(services: Wired) -> Response:
    body = generate_latest(services.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
