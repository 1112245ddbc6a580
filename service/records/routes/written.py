"""How a write answers: 201 with `Location` when it created the record, the `ETag` always."""

from starlette.responses import Response

from service.records.routes.preconditions import etag
from service.records.storage.repository import Written
from service.web.json_response import JSONBytes


def answer(written: Written, base: str, status: int | None = None) -> Response:
    record = written.record
    headers = {"ETag": etag(written.version)}
    if written.status == "created":
        headers["Location"] = f"{base}/{record['id']}"
    code = status or (201 if written.status == "created" else 200)
    return JSONBytes(record, status_code=code, headers=headers)
