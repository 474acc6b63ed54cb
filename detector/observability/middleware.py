"""Request ids and one access-log line per request, as plain ASGI middleware.

An ``X-Request-ID`` sent by the client (or a proxy) is kept when it is a sane token;
otherwise one is made. Either way it is echoed in the response and set on every log
line written while the request is served. Headers and bodies are never logged.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detector.observability.logs import REQUEST_ID
from detector.observability.metrics import HTTP_REQUESTS, HTTP_SECONDS

HEADER = b"x-request-id"
# Letters, digits and -_.:/ up to 128 characters: what tracing proxies send, and
# nothing that could forge a log line or carry a secret-sized blob.
_SANE = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")

log = logging.getLogger("detector.access")


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            text: str = value.decode("latin-1")
            if _SANE.match(text):
                return text
            break
    return uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                headers.append((HEADER, request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_SECONDS.labels(route).observe(elapsed)
            log.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            REQUEST_ID.reset(token)


def _route_of(scope: Scope) -> str:
    # The route template, not the path: a label per case id would grow without bound.
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"
