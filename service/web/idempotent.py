"""`Idempotency-Key` over HTTP: the header, its documented rules, and running a route's work
once per key (see `service/idempotency.py` for how a key is claimed and replayed)."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Header
from starlette.requests import Request
from starlette.responses import Response

from service.auth.principal import Principal
from service.idempotency import REPLAYED, Answer
from service.wiring import services_of

IDEMPOTENCY_RULES = (
    "`Idempotency-Key` (optional, up to 255 characters): a retry with the same key, the same "
    "key (principal) and the same body replays the first answer, status and body, with "
    "`Idempotent-Replayed: true`, and changes nothing. The same key with a different body "
    "is a 422; while the first request is still running, a duplicate is a 409 (retry after "
    "`Retry-After`). Keys are scoped to the caller's API key and the route, and kept at "
    "least 24 hours. Answers 5xx are not kept: a retry runs again."
)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Makes a retry safe: see the operation's description.",
    ),
]


async def respond(
    request: Request,
    principal: Principal,
    key: str | None,
    make: Callable[[], Awaitable[Response]],
) -> Response:
    """Run `make` once per idempotency key (or simply run it when there is no key)."""
    if key is None:
        return await make()
    store = services_of(request.app).idempotency

    async def handler() -> Answer:
        response = await make()
        return response.status_code, dict(response.headers), bytes(response.body)

    route = f"{request.method} {request.url.path}"
    (status, headers, body), replayed = await store.run(
        key, principal, route, await request.body(), handler
    )
    response = Response(body, status_code=status, headers=headers)
    if replayed:
        response.headers[REPLAYED] = "true"
    return response
