"""The route factory: one router of versioned CRUD per resource, the same for every collection.

Routers are thin: they read headers, call the repository once and shape the HTTP answer.
Domain errors come from below as `Problem`s and are rendered in one place (`problems.py`).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from starlette.responses import Response

from service.auth.deps import Reader, Writer
from service.records.http import JSONBytes, etag, matches_any, parse_version_tag
from service.records.merge_patch import merge_patch
from service.records.model import ID_PATTERN
from service.records.repository import Repository, Written
from service.records.resource import Resource
from service.records.responses import error_responses

#: Any record operation can meet a bad key, a bad parameter or a database outage.
ALWAYS = (401, 422, 503)

IdPath = Annotated[str, Path(pattern=ID_PATTERN, description="The record's id (a slug).")]
IfMatch = Annotated[
    str | None,
    Header(description='Version ETag the write applies to, e.g. `"3"`; stale answers 412.'),
]


def _answer(written: Written, base: str, status: int | None = None) -> Response:
    record = written.record
    headers = {"ETag": etag(written.version)}
    if written.status == "created":
        headers["Location"] = f"{base}/{record['id']}"
    code = status or (201 if written.status == "created" else 200)
    return JSONBytes(record, status_code=code, headers=headers)


def build_router(resource: Resource) -> APIRouter:
    name, one = resource.name, resource.singular
    Fields = resource.fields_model
    Record = resource.record_model
    router = APIRouter(prefix=f"/v1/{name}", tags=[name])
    base = f"/v1/{name}"

    async def repo(request: Request) -> Repository:
        # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, and that
        # hop cost more CPU than the rest of a GET by id (seen with py-spy; bench/).
        return request.app.state.repositories[name]  # type: ignore[no-any-return]

    Repo = Annotated[Repository, Depends(repo)]

    @router.get(
        "",
        operation_id=f"list_{name}",
        summary=f"List {name}",
        description="Newest change first, in pages: follow `next` (also sent as a "
        '`Link: <...>; rel="next"` header) until it is null.',
        responses=error_responses(422, *ALWAYS),
    )
    async def list_records(
        request: Request,
        repository: Repo,
        _: Reader,
        limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 25,
        cursor: Annotated[
            str | None, Query(max_length=2000, description="The `next` of the previous page.")
        ] = None,
    ) -> Response:
        page = await repository.list_page(limit=limit, cursor=cursor)
        headers = {}
        if page["next"]:
            url = request.url.include_query_params(cursor=page["next"])
            headers["Link"] = f'<{url}>; rel="next"'
        return JSONBytes(page, headers=headers)

    @router.post(
        "",
        operation_id=f"create_{one}",
        summary=f"Create a {one}",
        description=f"Creates a {one} with an id made from its title. Answers 201 with "
        "`Location` and `ETag`. Server-managed fields in the body are ignored.",
        status_code=201,
        response_model=Record,
        responses=error_responses(401, 403, 413, 415, 422, *ALWAYS),
    )
    async def create(
        record: Annotated[Fields, Body()],  # type: ignore[valid-type]
        repository: Repo,
        who: Writer,
    ) -> Response:
        return _answer(await repository.create(record, who), base)

    @router.get(
        "/{record_id}",
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
        "/{record_id}",
        operation_id=f"put_{one}",
        summary=f"Create or replace a {one}",
        description="201 when created, 200 when replaced or unchanged (a write that changes "
        "nothing makes no new version). `If-Match` pins the version replaced; "
        "`If-None-Match: *` makes the PUT create-only.",
        response_model=Record,
        responses={
            201: {"description": "Created.", "model": Record},
            **error_responses(401, 403, 412, 413, 415, 422, *ALWAYS),
        },
    )
    async def put(
        record_id: IdPath,
        record: Annotated[Fields, Body()],  # type: ignore[valid-type]
        repository: Repo,
        who: Writer,
        if_match: IfMatch = None,
        if_none_match: Annotated[
            str | None, Header(description="`*`: create only, 412 if it exists.")
        ] = None,
    ) -> Response:
        if if_match is not None and if_match.strip() == "*":
            await repository.get(record_id)  # If-Match: * needs a current record
        written = await repository.put(
            record_id,
            record,
            who,
            if_match=parse_version_tag(if_match, "If-Match"),
            create_only=(if_none_match or "").strip() == "*",
        )
        return _answer(written, base)

    @router.patch(
        "/{record_id}",
        operation_id=f"patch_{one}",
        summary=f"Update part of a {one} (JSON Merge Patch)",
        description="RFC 7396: objects merge, `null` removes a field, arrays are replaced. "
        "Send `application/merge-patch+json` (or `application/json`).",
        response_model=Record,
        responses=error_responses(401, 403, 404, 410, 412, 413, 415, 422, *ALWAYS),
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
        return _answer(written, base)

    @router.delete(
        "/{record_id}",
        operation_id=f"delete_{one}",
        summary=f"Delete a {one}",
        description="Leaves a tombstone: later GETs answer 410, lists leave it out, the "
        "changes feed reports the deletion, and a PUT or restore brings it back.",
        status_code=204,
        responses=error_responses(401, 403, 404, 410, 412, *ALWAYS),
    )
    async def delete(
        record_id: IdPath, repository: Repo, who: Writer, if_match: IfMatch = None
    ) -> Response:
        written = await repository.delete(
            record_id, who, if_match=parse_version_tag(if_match, "If-Match")
        )
        return Response(status_code=204, headers={"ETag": etag(written.version)})

    @router.get(
        "/{record_id}/revisions",
        operation_id=f"list_{one}_revisions",
        summary=f"List the revisions of a {one}",
        description="Newest first: version, operation, when and by which key.",
        responses=error_responses(404, *ALWAYS),
    )
    async def revisions(record_id: IdPath, repository: Repo, _: Reader) -> Response:
        return JSONBytes({"data": await repository.revision_list(record_id)})

    @router.get(
        "/{record_id}/revisions/{version}",
        operation_id=f"get_{one}_revision",
        summary=f"Get one revision of a {one}",
        description="The record as it was at that version (`record` is null for a deletion).",
        responses=error_responses(404, *ALWAYS),
    )
    async def revision(
        record_id: IdPath,
        version: Annotated[int, Path(ge=1, le=2**31)],
        repository: Repo,
        _: Reader,
    ) -> Response:
        return JSONBytes(await repository.revision(record_id, version))

    @router.post(
        "/{record_id}/revisions/{version}/restore",
        operation_id=f"restore_{one}",
        summary=f"Restore an earlier revision of a {one}",
        description="Makes that revision's content current as a new version, recording who "
        "restored it; also brings back a deleted record.",
        response_model=Record,
        responses=error_responses(401, 403, 404, 412, *ALWAYS),
    )
    async def restore(
        record_id: IdPath,
        version: Annotated[int, Path(ge=1, le=2**31)],
        repository: Repo,
        who: Writer,
        if_match: IfMatch = None,
    ) -> Response:
        written = await repository.restore(
            record_id, version, who, if_match=parse_version_tag(if_match, "If-Match")
        )
        return _answer(written, base, status=200)

    return router
