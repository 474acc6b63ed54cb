"""The edge every request passes: a body limit, ``nosniff``, and no dropped connection.

Plain ASGI middleware, inside the request-id middleware so that its answers carry
the request's id:

- every body is counted while it is read and refused with 413 once past the limit
  (a declared ``Content-Length`` over it is refused before a byte is read). The
  ingest routes count their own bodies against ``max_body_bytes`` (``read_body``),
  so that OTLP answers keep their own format; every other route, forms and
  decisions included, gets ``max_request_bytes``;
- every answer carries ``X-Content-Type-Options: nosniff``, not only the pages;
- an exception nothing else handled becomes a JSON 500 naming the request id, sent
  as an answer: uvicorn closes a keep-alive connection under any exception that
  reaches it, and the client would see a reset instead of a status.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detector.observability.logs import REQUEST_ID

log = logging.getLogger("detector.api")

_NOSNIFF = (b"x-content-type-options", b"nosniff")


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body passes its limit. An ``HTTPException``, so
    that FastAPI's body parsing passes it on as it is rather than as a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413, detail=f"body: over the limit of {limit} bytes for this endpoint"
        )


class Guard:
    def __init__(self, app: ASGIApp, *, limit: int, own_limit: frozenset[str]) -> None:
        self.app = app
        self.limit = limit
        # Paths whose route reads its body against a limit of its own.
        self.own_limit = own_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", ()))
                if not any(name.lower() == _NOSNIFF[0] for name, _ in headers):
                    headers.append(_NOSNIFF)
                message["headers"] = headers
            await send(message)

        if scope["path"] not in self.own_limit:
            declared = _content_length(scope)
            if declared is not None and declared > self.limit:
                detail = (
                    f"body: {declared} bytes is over the limit of {self.limit} for this endpoint"
                )
                await _answer(sending, 413, {"detail": detail})
                return
            receive = _counted(receive, self.limit)
        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            if isinstance(exc, BodyTooLarge):
                await _answer(sending, 413, {"detail": exc.detail})
                return
            request_id = REQUEST_ID.get()
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            body = {
                "detail": f"internal error; quote request id {request_id} when reporting it",
                "request_id": request_id,
            }
            await _answer(sending, 500, body)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 20 else None
    return None


def _counted(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


async def _answer(send: Send, status: int, body: Mapping[str, object]) -> None:
    content = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
