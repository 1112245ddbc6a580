"""The keys API, for admins: issue a key (its secret is shown once), list keys, revoke one,
rotate one (a new secret for the same principal, which is how ownership changes hands).

Revocation is immediate: every request looks its key up by hash, nothing is cached.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from service.auth.deps import Admin
from service.auth.principal import Role
from service.problems import NotFound
from service.web.error_docs import error_responses
from service.web.json_response import JSONBytes
from service.wiring import services_of

KEY_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyRequest(BaseModel):
    """A key to issue. The name becomes the principal: it is the `owner` of the records the
    key creates and the `by` of every revision it writes. A name is never reused, not even
    after its key is revoked."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=KEY_NAME_PATTERN, examples=["partner-aiddata"])
    role: Role = Field(
        description="admin: everything, keys included; editor: any record; partner: creates "
        "records and changes or deletes only the ones it owns; reader: reads (when anonymous "
        "reads are switched off).",
        examples=["partner"],
    )


class IssuedKeyOut(BaseModel):
    name: str
    role: Role
    secret: str = Field(description="Shown only in this answer; only its hash is stored.")


class KeyOut(BaseModel):
    name: str
    role: Role
    created_at: str
    revoked_at: str | None = Field(description="When the key was revoked; null while active.")


class KeyList(BaseModel):
    data: list[KeyOut]


@router.post(
    "",
    operation_id="create_key",
    summary="Issue an API key (admin)",
    description="Answers 201 with the secret, shown only this once. A taken name is a 409, "
    "also when its key was revoked: names are never reused, so a new key cannot take over a "
    "revoked key's records.",
    status_code=201,
    response_model=IssuedKeyOut,
    responses=error_responses(400, 401, 403, 409, 413, 415, 422, 503),
)
async def create_key(
    request: Request,
    key: Annotated[
        KeyRequest,
        Body(
            openapi_examples={
                "partner": {
                    "summary": "A partner system's key",
                    "value": {"name": "partner-aiddata", "role": "partner"},
                }
            }
        ),
    ],
    _: Admin,
) -> Response:
    issued = await services_of(request.app).keys.create(key.name, key.role)
    body = {"name": issued.name, "role": issued.role.value, "secret": issued.secret}
    return JSONBytes(body, status_code=201, headers={"Location": f"/v1/keys/{issued.name}"})


@router.get(
    "",
    operation_id="list_keys",
    summary="List API keys (admin)",
    description="Names, roles, creation and revocation times; never secrets.",
    response_model=KeyList,
    responses=error_responses(401, 403, 422, 503),
)
async def list_keys(request: Request, _: Admin) -> Response:
    return JSONBytes({"data": await services_of(request.app).keys.list()})


@router.delete(
    "/{name}",
    operation_id="revoke_key",
    summary="Revoke an API key (admin)",
    description="Takes effect at once: the next request with that secret answers 401, on "
    "every instance (a deployment that sets `KEY_CACHE_S` lets instances remember keys for "
    "that long, and so delays revocations made elsewhere).",
    status_code=204,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def revoke_key(
    request: Request,
    name: Annotated[str, Path(pattern=KEY_NAME_PATTERN)],
    _: Admin,
) -> Response:
    if not await services_of(request.app).keys.revoke(name):
        raise NotFound(f"There is no active key named {name!r}.")
    return Response(status_code=204)


@router.post(
    "/{name}/rotation",
    operation_id="rotate_key",
    summary="Give a key a new secret (admin)",
    description="The principal stays (its records and revisions keep its name) and the old "
    "secret answers 401 at once. Works on a revoked key too, which makes it active again: "
    "this is how an admin hands a principal's records to someone on purpose.",
    status_code=201,
    response_model=IssuedKeyOut,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def rotate_key(
    request: Request,
    name: Annotated[str, Path(pattern=KEY_NAME_PATTERN)],
    _: Admin,
) -> Response:
    issued = await services_of(request.app).keys.rotate(name)
    if issued is None:
        raise NotFound(f"There is no key named {name!r}.")
    body = {"name": issued.name, "role": issued.role.value, "secret": issued.secret}
    return JSONBytes(body, status_code=201, headers={"Location": f"/v1/keys/{issued.name}"})
