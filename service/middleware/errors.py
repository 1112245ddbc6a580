"""Unexpected errors become a 500 problem inside the HTTP stack.

Starlette renders an exception that no handler expects in its outermost layer, outside every
middleware of ours, so such an answer had no request id, no security or cache headers and no
log line or metric. This layer sits innermost and turns the exception into the problem
document while the rest of the stack can still see it. An error after the answer has started
cannot be turned into anything and is raised on.
"""

import logging

from service.middleware.asgi import ASGIApp, Message, Receive, Scope, Send, answer
from service.problems import unexpected

log = logging.getLogger("service.problems")


class UnexpectedErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:
                raise
            log.exception("unhandled error", extra={"path": scope["path"]})
            await answer(unexpected(), scope, receive, send)
