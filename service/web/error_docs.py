"""OpenAPI descriptions of the error answers, so every operation documents its problems."""

from typing import Any

from service.problems import PROBLEM_JSON, ProblemDoc

_WHY = {
    304: "Not modified: the `If-None-Match` ETag is current.",
    400: "The body is not well-formed JSON (or not UTF-8).",
    401: "No API key, or a bad one (`WWW-Authenticate: Bearer`).",
    403: "The key's role may not do this.",
    404: "No such record or route.",
    409: "A request with the same `Idempotency-Key` is still in flight.",
    410: "The record was deleted (a tombstone remains).",
    412: "`If-Match` names a version that is no longer current, or `If-None-Match: *` "
    "found an existing record.",
    413: "The body is larger than the published limit.",
    414: "The URL (path and query) is longer than 8 KiB.",
    415: "The body is not JSON (`Content-Type` must be `application/json` or `+json`).",
    422: "Validation failed (body, path, header or an unknown query parameter), or the body "
    "or query holds a refused value (a `$` or dotted key, duplicate keys, NaN, a number out "
    "of range, NUL, a lone surrogate, a limit exceeded): `errors` lists each failure with a "
    "JSON pointer or the parameter.",
    429: "Rate limit exceeded; see `Retry-After` and the `RateLimit` header.",
    503: "The database is unreachable; retry after `Retry-After` seconds.",
}


def _example(status: int) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": f"https://silkroadtracker.dev/problems/{status}",
        "title": "Error",
        "status": status,
        "detail": _WHY[status],
    }
    if status == 422:
        doc["errors"] = [{"pointer": "/countries/0/code", "detail": "'XXX' is not an ISO code"}]
    return doc


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Response entries for the given statuses, and 414: any URL can be too long."""
    codes = sorted({*statuses, 414})
    return {
        code: {
            "description": _WHY[code],
            "model": ProblemDoc,
            "content": {PROBLEM_JSON: {"example": _example(code)}},
        }
        for code in codes
    }
