"""The principal dependency: who is calling, checked against what the route needs."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.auth.principal import ANONYMOUS, Principal, Role
from service.problems import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer srt_...`")


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller. Anonymous without a key; a bad key is always a 401, never anonymous."""
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send an API key as `Authorization: Bearer <secret>`.")
    found = await request.app.state.keys.verify(credentials.credentials)
    if found is None:
        raise Unauthorized("The API key is not valid or was revoked.")
    request.state.principal = found
    return found  # type: ignore[no-any-return]


async def reader(request: Request, who: Annotated[Principal, Depends(principal)]) -> Principal:
    if who.anonymous and not request.app.state.settings.anonymous_reads:
        raise Unauthorized("Reading needs an API key on this deployment.")
    return who


async def writer(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if who.anonymous:
        raise Unauthorized("Writing needs an API key.")
    if not who.may_write():
        raise Forbidden(f"The role {who.role} may not write records.")
    return who


async def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if who.anonymous:
        raise Unauthorized("This operation needs an admin key.")
    if who.role is not Role.ADMIN:
        raise Forbidden("This operation needs an admin key.")
    return who


Reader = Annotated[Principal, Depends(reader)]
Writer = Annotated[Principal, Depends(writer)]
Admin = Annotated[Principal, Depends(admin)]
