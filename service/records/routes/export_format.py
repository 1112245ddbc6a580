"""Export: every matching record, streamed as NDJSON or CSV in constant memory.

Records come from an async database cursor in batches and are written out as they arrive;
nothing holds the whole result. CSV rows are built from the column table in `csv_columns.py`:
one row per record, or one per funding item (`rows=funding`). Lists are joined with `;`,
numbers stay numbers, booleans are `true`/`false`, missing values are empty, and text a
spreadsheet would run as a formula is defused.
"""

import csv
import io
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, Literal

import orjson

from service.db import Document
from service.records.routes.csv_columns import COLUMNS, FUNDING_COLUMNS

Format = Literal["ndjson", "csv"]
Rows = Literal["records", "funding"]
MEDIA_TYPES: dict[str, str] = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
#: What spreadsheet programs look for to read a CSV file as UTF-8 rather than a local code page.
BOM = "\ufeff".encode()
_ROWS_PER_CHUNK = 200


def text(value: Any) -> Any:
    """One value as a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return _defuse(";".join(str(text(v)) for v in value))
    if isinstance(value, dict):
        return _defuse(orjson.dumps(value).decode())
    return _defuse(value) if isinstance(value, str) else value


def _defuse(cell: str) -> str:
    """Text a spreadsheet would run as a formula is prefixed with `'` (OWASP CSV injection)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def record_rows(record: Document, names: Sequence[str]) -> Iterator[list[Any]]:
    yield [text(COLUMNS[name].get(record)) for name in names]


def funding_rows(record: Document, names: Sequence[str]) -> Iterator[list[Any]]:
    for number, item in enumerate(record.get("funding") or [], start=1):
        yield [text(FUNDING_COLUMNS[name].get(record, item, number)) for name in names]


def chosen(names: Iterable[str], rows: Rows, fields: Iterable[str] | None) -> list[str]:
    """The columns to write: all of `names`, or those whose source `fields` selects."""
    table: dict[str, Any] = FUNDING_COLUMNS if rows == "funding" else COLUMNS
    if fields is None:
        return list(names)
    keep = {"id", "version", "funding" if rows == "funding" else "id", *fields}
    return [n for n in names if table[n].source in keep]


async def ndjson_lines(records: AsyncIterator[Document]) -> AsyncIterator[bytes]:
    async for record in records:
        yield orjson.dumps(record) + b"\n"


async def csv_lines(
    records: AsyncIterator[Document],
    columns: Iterable[str],
    rows: Rows = "records",
    bom: bool = False,
) -> AsyncIterator[bytes]:
    names = list(columns)
    make_rows = funding_rows if rows == "funding" else record_rows
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    prefix, written = (BOM if bom else b""), 0
    async for record in records:
        for row in make_rows(record, names):
            writer.writerow(row)
            written += 1
            if written % _ROWS_PER_CHUNK == 0:
                yield prefix + buffer.getvalue().encode()
                prefix = b""
                buffer.seek(0)
                buffer.truncate()
    yield prefix + buffer.getvalue().encode()
