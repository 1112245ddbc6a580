"""Export: every matching record, streamed as NDJSON or CSV in constant memory.

Records come from an async database cursor in batches and are written out as they arrive;
nothing holds the whole result. CSV rows are built from the column table in `csv_columns.py`:
one row per record, or one per funding item (`rows=funding`). Lists are joined with `;`,
numbers stay numbers, booleans are `true`/`false`, missing values are empty, and text a
spreadsheet would run as a formula is defused.
"""

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

import orjson

from service.db import Document
from service.records.routes.csv_columns import COLUMNS, FUNDING_COLUMNS, headline

Format = Literal["ndjson", "csv"]
Rows = Literal["records", "funding"]
MEDIA_TYPES: dict[str, str] = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
#: What spreadsheet programs look for to read a CSV file as UTF-8 rather than a local code page.
BOM = "\ufeff".encode()
_ROWS_PER_CHUNK = 200


#: First characters that make a spreadsheet run a cell as a formula (OWASP CSV injection).
_FORMULA = frozenset("=+-@\t\r")


def text(value: Any) -> Any:
    """One value as a CSV cell. Called for every cell of every row, so it tests the common
    types first."""
    kind = type(value)
    if kind is str:
        return "'" + value if value and value[0] in _FORMULA else value
    if kind is int or kind is float:
        return value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is list:
        return text(";".join(v if type(v) is str else str(text(v)) for v in value))
    return text(orjson.dumps(value).decode())


def record_rows(names: Sequence[str]) -> Callable[[Document], Iterator[list[Any]]]:
    """The rows of one record: one, with the named columns."""
    columns = [COLUMNS[name] for name in names]
    getters = [(c.get, c.of_headline) for c in columns]
    needs_headline = any(c.of_headline for c in columns)

    def rows(record: Document) -> Iterator[list[Any]]:
        item = (headline(record) or {}) if needs_headline else {}
        yield [text(get(item if on_item else record)) for get, on_item in getters]

    return rows


def funding_rows(names: Sequence[str]) -> Callable[[Document], Iterator[list[Any]]]:
    """The rows of one record: one per funding item, with the named columns."""
    getters = [FUNDING_COLUMNS[name].get for name in names]

    def rows(record: Document) -> Iterator[list[Any]]:
        for number, item in enumerate(record.get("funding") or [], start=1):
            yield [text(get(record, item, number)) for get in getters]

    return rows


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
    rows_of = (funding_rows if rows == "funding" else record_rows)(names)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    prefix, written = (BOM if bom else b""), 0
    async for record in records:
        for row in rows_of(record):
            writer.writerow(row)
            written += 1
            if written % _ROWS_PER_CHUNK == 0:
                yield prefix + buffer.getvalue().encode()
                prefix = b""
                buffer.seek(0)
                buffer.truncate()
    yield prefix + buffer.getvalue().encode()
