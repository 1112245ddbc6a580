"""Request ids, one structured log line per request, and Prometheus metrics.

`X-Request-ID` is taken from the request when it is a sane token (letters, digits, `._:-`, up
to 100 characters), generated otherwise, and echoed on the answer. The log line names the
route template (not the raw path), the status, the duration and the principal's name, and
never a header value or a secret.
"""

import logging
import re
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from service.middleware.asgi import ASGIApp, Message, Receive, Scope, Send, header, state

log = logging.getLogger("service.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One registry per app, so several apps in one process (the tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer, by route template and method.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.db_errors = Counter(
            "db_errors",
            "Database errors met while answering, by exception type.",
            ["kind"],
            registry=self.registry,
        )
        # Admission control for heavy reads (service/gate.py) and the database's time limit.
        self.heavy_limit = Gauge(
            "db_heavy_reads_limit",
            "Heavy reads (lists, searches, facets, stats, timelines) let in at once.",
            registry=self.registry,
        )
        self.heavy_in_flight = Gauge(
            "db_heavy_reads_in_flight", "Heavy reads running now.", registry=self.registry
        )
        self.heavy_waiting = Gauge(
            "db_heavy_reads_waiting",
            "Heavy reads waiting for a place now.",
            registry=self.registry,
        )
        self.heavy_shed = Counter(
            "db_heavy_reads_shed",
            "Heavy reads refused with a 503 because no place freed within the wait budget.",
            registry=self.registry,
        )
        self.query_time_limit = Gauge(
            "db_query_time_limit_seconds",
            "Time limit of one database operation (client timeout; the server gets maxTimeMS "
            "of what is left of it).",
            registry=self.registry,
        )


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    # The template without convertors: `/v1/events/{record_id}`, not `{record_id:record_id}`.
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else "unmatched"


class Observe:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        given = header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        # A per-request copy of the lifespan state, as the ASGI spec asks of servers (some
        # test harnesses share one dict across requests).
        scope["state"] = {**scope.get("state", {}), "request_id": request_id}
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route, method = route_of(scope), scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            who = state(scope).get("principal")
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "principal": who.name if who is not None else None,
                },
            )
