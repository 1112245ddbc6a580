"""The principal dependency: who is calling, checked against what the route needs."""

import re
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pymongo.errors import PyMongoError
from starlette.types import Scope

from service.auth.principal import ANONYMOUS, Principal, Role
from service.problems import Forbidden, Problem, Unauthorized
from service.wiring import services_of

#: HTTP's optional whitespace is space and tab only (RFC 9110 5.6.3); `str.strip()` would
#: also drop a non-breaking space, accepting a key that was not sent as issued.
_OWS = " \t"
#: The bearer credential syntax (RFC 6750 2.1).
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer srt_...`")


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller. Anonymous without a key; a bad key is always a 401, never anonymous.

    The rate-limit middleware usually identified the caller already (`identify`); then its
    answer, or the error it met, is reused instead of looking the key up twice.
    """
    known = request.scope.get("state", {})
    if "principal" in known:
        return known["principal"]  # type: ignore[no-any-return]
    if "auth_error" in known:
        raise known["auth_error"]
    del credentials  # declared for the OpenAPI security scheme; `identify` reads the header
    found = await identify(request)
    request.state.principal = found
    return found


async def identify(request: Request) -> Principal:
    """The caller for this request, resolved once (from the `Authorization` header)."""
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, secret = header.strip(_OWS).partition(" ")
    secret = secret.strip(_OWS)
    if scheme.lower() != "bearer" or not _TOKEN68.fullmatch(secret):
        raise Unauthorized("Send an API key as `Authorization: Bearer <secret>`.")
    found = await services_of(request.app).keys.verify(secret)
    if found is None:
        raise Unauthorized("The API key is not valid or was revoked.")
    return found


async def identify_once(scope: Scope) -> Principal | None:
    """The caller, identified at most once per request by whichever middleware asks first.

    The outcome is left in the request state for `principal`: the caller, or the error met
    (a bad key: 401; the database down: 503), in which case this returns None.
    """
    known = scope.setdefault("state", {})
    if "principal" in known:
        return known["principal"]  # type: ignore[no-any-return]
    if "auth_error" in known:
        return None
    try:
        found = await identify(Request(scope))
    except (Problem, PyMongoError) as exc:
        known["auth_error"] = exc
        return None
    known["principal"] = found
    return found


async def reader(request: Request, who: Annotated[Principal, Depends(principal)]) -> Principal:
    if who.anonymous and not services_of(request.app).settings.anonymous_reads:
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
