"""CORS for browser frontends on other origins, configured by `cors_origins`.

Preflights allow the headers writes need (`Authorization`, `If-Match`, `If-None-Match`,
`Idempotency-Key`, `Content-Type`) and answers expose the headers a frontend reads (`ETag`,
`Link`, `Location`, the rate-limit headers, `Retry-After`, `X-Request-ID`). A preflight from
an origin that is not allowed is a 403 problem document, like every other error.

Allowed origins are the configured ones (`CORS_ORIGINS`, listed one by one for production)
and, when the service listens on a loopback address, any loopback origin on any port
(`http://localhost:5173`, `http://127.0.0.1:3000`, `http://[::1]:8080`): a frontend in
development then meets no 403, while a service reachable from other machines still allows
only what it lists. Keys travel in `Authorization`, never in cookies, so an allowed origin
gains no credentials it did not already hold.
"""

import ipaddress

from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from service.problems import Forbidden
from service.settings import Settings

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
#: Any port of localhost, 127.0.0.1 or ::1, over http or https.
LOOPBACK_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"


def is_loopback(host: str) -> bool:
    """Whether a listening address (`HOST`) is reachable from this machine only."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Cors(CORSMiddleware):
    def __init__(self, app: ASGIApp, *, origins: list[str], loopback: bool = False) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_origin_regex=LOOPBACK_ORIGINS if loopback else None,
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


def allows_loopback(settings: Settings) -> bool:
    """`CORS_LOOPBACK` when set, else whether the service listens on loopback (`HOST`)."""
    if settings.cors_loopback is not None:
        return settings.cors_loopback
    return is_loopback(settings.host)
