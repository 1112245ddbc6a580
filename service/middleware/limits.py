"""Request limits, enforced before routing and before the database sees anything.

* URLs longer than `MAX_URL_BYTES` (path and query) are a 414, well below the HTTP server's
  own limits (h11 refuses a request head over 16 KiB, httptools a URL over about 64 KiB, both
  with a plain-text 400 the app never sees), so a long URL gets a problem document.
* Query strings: parameter names with `$`, `[`, `]` or `.` (operator or bracket syntax such
  as `kind[$ne]=x`), and values that look like operators (`$ne`), hold NUL, or are not UTF-8,
  are a 422.
* Bodies are read only once the caller may send them: a route that writes (or needs an
  admin) answers 401 or 403 from the `Authorization` header alone, before a byte of the body
  is read, so anonymous callers cannot make the service read or parse anything large.
* A content type other than JSON is a 415. A body larger than the limit is a 413, decided
  from `Content-Length` when it is sent and otherwise while the body is still arriving, so an
  oversized body is never buffered whole. The large limit is for the bulk routes only
  (`POST /v1/{collection}/bulk`), whose callers have passed their role check; every other
  body has the small one.
* What arrives is checked by `strict_json` (in a worker thread when it is large, so the event
  loop keeps answering other clients), replayed to the app unchanged, and its parsed value is
  left for the routes (`web.parsed_body`) so that it is not parsed again on the event loop.
"""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path

from service.auth.access import access_of
from service.auth.deps import admin, identify_once, writer
from service.middleware.asgi import ASGIApp, Message, Receive, Scope, Send, answer, header, state
from service.middleware.strict_json import JsonLimits, check_off_loop
from service.problems import Invalid, Problem
from service.web.parsed_body import PARSED_BODY

#: The name of the bulk upsert routes (`records.routes.bulk`): the only ones with the large limit.
BULK_ROUTE = "bulk_upsert"
_CHECKS = {"write": writer, "admin": admin}

_BAD_NAME = re.compile(r"[$\[\].\x00]")
_OPERATOR = re.compile(r"^\s*\$[A-Za-z]")
#: Parameters whose values are text a person typed: `$where` there is a word, not an operator.
FREE_TEXT = frozenset({"q"})


class PayloadTooLarge(Problem):
    status, slug = 413, "payload-too-large"


class UriTooLong(Problem):
    status, slug = 414, "uri-too-long"


#: 8 KiB: leaves the rest of h11's 16 KiB request head to the headers; a filter list of every
#: country code is about 1.2 KiB, so no query of this API needs more.
MAX_URL_BYTES = 8 * 1024


def url_problem(scope: Scope) -> Problem | None:
    """A 414 for a URL longer than `MAX_URL_BYTES`, or None."""
    size = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
    if size <= MAX_URL_BYTES:
        return None
    return UriTooLong(
        f"The URL is {size} bytes long; this service takes at most {MAX_URL_BYTES}.",
        limit=MAX_URL_BYTES,
    )


class UnsupportedMediaType(Problem):
    status, slug = 415, "unsupported-media-type"


