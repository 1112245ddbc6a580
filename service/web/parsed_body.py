"""A route class that reuses the JSON body the request limits already parsed.

`RequestLimits` parses every JSON body strictly, large ones in a worker thread, and leaves
the value in the request state. FastAPI would parse the same bytes again, on the event loop;
routes of this class hand it the parsed value instead.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

#: Where `RequestLimits` leaves the parsed body in the request state.
PARSED_BODY = "parsed_body"


class _ParsedBodyRequest(Request):
    async def json(self) -> Any:
        known = self.scope.get("state", {})
        if PARSED_BODY in known:
            return known[PARSED_BODY]
        return await super().json()


class ParsedBodyRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def reuse_parsed_body(request: Request) -> Response:
            return await handler(_ParsedBodyRequest(request.scope, request.receive))

        return reuse_parsed_body
