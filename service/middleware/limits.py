"""Request limits, enforced before routing and before the database sees anything.

* URLs longer than `MAX_URL_BYTES` (path and query) are a 414, well below the HTTP server's
  own limits (h11 refuses a request head over 16 KiB, httptools a URL over about 64 KiB, both
  with a plain-text 400 the app never sees), so a long URL gets a problem document.
* Query strings: parameter names with `$`, `[`, `]` or `.` (operator or bracket syntax such
  as `kind[$ne]=x`), and values that look like operators (`$ne`), hold NUL, or are not UTF-8,
  are a 422.
* Bodies: a content type other than JSON is a 415. A body larger than the limit (one for
  `/bulk` paths, one for everything else) is a 413, decided from `Content-Length` when it is
  sent and otherwise while the body is still arriving, so an oversized body is never buffered
  whole. What arrives is checked by `strict_json` and then replayed to the app unchanged.
"""

import re
from urllib.parse import unquote_to_bytes

from service.middleware.asgi import ASGIApp, Message, Receive, Scope, Send, answer, header
from service.middleware.strict_json import JsonLimits, check
from service.problems import Invalid, Problem

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


class RequestLimits:
    def __init__(
        self, app: ASGIApp, *, max_body: int, max_bulk_body: int, json_limits: JsonLimits
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_bulk_body = max_bulk_body
        self.json_limits = json_limits

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
        limit = self.max_bulk_body if scope["path"].endswith("/bulk") else self.max_body
        too_large = PayloadTooLarge(f"The body is larger than {limit} bytes.", limit=limit)
        if length is not None and length.strip().isdigit() and int(length) > limit:
            return await answer(too_large, scope, receive, send)
        if not is_json(header(scope, b"content-type")):
            problem = UnsupportedMediaType(
                "Send JSON: Content-Type application/json (or application/merge-patch+json)."
            )
            return await answer(problem, scope, receive, send)

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await answer(too_large, scope, receive, send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if problem := check(body, self.json_limits):
            return await answer(problem, scope, receive, send)

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
