"""`GET /v1/changes`: the resumable changes feed partners mirror the tracker with."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from service.auth.deps import Reader
from service.problems import Invalid
from service.records.routes.params import COMMA_LIST
from service.web.error_docs import error_responses
from service.web.json_response import JSONBytes
from service.wiring import RESOURCES, services_of

router = APIRouter(prefix="/v1", tags=["changes"])

GUARANTEES = """\
Every write to events and projects, in commit-safe order, deletions included as tombstones.

**How to consume.** Start without `since` (the beginning), apply every change of the page in
order, store `next`, and ask again with `since=<next>`; when `more` is false you are caught
up: wait a little and ask again with the same token.

**Applying a change.** `op: upsert` carries the full record: store it under
(`collection`, `id`), replacing what you hold. `op: delete`: remove (or mark deleted) the
record you hold; a delete for a record you never saw is harmless. Skip a change whose
`version` is lower than the one you already hold (never needed when pages are applied in
order, but it makes replaying a page after a crash safe).

**What you may rely on.**

* *No skips.* A page is served only up to a horizon below which no write is still in flight:
  a write that commits late, out of order, or through another service instance is served
  after your current position, never behind it. A sequence number allocated by a writer that
  died is given up after a few seconds (`change_stale_after_s`, 5 s by default).
* *Convergence.* A consumer that applies every page in order, following `next`, holds exactly
  the server's current records and versions (deletions applied) as of the last page it read.
* *Latest state, at least once.* Each change is the record's state at read time; intermediate
  versions of a record written several times may be collapsed into its latest one (the
  revision history has them all), and a record may appear more than once across pages.
* *Monotonic versions.* Per record, the versions you receive never go down.
* *Durable tokens.* `next` is opaque and signed; it does not expire, and tombstones are kept,
  so a consumer may resume after any pause. Resuming from an older token is safe (you
  re-apply changes you already hold).
* *Fairness of pages.* A page holds at most `limit` changes; `more: true` means ask again at
  once. An empty page with `more: false` can still carry a newer `next`.
"""


class Change(BaseModel):
    collection: str = Field(examples=["projects"])
    id: str = Field(examples=["digital-silk-road"])
    op: str = Field(description="`upsert` or `delete`.", examples=["upsert"])
    version: int = Field(examples=[3])
    record: dict[str, object] | None = Field(
        default=None, description="The full record for an upsert; absent for a delete."
    )


class ChangesPage(BaseModel):
    changes: list[Change]
    next: str = Field(description="Pass as `since` to continue; store it to resume later.")
    more: bool = Field(description="True when more changes are ready now.")


@router.get(
    "/changes",
    operation_id="list_changes",
    summary="Changes feed (sync)",
    description=GUARANTEES,
    response_model=ChangesPage,
    responses=error_responses(401, 422, 503),
)
async def changes(
    request: Request,
    _: Reader,
    since: Annotated[
        str | None,
        Query(max_length=500, description="The `next` of the previous page; none: from the start."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most changes per page.")] = 100,
    collections: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Collections to follow, repeated or comma-separated (default: all).",
            examples=["events,projects"],
            json_schema_extra={COMMA_LIST: {"type": "string", "enum": [r.name for r in RESOURCES]}},
        ),
    ] = None,
) -> Response:
    feed = services_of(request.app).feed
    wanted = feed.collections
    if collections is not None:
        names = [c.strip() for c in collections.split(",") if c.strip()]
        unknown = [c for c in names if c not in feed.collections]
        if unknown or not names:
            raise Invalid(
                f"collections must be a comma-separated subset of {', '.join(feed.collections)}.",
                errors=[{"parameter": "collections", "in": "query", "detail": "unknown name"}],
            )
        wanted = tuple(c for c in feed.collections if c in names)
    page = await feed.page(feed.position(since), limit, wanted)
    return JSONBytes(
        {"changes": page.changes, "next": feed.token(page.position), "more": page.more}
    )
