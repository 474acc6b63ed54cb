"""HTTP answers for what goes wrong under a request: the store being down, and a
request FastAPI could not validate.

A store that cannot be reached, is locked past its timeout, or has no schema yet is
the same condition on every route: 503 with ``Retry-After``, as ingest and
``/readyz`` answered it first. The answer is a response, not a raised error, so the
client's keep-alive connection stays open for its retry.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.datastructures import UploadFile

from detector.api.responses import JSONBytes
from detector.errors import StoreUnavailableError

log = logging.getLogger("detector.api")

# PostgreSQL's undefined_table: the schema is not migrated yet (``detector db upgrade``).
_UNDEFINED_TABLE = "42P01"
# ctx values longer than this are the sender's input again, not the rule.
_CTX_CHARS = 200

STORE_DOWN = {"detail": "store unavailable; retry the request (event_id makes ingest retries safe)"}


def store_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the store is unreachable, locked or not migrated, rather
    than that this request did something the store refused."""
    if isinstance(exc, StoreUnavailableError | PoolTimeoutError | sqlite3.OperationalError):
        return True
    if isinstance(exc, DBAPIError):
        return (
            isinstance(exc, OperationalError | InterfaceError)
            or exc.connection_invalidated
            or getattr(exc.orig, "sqlstate", None) == _UNDEFINED_TABLE
        )
    return False


def validation_details(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """FastAPI's validation errors without the sender's input: the input may be a
    password, a 10,000-character note, raw bytes or an upload, none of which belongs
    in an answer (or can always be written as JSON). Each names where and the rule."""
    details = []
    for error in errors:
        loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        rule = str(error.get("msg", "invalid"))
        if isinstance(error.get("input"), bytes):
            rule = "must be a JSON object sent with Content-Type: application/json"
        elif isinstance(error.get("input"), UploadFile):
            rule = "must be a text field, not a file"
        where = ".".join(str(part) for part in loc) or "request"
        item: dict[str, Any] = {
            "loc": loc,
            "msg": rule,
            "type": str(error.get("type", "")),
            "message": f"{where}: {rule}",
        }
        ctx = {
            str(key): value
            for key, value in (error.get("ctx") or {}).items()
            if isinstance(value, int | float | bool)
            or (isinstance(value, str) and len(value) <= _CTX_CHARS)
        }
        if ctx:
            item["ctx"] = ctx
        details.append(item)
    return details


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(StoreUnavailableError)
    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeoutError)
    @app.exception_handler(sqlite3.OperationalError)
    async def store_down(request: Request, exc: Exception) -> JSONBytes:
        if not store_outage(exc):
            # Not an outage: a bug, answered as a 500 by the guard (detector/api/guard.py).
            raise exc
        log.error("store unavailable on %s %s: %s", request.method, request.url.path, exc)
        return JSONBytes(STORE_DOWN, status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONBytes:
        return JSONBytes({"detail": validation_details(exc.errors())}, status_code=422)
