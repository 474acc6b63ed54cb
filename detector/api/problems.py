"""One shape for every 422: ``{"detail": "field: rule; ...", "errors": [{"field",
"message"}, ...]}``. ``detail`` is the one string a person reads, as every other
error of the API gives it; ``errors`` lists each problem for a tool, the way the
ingest answer lists a batch's rejected records. FastAPI's own validation errors
and the routes' own checks both come out in it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from detector.api.responses import JSONBytes

# A query value longer than this is not named back to its sender.
_ECHO_CHARS = 100


def unprocessable(problems: Sequence[tuple[str, str]]) -> JSONBytes:
    return JSONBytes(
        {
            "detail": "; ".join(f"{field}: {message}" for field, message in problems),
            "errors": [{"field": field, "message": message} for field, message in problems],
        },
        status_code=422,
    )


def validation_problems(exc: RequestValidationError) -> list[tuple[str, str]]:
    """(field, message) of each of FastAPI's validation errors; the field is the path
    inside the query, the form or the body (``status``, ``records.3.ts_start``).

    The sender's input is named only for a short query parameter (``status: 'al':
    ...``): a body or a form may hold a password, a 300 MB note, raw bytes or an
    upload, none of which belongs in an answer."""
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        field = ".".join(location[1:]) if len(location) > 1 else ".".join(location) or "request"
        message = str(error.get("msg", "is not valid"))
        given: Any = error.get("input")
        if isinstance(given, bytes):
            message = "must be a JSON object sent with Content-Type: application/json"
        elif isinstance(given, UploadFile):
            message = "must be a text field, not a file"
        elif (
            location[:1] == ["query"]
            and isinstance(given, str | int | float)
            and not isinstance(given, bool)
            and len(str(given)) <= _ECHO_CHARS
        ):
            message = f"{given!r}: {message}"
        problems.append((field, message))
    return problems or [("request", "is not valid")]


def detail_problem(detail: str) -> tuple[str, str]:
    """A route's own "field: message" as (field, message)."""
    field, sep, message = detail.partition(": ")
    if sep and field and " " not in field:
        return field, message
    return "request", detail


def http_error(exc: HTTPException) -> JSONBytes:
    """Starlette's answer to an HTTPException, but 422s in the one shape."""
    if exc.status_code == 422 and isinstance(exc.detail, str):
        return unprocessable([detail_problem(exc.detail)])
    return JSONBytes({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
