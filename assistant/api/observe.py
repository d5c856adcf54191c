"""Per-request plumbing: a request id, one JSON log line, Prometheus metrics, a body size cap,
HEAD answered as GET.

Written as plain ASGI middleware (no BaseHTTPMiddleware) so that streaming bodies are counted
as they arrive and nothing is buffered twice.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from http import HTTPStatus

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from assistant.api.problems import PROBLEM_JSON, problem_body
from index.errors import BodyTooLarge

log = logging.getLogger("reformqa.access")
REQUEST_ID = "x-request-id"
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
_KNOWN_STATUSES = frozenset(status.value for status in HTTPStatus)


class Metrics:
    """The app's own registry: request counts and latencies by route, the index's size.

    Every label comes from a closed set, so no request can add a series: a method outside
    KNOWN_METHODS or a status HTTP does not define is "other", and the route is a route's
    template or "unmatched" (see `_route_label`)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "reformqa_requests", "HTTP requests", ["method", "route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "reformqa_request_seconds", "Time to answer a request", ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )  # fmt: skip
        self.documents = Gauge("reformqa_index_documents", "Documents", registry=self.registry)
        self.chunks = Gauge("reformqa_index_chunks", "Chunks", registry=self.registry)
        self.ready = Gauge(
            "reformqa_index_ready", "1 when the index answers", registry=self.registry
        )

    def count(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in KNOWN_METHODS else "other"
        code = str(status) if status in _KNOWN_STATUSES else "other"
        self.requests.labels(method, route, code).inc()
        self.latency.labels(method, route).observe(seconds)


class Observe:
    """Request id in and out (X-Request-ID), an access log line, metrics."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        method = scope["method"]  # as sent: HeadAsGet, inside, turns HEAD into GET
        given = _header(scope, REQUEST_ID)
        request_id = given if given and _GOOD_ID.fullmatch(given) else uuid.uuid4().hex
        status = 500

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_label(scope)
            self.metrics.count(method, route, status, elapsed)
            log.info(json.dumps({
                "request_id": request_id, "method": method, "route": route,
                "path": scope["path"], "status": status, "ms": round(elapsed * 1000, 2),
            }))  # fmt: skip


class HeadAsGet:
    """HEAD on every GET route: the GET's status and headers (Content-Length included) and no
    body. Done here rather than by routing, so the OpenAPI document lists no HEAD operations."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)
        scope["method"] = "GET"  # in place: the router notes its route in this scope for Observe

        async def headers_only(message) -> None:
            if message["type"] == "http.response.start":
                scope["method"] = "HEAD"  # the server frames the reply by the method it was sent
            elif message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, headers_only)
        finally:
            scope["method"] = "HEAD"


class BodyLimit:
    """Refuse bodies over `max_bytes` with 413, by their declared length or as they stream in."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = _header(scope, "content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            return await _send_too_large(send, self._detail())
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self._detail())  # mapped to 413 by the problem handlers
            return message

        await self.app(scope, counted_receive, send)

    def _detail(self) -> str:
        return f"the request body is over the limit of {self.max_bytes:,} bytes"


def _route_label(scope) -> str:
    """The matched route's template ("/v1/documents/{doc_id}"), or the mount a file came from
    ("/docs-assets/{path}": a mount adds its path to root_path), never the path itself."""
    template = getattr(scope.get("route"), "path", None)
    if template:
        return template
    app_root = scope.get("app_root_path")
    if app_root is not None and scope.get("root_path", app_root) != app_root:
        return scope["root_path"].removeprefix(app_root) + "/{path}"
    return "unmatched"


def _header(scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None


async def _send_too_large(send, detail: str) -> None:
    body = json.dumps(problem_body(413, "body-too-large", "Request body too large", detail))
    await send({
        "type": "http.response.start", "status": 413,
        "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"connection", b"close")],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body.encode()})


def log_requests_as_json_lines() -> None:
    """Access lines go to stderr as they are (each is already one JSON object)."""
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
