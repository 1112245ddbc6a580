"""CORS for browser frontends on other origins, configured by `cors_origins`.

Preflights allow the headers writes need (`Authorization`, `If-Match`, `If-None-Match`,
`Idempotency-Key`, `Content-Type`) and answers expose the headers a frontend reads (`ETag`,
`Link`, `Location`, the rate-limit headers, `Retry-After`, `X-Request-ID`). A preflight from
an origin that is not allowed is a 403 problem document, like every other error.
"""

from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from service.problems import Forbidden

ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
]
EXPOSE_HEADERS = [
    "ETag",
    "Link",
    "Location",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "X-Request-ID",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


class Cors(CORSMiddleware):
    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=METHODS,
            allow_headers=ALLOW_HEADERS,
            expose_headers=EXPOSE_HEADERS,
            allow_credentials=False,  # keys travel in Authorization, never in cookies
            max_age=600,
        )

    def preflight_response(self, request_headers: object) -> Response:
        response = super().preflight_response(request_headers)  # type: ignore[arg-type]
        if response.status_code < 400:
            return response
        problem = Forbidden(f"CORS preflight refused: {bytes(response.body).decode()}.")
        refused = problem.response()
        for name in ("vary", "access-control-allow-methods", "access-control-max-age"):
            if name in response.headers:
                refused.headers[name] = response.headers[name]
        return refused
