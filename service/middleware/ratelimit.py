"""Rate limits per principal: the API key's name, or the client address when anonymous.

Fixed windows of `window_s` seconds, a limit per role (`anonymous`, `reader`, `partner`,
`editor`, `admin`). Every answer carries `RateLimit-Policy` and `RateLimit` (IETF
draft-ietf-httpapi-ratelimit-headers, structured-field form); past the limit the answer is a
429 problem with `Retry-After`, given before any route runs. Requests with a bad key count
against the client address, so guessing keys is throttled like anonymous traffic.

Counters live in this process, so checking a limit costs no database round trip. With several
processes, each counts on its own: a principal whose requests are spread over N processes gets
up to N x limit per window. Set `rate_limit_processes` to N and each process enforces
limit / N, which holds the global limit exactly when a load balancer spreads a principal's
requests evenly (round robin) and errs on the strict side otherwise (see the README).
"""

import time

from service.auth.deps import identify_once
from service.middleware.asgi import ASGIApp, Message, Receive, Scope, Send, answer
from service.problems import Problem

#: Probes and scrapes are never limited (an orchestrator must always reach them).
EXEMPT = frozenset({"/livez", "/readyz", "/metrics"})


class TooManyRequests(Problem):
    status, slug = 429, "rate-limited"


class FixedWindow:
    """Counts per key in the current window; old windows are dropped as the map grows."""

    def __init__(self, window_s: int) -> None:
        self.window_s = window_s
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, limit: int, now: float) -> tuple[bool, int, int]:
        """(allowed, remaining, seconds until the window resets)."""
        window = int(now // self.window_s)
        seen_window, count = self._counts.get(key, (window, 0))
        if seen_window != window:
            count = 0
        if count < limit:
            count += 1
            if len(self._counts) > 50_000:
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            self._counts[key] = (window, count)
            allowed = True
        else:
            allowed = False
        reset = max(1, int((window + 1) * self.window_s - now + 0.999))
        return allowed, max(0, limit - count), reset


class RateLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: dict[str, int],
        window_s: int,
        processes: int = 1,
        enabled: bool = True,
    ) -> None:
        self.app = app
        self.enabled = enabled
        self.limits = {role: max(1, n // max(1, processes)) for role, n in limits.items()}
        self.windows = FixedWindow(window_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.enabled or scope["path"] in EXEMPT:
            return await self.app(scope, receive, send)
        who = await identify_once(scope)
        if who is None or who.anonymous:
            client = scope.get("client")
            key, policy = f"addr:{client[0] if client else '-'}", "anonymous"
        else:
            key, policy = f"key:{who.name}", str(who.role)
        limit = self.limits.get(policy, self.limits["anonymous"])
        allowed, remaining, reset = self.windows.hit(key, limit, time.time())
        headers = [
            (b"ratelimit-policy", f'"{policy}";q={limit};w={self.windows.window_s}'.encode()),
            (b"ratelimit", f'"{policy}";r={remaining};t={reset}'.encode()),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        if not allowed:
            problem = TooManyRequests(
                f"More than {limit} requests in {self.windows.window_s} s for {policy!r}; "
                f"retry after {reset} s.",
                headers={"Retry-After": str(reset)},
            )
            return await answer(problem, scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)
