"""Small helpers shared by the middleware modules: header lookup and early answers."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from service.problems import Problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (`name` in lower case), decoded as latin-1."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def state(scope: Scope) -> dict[str, Any]:
    """The per-request state dict that `request.state` reads too."""
    return scope.setdefault("state", {})  # type: ignore[no-any-return]


async def answer(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
    await problem.response(scope["path"])(scope, receive, send)
