"""Item routes: get, create or replace, merge-patch and delete one record by id."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path
from starlette.convertors import StringConvertor, register_url_convertor
from starlette.responses import Response

from service.auth.deps import Reader, Writer
from service.records.merge_patch import merge_patch
from service.records.model import RESERVED_IDS, RecordId
from service.records.resource import Resource
from service.records.routes import examples
from service.records.routes.openapi_docs import ALWAYS, BODY, links_to_record
from service.records.routes.preconditions import IfMatch, etag, matches_any, parse_version_tag
from service.records.routes.repository_dep import repository_for
from service.records.routes.written import answer
from service.records.storage.repository import Repository
from service.web.error_docs import error_responses
from service.web.json_response import JSONBytes
from service.web.parsed_body import ParsedBodyRoute

IdPath = Annotated[RecordId, Path(description="The record's id (a slug).")]


class _RecordIdConvertor(StringConvertor):
    """A path segment that is not a reserved name: `/bulk` is never routed to an item route,
    so a wrong method on it is a 405 whose `Allow` names only what the path serves."""

    regex = "(?!(?:" + "|".join(sorted(RESERVED_IDS)) + ")(?![^/]))[^/]+"


register_url_convertor("record_id", _RecordIdConvertor())
#: The item path: routed only for segments that can be a record id.
ITEM_PATH = "/{record_id:record_id}"


def item_router(resource: Resource) -> APIRouter:
    name, one = resource.name, resource.singular
    Fields = resource.fields_model
    Record = resource.record_model
    router = APIRouter(prefix=f"/v1/{name}", tags=[name], route_class=ParsedBodyRoute)
    record_examples = examples.body_examples(resource)
    base = f"/v1/{name}"
    Repo = Annotated[Repository, Depends(repository_for(resource))]

    @router.get(
        ITEM_PATH,
        operation_id=f"get_{one}",
        summary=f"Get a {one}",
        description="`ETag` carries the version; `If-None-Match` with it answers 304. "
        "A deleted record answers 410.",
        response_model=Record,
        responses={304: {"description": "Not modified."}, **error_responses(404, 410, *ALWAYS)},
    )
    async def get(
        record_id: IdPath,
        repository: Repo,
        _: Reader,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        record = await repository.get(record_id)
        tag = etag(record["version"])
        if matches_any(if_none_match, record["version"]):
            return Response(status_code=304, headers={"ETag": tag})
        return JSONBytes(record, headers={"ETag": tag})

    @router.put(
        ITEM_PATH,
        operation_id=f"put_{one}",
        summary=f"Create or replace a {one}",
        description="201 when created, 200 when replaced or unchanged (a write that changes "
        "nothing makes no new version). `If-Match` pins the version replaced; "
        "`If-None-Match: *` makes the PUT create-only.",
        response_model=Record,
        responses={
            200: {"description": "Replaced or unchanged.", "links": links_to_record(one)},
            201: {"description": "Created.", "model": Record, "links": links_to_record(one)},
            **error_responses(403, 412, *BODY, *ALWAYS),
        },
    )
    async def put(
        record_id: IdPath,
        record: Annotated[Fields, Body(openapi_examples=record_examples)],  # type: ignore[valid-type]
        repository: Repo,
        who: Writer,
        if_match: IfMatch = None,
        if_none_match: Annotated[
            str | None, Header(description="`*`: create only, 412 if it exists.")
        ] = None,
    ) -> Response:
        written = await repository.put(
            record_id,
            record,
            who,
            if_match=parse_version_tag(if_match, "If-Match"),
            create_only=(if_none_match or "").strip() == "*",
        )
        return answer(written, base)

    @router.patch(
        ITEM_PATH,
        operation_id=f"patch_{one}",
        summary=f"Update part of a {one} (JSON Merge Patch)",
        description="RFC 7396: objects merge, `null` removes a field, arrays are replaced. "
        "Send `application/merge-patch+json` (or `application/json`).",
        response_model=Record,
        responses=error_responses(403, 404, 410, 412, *BODY, *ALWAYS),
    )
    async def patch(
        record_id: IdPath,
        changes: Annotated[
            dict[str, Any],
            Body(media_type="application/merge-patch+json", examples=[{"summary": "New text"}]),
        ],
        repository: Repo,
        who: Writer,
        if_match: IfMatch = None,
    ) -> Response:
        written = await repository.patch(
            record_id,
            lambda current: merge_patch(current, changes),
            who,
            if_match=parse_version_tag(if_match, "If-Match"),
        )
        return answer(written, base)

    @router.delete(
        ITEM_PATH,
        operation_id=f"delete_{one}",
        summary=f"Delete a {one}",
        description="Leaves a tombstone: later GETs answer 410, lists leave it out, the "
        "changes feed reports the deletion, and a PUT or restore brings it back.",
        status_code=204,
        responses=error_responses(403, 404, 410, 412, *ALWAYS),
    )
    async def delete(
        record_id: IdPath, repository: Repo, who: Writer, if_match: IfMatch = None
    ) -> Response:
        written = await repository.delete(
            record_id, who, if_match=parse_version_tag(if_match, "If-Match")
        )
        return Response(status_code=204, headers={"ETag": etag(written.version)})

    return router