def is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def query_problem(raw: bytes) -> Problem | None:
    """A 422 for hostile query parameters, or None."""
    errors = []
    for part in raw.split(b"&"):
        if not part:
            continue
        name_raw, _, value_raw = part.partition(b"=")
        try:
            name = unquote_to_bytes(name_raw.replace(b"+", b" ")).decode("utf-8")
            value = unquote_to_bytes(value_raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            errors.append({"parameter": "?", "in": "query", "detail": "not UTF-8"})
            continue
        shown = name[:50].replace("\x00", "\\0")
        if _BAD_NAME.search(name):
            detail = "operator or bracket syntax is not accepted in parameter names"
            errors.append({"parameter": shown, "in": "query", "detail": detail})
        elif "\x00" in value:
            errors.append({"parameter": shown, "in": "query", "detail": "value contains NUL"})
        elif name not in FREE_TEXT and _OPERATOR.match(value):
            detail = "values may not be query operators"
            errors.append({"parameter": shown, "in": "query", "detail": detail})
    if errors:
        brackets = any(e["detail"].startswith("operator or bracket") for e in errors)
        detail = (
            "Bracket syntax such as `country[$ne]=x` is not part of this API: filters take "
            "plain values, comma-separated for any-of."
            if brackets
            else "The query string holds parameters this service refuses."
        )
        return Invalid(detail, errors=errors)
    return None


@dataclass(frozen=True, slots=True)
class Gate:
    """What one API route asks of a caller before its body is read."""

    methods: frozenset[str]
    path: re.Pattern[str]
    access: str  # `public`, `read`, `write` or `admin` (`auth.access`)
    bulk: bool


def gates_of(app: Any) -> list[Gate]:
    """Every API route of the app, in routing order, with its full path and access level."""
    gates = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path_format:
            gates.append(
                Gate(
                    methods=frozenset(route.methods or ()),
                    path=compile_path(context.path_format)[0],
                    access=access_of(route),
                    bulk=route.name == BULK_ROUTE,
                )
            )
    return gates


class RequestLimits:
    def __init__(
        self, app: ASGIApp, *, max_body: int, max_bulk_body: int, json_limits: JsonLimits
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_bulk_body = max_bulk_body
        self.json_limits = json_limits
        self._gates: list[Gate] | None = None

    def _gate(self, scope: Scope) -> Gate | None:
        """The gate of the route that will answer (None: the router will say 404 or 405)."""
        if self._gates is None:
            self._gates = gates_of(scope["app"])
        method, path = scope["method"], scope["path"]
        return next((g for g in self._gates if method in g.methods and g.path.match(path)), None)

    async def _admit(self, scope: Scope) -> int | Problem:
        """The body limit for this caller on this route, or the 401/403 it gets at once.

        A route that writes or needs an admin checks the key from the header (one cached
        lookup) before its body is read. When the key cannot be checked (the database is
        down) the small limit applies and the route gives the error.
        """
        gate = self._gate(scope)
        needs = _CHECKS.get(gate.access) if gate else None
        if gate is None or needs is None:
            return self.max_body
        who = await identify_once(scope)
        error = state(scope).get("auth_error")
        if isinstance(error, Problem):
            return error
        if who is None:
            return self.max_body
        try:
            await needs(who)
        except Problem as refused:
            return refused
        return self.max_bulk_body if gate.bulk else self.max_body

    @staticmethod
    async def _read(receive: Receive, limit: int, too_large: Problem) -> bytes | Problem | None:
        """The whole body; `too_large` once past `limit`; None when the client went away."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if problem := url_problem(scope):
            return await answer(problem, scope, receive, send)
        if scope["query_string"] and (problem := query_problem(scope["query_string"])):
            return await answer(problem, scope, receive, send)
        length = header(scope, b"content-length")
        chunked = header(scope, b"transfer-encoding") is not None
        if not chunked and (length is None or length.strip() == "0"):
            return await self.app(scope, receive, send)  # no body: nothing to check
        limit = await self._admit(scope)
        if isinstance(limit, Problem):
            return await answer(limit, scope, receive, send)
        too_large = PayloadTooLarge(f"The body is larger than {limit} bytes.", limit=limit)
        if length is not None and length.strip().isdigit() and int(length) > limit:
            return await answer(too_large, scope, receive, send)
        if not is_json(header(scope, b"content-type")):
            problem = UnsupportedMediaType(
                "Send JSON: Content-Type application/json (or application/merge-patch+json)."
            )
            return await answer(problem, scope, receive, send)

        body = await self._read(receive, limit, too_large)
        if body is None:
            return  # the client went away
        if isinstance(body, Problem):
            return await answer(body, scope, receive, send)
        checked = await check_off_loop(body, self.json_limits)
        if checked.problem:
            return await answer(checked.problem, scope, receive, send)
        state(scope)[PARSED_BODY] = checked.value
        await self.app(scope, self._replay(body, receive), send)

    @staticmethod
    def _replay(body: bytes, receive: Receive) -> Receive:
        """A `receive` that gives the app the body once, then the client's own messages."""
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay
