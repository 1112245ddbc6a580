"""Response headers every answer gets: security headers and a caching policy.

Successful reads are `Cache-Control: no-cache` (stored, but revalidated every time, which the
record `ETag`s make cheap with `If-None-Match` and 304), `private, no-cache` when a key was
sent; everything else (writes, errors) is `no-store`. The interactive docs need scripts, so
their pages get no Content-Security-Policy; a page that sets its own (the explorer) keeps it;
every API answer gets `default-src 'none'`.
"""

from service.middleware.asgi import ASGIApp, Message, Receive, Scope, Send, header

_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
]
_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_DOCS = ("/docs", "/redoc", "/static-offline-docs")


class ResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        read = scope["method"] in ("GET", "HEAD")
        keyed = header(scope, b"authorization") is not None
        docs = scope["path"].startswith(_DOCS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_ALWAYS)
                if not docs and not any(k == _CSP[0] for k, _ in headers):
                    headers.append(_CSP)
                if not any(k == b"cache-control" for k, _ in headers):
                    status = message["status"]
                    if read and (200 <= status < 300 or status == 304):
                        headers.append(
                            (b"cache-control", b"private, no-cache" if keyed else b"no-cache")
                        )
                    else:
                        headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
