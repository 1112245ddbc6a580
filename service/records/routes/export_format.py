"""Export: every matching record, streamed as NDJSON or CSV in constant memory.

Records come from an async database cursor in batches and are written out as they arrive;
nothing holds the whole result. CSV flattens each record to the resource's declared columns:
lists are joined with `;` (countries by code, organisations by name, sources by URL), numbers
stay numbers, booleans are `true`/`false`, missing values are empty.
"""

import csv
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from service.db import Document

MEDIA_TYPES: dict[str, str] = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
_ROWS_PER_CHUNK = 200


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        for name in ("code", "name", "url", "value"):
            if name in value:
                return value[name]
        return orjson.dumps(value).decode()
    return value


def cell(record: Document, path: str) -> Any:
    """The value at a dotted path, flattened to one CSV cell."""
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, list):
        return _defuse(";".join(str(_scalar(v)) for v in value))
    value = _scalar(value)
    return _defuse(value) if isinstance(value, str) else value


def _defuse(text: str) -> str:
    """Text a spreadsheet would run as a formula is prefixed with `'` (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def ndjson_lines(records: AsyncIterator[Document]) -> AsyncIterator[bytes]:
    async for record in records:
        yield orjson.dumps(record) + b"\n"


async def csv_lines(
    records: AsyncIterator[Document], columns: Iterable[str]
) -> AsyncIterator[bytes]:
    names = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    rows = 0
    async for record in records:
        writer.writerow([cell(record, name) for name in names])
        rows += 1
        if rows % _ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
