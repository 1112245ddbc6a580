"""Revision routes: the history of one record, one revision, and restoring an earlier one."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from service.auth.deps import Reader, Writer
from service.records.resource import Resource
from service.records.routes.item import ITEM_PATH, IdPath
from service.records.routes.openapi_docs import ALWAYS
from service.records.routes.preconditions import IfMatch, parse_version_tag
from service.records.routes.repository_dep import repository_for
from service.records.routes.written import answer
from service.records.storage.repository import Repository
from service.web import answers
from service.web.error_docs import error_responses
from service.web.json_response import JSONBytes


def revision_router(resource: Resource) -> APIRouter:
    name, one = resource.name, resource.singular
    Record = resource.record_model
    router = APIRouter(prefix=f"/v1/{name}", tags=[name])
    base = f"/v1/{name}"
    Repo = Annotated[Repository, Depends(repository_for(resource))]

    @router.get(
        ITEM_PATH + "/revisions",
        operation_id=f"list_{one}_revisions",
        summary=f"List the revisions of a {one}",
        description="Newest first: version, operation, when and by which key.",
        response_model=answers.RevisionList,
        responses=error_responses(404, *ALWAYS),
    )
    async def revisions(record_id: IdPath, repository: Repo, _: Reader) -> Response:
        return JSONBytes({"data": await repository.revision_list(record_id)})

    @router.get(
        ITEM_PATH + "/revisions/{version}",
        operation_id=f"get_{one}_revision",
        summary=f"Get one revision of a {one}",
        description="The record as it was at that version (`record` is null for a deletion).",
        response_model=answers.revision(resource),
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
        ITEM_PATH + "/revisions/{version}/restore",
        operation_id=f"restore_{one}",
        summary=f"Restore an earlier revision of a {one}",
        description="Makes that revision's content current as a new version, recording who "
        "restored it; also brings back a deleted record.",
        response_model=Record,
        responses=error_responses(403, 404, 412, *ALWAYS),
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
        return answer(written, base, status=200)

    return router
