"""HTTP answers for what goes wrong under a request: the store being down, and a
request FastAPI could not validate (in the one 422 shape, ``api/problems.py``).

A store that cannot be reached, is locked past its timeout, or has no schema yet is
the same condition on every route: 503 with ``Retry-After``, as ingest and
``/readyz`` answered it first. The answer is a response, not a raised error, so the
client's keep-alive connection stays open for its retry.
"""

from __future__ import annotations

import logging
import sqlite3

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException

from detector.api import problems
from detector.api.responses import JSONBytes
from detector.errors import StoreUnavailableError

log = logging.getLogger("detector.api")

# PostgreSQL's undefined_table: the schema is not migrated yet (``detector db upgrade``).
_UNDEFINED_TABLE = "42P01"

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
        return problems.unprocessable(problems.validation_problems(exc))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONBytes:
        return problems.http_error(exc)
