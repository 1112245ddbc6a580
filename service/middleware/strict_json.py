"""A strict JSON reader for request bodies: refuses what MongoDB or the models must never see.

It runs once per body before FastAPI parses it, and refuses with a problem document:
malformed JSON or bytes that are not UTF-8 (400); duplicate keys, keys that start with `$` or
contain `.` or NUL, NaN/Infinity, integers outside int64, floats that overflow, NUL or lone
surrogates in strings, and nesting, arrays, objects, strings or a count of arrays and objects
past the published limits (422).
"""

import json
import math
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from service.problems import Invalid, Problem, pointer

INT64 = 2**63
#: Bodies up to this size are checked on the event loop: well under a millisecond.
INLINE_BYTES = 32 * 1024


@dataclass(frozen=True, slots=True)
class JsonLimits:
    max_depth: int = 32
    max_array_items: int = 10_000
    max_object_keys: int = 1_000
    max_string_chars: int = 100_000
    #: Arrays and objects in one body, counted as its `[` and `{` bytes before parsing (an
    #: upper bound: brackets inside strings count too). Building millions of tiny containers
    #: holds the interpreter lock for seconds, even in a worker thread, so such a body is
    #: refused before the parser sees it; a bulk of 1,000 full records holds about 40,000.
    max_containers: int = 200_000


class _Refused(Exception):
    def __init__(self, where: list[str | int], detail: str) -> None:
        super().__init__(detail)
        self.where = where
        self.detail = detail


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused([], f"duplicate key {key[:50]!r}")
            seen.add(key)
    return out


def _constant(name: str) -> Any:
    raise _Refused([], f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused([], f"number {text[:40]} is out of range")
    return value


def _int(text: str) -> int:
    if len(text) > 20:
        raise _Refused([], f"integer {text[:40]}... is out of range")
    value = int(text)
    if not -INT64 <= value < INT64:
        raise _Refused([], f"integer {text} is out of range (64-bit)")
    return value


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "contains NUL"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone surrogate"
    return None


def _walk(value: Any, limits: JsonLimits) -> None:
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        node, where = stack.pop()
        if len(where) > limits.max_depth:
            raise _Refused(where, f"nesting deeper than {limits.max_depth} levels")
        if isinstance(node, str):
            if len(node) > limits.max_string_chars:
                raise _Refused(where, f"string longer than {limits.max_string_chars} characters")
            if problem := _bad_text(node):
                raise _Refused(where, f"string {problem}")
        elif isinstance(node, dict):
            if len(node) > limits.max_object_keys:
                raise _Refused(where, f"object with more than {limits.max_object_keys} keys")
            for key, item in node.items():
                if key.startswith("$") or "." in key:
                    raise _Refused(where, f"key {key[:50]!r} may not start with $ or contain .")
                if problem := _bad_text(key):
                    raise _Refused(where, f"key {problem}")
                if isinstance(item, dict | list | str):
                    stack.append((item, [*where, key]))
        elif isinstance(node, list):
            if len(node) > limits.max_array_items:
                raise _Refused(where, f"array longer than {limits.max_array_items} items")
            stack.extend((item, [*where, i]) for i, item in enumerate(node))


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome of `check`: the parsed value, or the problem to answer with."""

    value: Any = None
    problem: Problem | None = None


def check(body: bytes, limits: JsonLimits) -> Checked:
    """Parse the body strictly; CPU-bound, so large bodies go through `check_off_loop`."""
    if body.count(b"[") + body.count(b"{") > limits.max_containers:
        return Checked(
            problem=Invalid(
                "The request body holds a value this service refuses.",
                slug="hostile-json",
                errors=[
                    {
                        "pointer": "",
                        "detail": f"more than {limits.max_containers} arrays and objects",
                    }
                ],
            )
        )
    try:
        value = json.loads(
            body.decode("utf-8"),
            object_pairs_hook=_pairs,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_int,
        )
        _walk(value, limits)
    except _Refused as refused:
        return Checked(
            problem=Invalid(
                "The request body holds a value this service refuses.",
                slug="hostile-json",
                errors=[{"pointer": pointer(refused.where), "detail": refused.detail}],
            )
        )
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        detail = "nesting too deep" if isinstance(exc, RecursionError) else str(exc)[:200]
        return Checked(
            problem=Problem(f"The request body is not valid JSON: {detail}.", slug="malformed-json")
        )
    return Checked(value)


async def check_off_loop(body: bytes, limits: JsonLimits) -> Checked:
    """`check`, in a worker thread when the body is large enough to stall the event loop
    (a small body costs less than the hop to a thread)."""
    if len(body) <= INLINE_BYTES:
        return check(body, limits)
    return await run_in_threadpool(check, body, limits)
